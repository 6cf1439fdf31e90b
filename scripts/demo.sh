#!/usr/bin/env bash
# Installs what is missing, builds, starts the local provider emulator with a
# test CA made on the spot, and runs credplug against it: list the plugins,
# validate a credential, authenticate, and run the connection test.
set -euo pipefail
# Nothing built here may be writable by every user: credplug refuses to load
# plugins from such paths, whatever umask the caller had.
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
bin=${CREDPLUG_BUILD_DIR:-$root/build}/bin

work=$(mktemp -d)
emulator_pid=""
cleanup() {
  [[ -n $emulator_pid ]] && kill "$emulator_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The demo's secrets: random, passed by environment, never on a command line.
for v in AINUA_CLIENT_SECRET NEXLA_SERVICE_KEY OPENCRVS_CLIENT_SECRET AVON_CLIENT_SECRET AVON_USER_KEY AVNI_PASSWORD; do
  export "$v=demo-$(openssl rand -hex 16)"
done
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
# --background returns once it listens (or says why it cannot).
"$bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" --port-file "$work/port" \
  --client "ainua:demo-connector:@AINUA_CLIENT_SECRET" \
  --client "nexla:42:@NEXLA_SERVICE_KEY" \
  --client "opencrvs:2fd153ab-86c8-45fb-990d-721140e46061:@OPENCRVS_CLIENT_SECRET" \
  --client "avonhealth:demo-org:@AVON_CLIENT_SECRET" --client "avonhealth-user:user_demo:@AVON_USER_KEY" \
  --client "avni-user:demo.user:@AVNI_PASSWORD" --background --pid-file "$work/emulator.pid" >/dev/null
emulator_pid=$(cat "$work/emulator.pid")
origin="https://localhost:$(cat "$work/port")"

cat >"$work/ainua.json" <<JSON
{"ainua_url": "${origin#https://}", "client_id": "demo-connector", "client_secret": {"\$env": "AINUA_CLIENT_SECRET"},
 "test_request_method": "PATCH", "test_request_path": "/api/integrations/v1/items", "test_request_body": "[]"}
JSON
cat >"$work/nexla.json" <<JSON
{"api_url": "$origin/nexla-api", "service_key": {"\$env": "NEXLA_SERVICE_KEY"}}
JSON
cat >"$work/opencrvs.json" <<JSON
{"auth_url": "$origin/opencrvs/auth", "gateway_url": "$origin/opencrvs/gateway",
 "client_id": "2fd153ab-86c8-45fb-990d-721140e46061", "client_secret": {"\$env": "OPENCRVS_CLIENT_SECRET"}}
JSON
cat >"$work/avonhealth.json" <<JSON
{"base_url": "$origin", "client_id": "demo-org", "client_secret": {"\$env": "AVON_CLIENT_SECRET"},
 "user_id": "user_demo", "user_secret_key": {"\$env": "AVON_USER_KEY"}}
JSON
cat >"$work/avni.json" <<JSON
{"base_url": "$origin", "token_flow": "avni_password", "username": "demo.user", "password": {"\$env": "AVNI_PASSWORD"}}
JSON

export CREDPLUG_CA_FILE="$work/pki/ca.pem"
run() { echo; echo "\$ credplug $*"; "$bin/credplug" "$@"; }
echo "credplug demo — provider emulators at $origin (TLS, test CA $CREDPLUG_CA_FILE)"
run plugins
run validate ainua "$work/ainua.json"
run auth ainua "$work/ainua.json"
run test opencrvs "$work/opencrvs.json"

# One row per provider: authenticate + connection test, as JSON, summarised.
field() { sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n 1; }
echo
printf '%-12s %-28s %-22s %s\n' PROVIDER RESULT "TOKEN EXPIRES (UTC)" TIME
failures=0
for id in ainua avni avonhealth nexla opencrvs; do
  json=$("$bin/credplug" --json test "$id" "$work/$id.json" || true)
  if [[ $(field ok <<<"$json") == true ]]; then
    printf '%-12s %-28s %-22s %s ms\n' "$id" "OK (connection test passed)" "$(field expires_at_iso <<<"$json")" "$(field elapsed_ms <<<"$json")"
  else
    printf '%-12s %-28s %s\n' "$id" "FAILED ($(field kind <<<"$json"))" "$(field message <<<"$json")"
    failures=$((failures + 1))
  fi
done
echo
if ((failures)); then
  echo "demo: $failures provider(s) failed" >&2
  exit 1
fi
echo "demo: OK"
