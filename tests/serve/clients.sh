#!/usr/bin/env bash
# `credplug serve` with curl and Node (examples/sidecar/call_api.mjs) as
# clients: what a program in another language does.
# Usage: clients.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "serve clients: FAILED: $*" >&2; exit 1; }
wait_file() { for _ in $(seq 3000); do [[ -e $1 ]] && return 0; sleep 0.01; done; fail "no $1"; }

secret="curl-$RANDOM$RANDOM"
"$build/bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
S=$secret "$build/bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" \
  --port-file "$work/port" --client "ainua:curl-client:@S" --background --pid-file "$work/emulator.pid" >/dev/null
pids+=("$(cat "$work/emulator.pid")")
origin=https://localhost:$(cat "$work/port")
cred=$(printf '{"plugin": "ainua", "credential": {"ainua_url": "%s", "client_id": "curl-client", "client_secret": "%s"}}' "$origin" "$secret")

env -u CREDPLUG_PLUGIN_PATH "$build/bin/credplug" --plugin-dir "$build/lib/credplug/plugins" --ca-file "$work/pki/ca.pem" \
  serve --socket "$work/credplug.sock" 2>"$work/serve.log" &
pids+=($!)
wait_file "$work/credplug.sock"
sock=(--unix-socket "$work/credplug.sock")
code=$(curl -sS "${sock[@]}" -o "$work/put.json" -w '%{http_code}' -X PUT --data-binary "$cred" http://sidecar/v1/credentials/acme)
[[ $code == 201 ]] || fail "PUT answered $code: $(cat "$work/put.json")"
curl -sS "${sock[@]}" --fail http://sidecar/v1/credentials/acme/headers >"$work/headers.json"
grep -q '"Authorization":"Bearer ' "$work/headers.json" || fail "headers: $(cat "$work/headers.json")"
code=$(curl -sS "${sock[@]}" -o "$work/err.json" -w '%{http_code}' http://sidecar/v1/credentials/nobody/headers)
[[ $code == 404 ]] && grep -q '"kind":"not_found"' "$work/err.json" || fail "unknown credential: $code $(cat "$work/err.json")"
echo "serve clients: curl over the Unix socket: PUT 201, headers, 404 for an unknown credential"

if command -v node >/dev/null; then
  out=$(NODE_EXTRA_CA_CERTS=$work/pki/ca.pem node "$src/examples/sidecar/call_api.mjs" "$work/credplug.sock" acme PATCH \
    "$origin/api/integrations/v1/items" '[]')
  [[ $out == 200* ]] || fail "the Node client printed: $out"
  # The API refuses every token so far: the client reports it, the sidecar takes one new token.
  curl -sS --fail --cacert "$work/pki/ca.pem" -d 'provider=ainua&revoke=1' "$origin/_emulator/switches" >/dev/null
  out=$(NODE_EXTRA_CA_CERTS=$work/pki/ca.pem node "$src/examples/sidecar/call_api.mjs" "$work/credplug.sock" acme PATCH \
    "$origin/api/integrations/v1/items" '[]')
  [[ $out == 200* ]] || fail "after a 401 the Node client printed: $out"
  tokens=$(curl -sS --cacert "$work/pki/ca.pem" "$origin/_emulator/count?endpoint=ainua.token")
  [[ $tokens == '{"count":2}' ]] || fail "token requests: $tokens"
  echo "serve clients: node examples/sidecar/call_api.mjs: 200, and 200 after a 401 with one new token"
else
  echo "serve clients: no node: the Node client was not run" >&2
fi
# The socket's mode is the wall: another user cannot connect (curl's exit 7).
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  chmod 755 "$work"
  other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  rc=0
  "${other[@]}" curl -sS "${sock[@]}" http://sidecar/v1/credentials/acme/headers >/dev/null 2>&1 || rc=$?
  [[ $rc == 7 ]] || fail "another user reached the sidecar's socket (curl exit $rc)"
  echo "serve clients: uid 65534 cannot connect to the 0600 socket"
fi
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" || fail "serve exited $?"
! grep -q "$secret" "$work/serve.log" || fail "the secret is in the sidecar's log"

# An unprivileged user's default socket: a private directory of its own.
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  private=/tmp/credplug-65534
  setpriv --reuid=65534 --regid=65534 --clear-groups env -u CREDPLUG_PLUGIN_PATH "$build/bin/credplug" \
    --plugin-dir "$build/lib/credplug/plugins" serve 2>"$work/serve-user.log" &
  pids+=($!)
  for _ in $(seq 3000); do [[ -S $private/credplug.sock ]] && break; sleep 0.01; done
  [[ -S $private/credplug.sock ]] || fail "no default socket for uid 65534: $(cat "$work/serve-user.log")"
  [[ $(stat -c '%u %a' "$private") == "65534 700" ]] || fail "$private is $(stat -c '%u %a' "$private")"
  [[ $(stat -c '%u %a' "$private/credplug.sock") == "65534 600" ]] || fail "the socket is $(stat -c '%u %a' "$private/credplug.sock")"
  kill -TERM "${pids[-1]}"
  wait "${pids[-1]}" || fail "serve (uid 65534) exited $?"
  [[ ! -e $private/credplug.sock ]] || fail "the socket stayed after serve stopped"
  echo "serve clients: uid 65534's default socket: $private/credplug.sock (0600, in a 0700 directory of its own)"
fi

# TCP with a bearer token.
env -u CREDPLUG_PLUGIN_PATH "$build/bin/credplug" --plugin-dir "$build/lib/credplug/plugins" --ca-file "$work/pki/ca.pem" \
  serve --listen 127.0.0.1:0 --port-file "$work/sidecar.port" --token-file "$work/token" 2>"$work/serve-tcp.log" &
pids+=($!)
wait_file "$work/sidecar.port"
base=http://127.0.0.1:$(cat "$work/sidecar.port")
code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/v1/plugins")
[[ $code == 401 ]] || fail "no token: $code"
auth=(-H "Authorization: Bearer $(cat "$work/token")")
curl -sS --fail "${auth[@]}" -X PUT --data-binary "$cred" "$base/v1/credentials/acme" >/dev/null
curl -sS --fail "${auth[@]}" "$base/v1/credentials/acme/headers" | grep -q '"Authorization":"Bearer ' || fail "TCP headers"
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" || fail "serve (TCP) exited $?"
echo "serve clients: curl over TCP: 401 without the token, headers with it"
