#!/usr/bin/env bash
# A real authorization server: node-oidc-provider from npm (server.mjs), over
# HTTPS with a test CA.
# 1. private_key_jwt (RFC 7523 §2.2): the provider described in JSON (the
#    kit's client) and the C example (the host's C helpers) each get a token
#    with an ES256, RS256 or EdDSA key (the described one also with the issuer
#    as the assertion's audience), in both isolation modes; a key the server
#    does not hold is refused with exit 4.
# 2. People's accounts with the oauth2 plugin: `credplug connect` (the
#    authorization code grant with PKCE; curl is the browser), refresh tokens
#    the server rotates on every use written back into the file, a stale copy
#    presented once (the server's reuse detection revokes the grant: exit 8
#    for both copies), connecting again, disconnecting (the grant revoked at
#    the server: exit 8 for the file and an old copy), client_secret_basic
#    with another header form, and a refused consent.
# Usage: run.sh BIN_DIR SOURCE_DIR EXAMPLE_PLUGIN_DIR NODE_DIR
set -euo pipefail
bin=$1 src=$2 examples=$3 node_dir=$4
fail() { echo "oidc: FAILED: $*" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (scripts/install-deps.sh installs them)"

# node-oidc-provider, at the version the lock file pins, once per build tree.
if [[ ! -f $node_dir/node_modules/oidc-provider/package.json ]] ||
  ! cmp -s "$src/tests/oidc/package-lock.json" "$node_dir/package-lock.json"; then
  mkdir -p "$node_dir"
  cp "$src/tests/oidc/package.json" "$src/tests/oidc/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci failed in $node_dir"
fi
cp "$src/tests/oidc/server.mjs" "$node_dir/"

work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
key() {  # key NAME ALGORITHM [OPTIONS...]: NAME.pem and its public half NAME.pub
  openssl genpkey -algorithm "$2" "${@:3}" -out "$work/$1.pem" 2>/dev/null
  openssl pkey -in "$work/$1.pem" -pubout -out "$work/$1.pub"
}
key es256 EC -pkeyopt ec_paramgen_curve:P-256
key rs256 RSA -pkeyopt rsa_keygen_bits:2048
key eddsa ED25519
key stranger EC -pkeyopt ec_paramgen_curve:P-256
key account ED25519
node "$node_dir/server.mjs" "$work/pki/server.pem" "$work/pki/server-key.pem" "$work/port" \
  "described-es256=$work/es256.pub" "c-rs256=$work/rs256.pub" "c-eddsa=$work/eddsa.pub" \
  "account:app-jwt=$work/account.pub" "account:app-basic:app-secret" "account:refused-app:app-secret" \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 600); do  # until it listens (or has ended)
  [[ -s $work/port ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "the authorization server did not start: $(cat "$work/server.log")"
  sleep 0.05
done
[[ -s $work/port ]] || fail "the authorization server did not listen within 30 s"
origin=https://localhost:$(cat "$work/port")
curl -sf --cacert "$work/pki/ca.pem" "$origin/.well-known/openid-configuration" | grep -q '"private_key_jwt"' ||
  fail "the server does not offer private_key_jwt"

credplug() { "$bin/credplug" --ca-file "$work/pki/ca.pem" "$@"; }
expect_token() {  # expect_token WHAT ARGS...: a token, its key nowhere in the output
  local out
  out=$(credplug "${@:2}" 2>&1) || fail "$1: $out"
  grep -q "Authorization: <secret" <<<"$out" || fail "$1: no token: $out"
  grep -q "Expires: " <<<"$out" || fail "$1: no expiry: $out"
  ! grep -q "PRIVATE KEY" <<<"$out" || fail "$1: the key was printed"
}
for isolation in process in-process; do
  cat >"$work/described.json" <<JSON
{"token_url": "$origin/token", "client_id": "described-es256", "private_key": {"\$file": "$work/es256.pem"},
 "api_url": "$origin"}
JSON
  expect_token "described ES256 ($isolation)" --isolation $isolation --plugin-dir "$src/examples/json-provider" \
    auth oauth2-jwt-described "$work/described.json"
  # The issuer identifier as the assertion's audience (FAPI 2.0's choice).
  sed "s|\"api_url\"|\"issuer\": \"$origin\", \"api_url\"|" "$work/described.json" >"$work/issuer.json"
  expect_token "described ES256, aud the issuer ($isolation)" --isolation $isolation \
    --plugin-dir "$src/examples/json-provider" auth oauth2-jwt-described "$work/issuer.json"
  for alg in RS256 EdDSA; do
    lower=$(tr 'A-Z' 'a-z' <<<"$alg")
    cat >"$work/c.json" <<JSON
{"token_url": "$origin/token", "client_id": "c-$lower", "private_key": {"\$file": "$work/$lower.pem"},
 "alg": "$alg", "test_url": "$origin/me"}
JSON
    expect_token "C example $alg ($isolation)" --isolation $isolation --plugin-dir "$examples" \
      auth jwt-client-c "$work/c.json"
  done
  # A key the server does not hold for that client: refused, exit 4.
  sed "s|$work/es256.pem|$work/stranger.pem|" "$work/described.json" >"$work/stranger.json"
  set +e
  out=$(credplug --isolation $isolation --plugin-dir "$src/examples/json-provider" auth oauth2-jwt-described \
    "$work/stranger.json" 2>&1)
  rc=$?
  set -e
  [[ $rc == 4 ]] || fail "a key the server does not hold ($isolation) exited $rc, not 4: $out"
  grep -q "invalid_client" <<<"$out" || fail "the refusal does not say invalid_client: $out"
done

# 2. People's accounts. The browser: curl, following every redirect (the
# server's approval, then the loopback redirect to credplug connect).
printf '#!/bin/sh\nexec curl -sS -L --max-redirs 20 --cacert "%s" -c "%s" -b "%s" -o /dev/null "$1"\n' \
  "$work/pki/ca.pem" "$work/cookies" "$work/cookies" >"$work/approve.sh"
chmod +x "$work/approve.sh"
export BROWSER=$work/approve.sh
refresh_token() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["$state"]["refresh_token"])' "$1"; }
expect_exit() {  # expect_exit WHAT CODE TEXT ARGS...: exits CODE saying TEXT
  local out rc
  set +e
  out=$(credplug "${@:4}" 2>&1)
  rc=$?
  set -e
  [[ $rc == "$2" ]] || fail "$1 exited $rc, not $2: $out"
  grep -q -- "$3" <<<"$out" || fail "$1 does not say '$3': $out"
}
connect() {  # connect FILE: the account connected, its refresh token in FILE
  local out
  out=$(credplug connect --wait 60 oauth2 "$1" 2>&1) || fail "connect $1: $out"
  grep -q "oauth2: connected" <<<"$out" || fail "connect $1: $out"
  refresh_token "$1" >/dev/null || fail "connect $1 wrote no refresh token: $(cat "$1")"
}
cat >"$work/jwt.json" <<JSON
{"authorization_url": "$origin/auth", "token_url": "$origin/token", "userinfo_url": "$origin/me",
 "revocation_url": "$origin/token/revocation", "client_id": "app-jwt", "private_key": {"\$file": "$work/account.pem"}, "signing_alg": "EdDSA",
 "scope": "openid offline_access", "authorization_params": {"prompt": "consent"}}
JSON
connect "$work/jwt.json"
first=$(refresh_token "$work/jwt.json")
cp "$work/jwt.json" "$work/stale.json"
out=$(credplug test oauth2 "$work/jwt.json" 2>&1) || fail "test after connect: $out"
grep -q "oauth2: OK" <<<"$out" || fail "test after connect: $out"
second=$(refresh_token "$work/jwt.json")
[[ $second != "$first" ]] || fail "the server's rotated refresh token was not written back"
expect_token "auth after a rotation (in-process)" --isolation in-process auth oauth2 "$work/jwt.json"
[[ $(refresh_token "$work/jwt.json") != "$second" ]] || fail "the second rotation was not written back"
grep -q '"\$file": "'"$work/account.pem"'"' "$work/jwt.json" || fail "the \$file reference was not kept: $(cat "$work/jwt.json")"
# The stale copy presents a refresh token already used: the server revokes
# the grant, so the current file needs reauthorization too.
expect_exit "a stale copy" 8 "reauthoriz" auth oauth2 "$work/stale.json"
expect_exit "the current file after the server revoked the grant" 8 "reauthoriz" auth oauth2 "$work/jwt.json"
grep -q "refresh token already used" "$work/server.log" || fail "the server did not see the reuse: $(cat "$work/server.log")"
connect "$work/jwt.json"  # the person connects again: mended
expect_token "auth after connecting again" auth oauth2 "$work/jwt.json"
cp "$work/jwt.json" "$work/kept.json"
out=$(credplug disconnect oauth2 "$work/jwt.json" 2>&1) || fail "disconnect: $out"
grep -q "oauth2: disconnected" <<<"$out" || fail "disconnect: $out"
grep -q '"\$state": {}' "$work/jwt.json" || fail "disconnect left state behind: $(cat "$work/jwt.json")"
expect_exit "the file after disconnecting" 8 "disconnected" auth oauth2 "$work/jwt.json"
expect_exit "a copy kept from before disconnecting" 8 "reauthoriz" auth oauth2 "$work/kept.json"

cat >"$work/basic.json" <<JSON
{"authorization_url": "$origin/auth", "token_url": "$origin/token", "userinfo_url": "$origin/me",
 "client_id": "app-basic", "client_secret": "app-secret", "header_name": "X-Access-Token", "header_prefix": "",
 "scope": "openid offline_access", "authorization_params": {"prompt": "consent"}}
JSON
connect "$work/basic.json"
out=$(credplug auth oauth2 "$work/basic.json" 2>&1) || fail "auth with client_secret_basic: $out"
grep -q "X-Access-Token: <secret" <<<"$out" || fail "the header form was not followed: $out"
! grep -q "app-secret" <<<"$out" || fail "the client secret was printed"
sed 's/"app-basic"/"refused-app"/' "$work/basic.json" >"$work/refused.json"
expect_exit "a refused consent" 4 "access_denied" connect --wait 60 oauth2 "$work/refused.json"
echo "oidc: OK (node-oidc-provider: private_key_jwt for the described provider ES256 with the token URL or the issuer as audience and the C example RS256 and EdDSA, in both isolation modes, a stranger's key refused; people's accounts with oauth2: connect with PKCE, two rotations written back, a stale copy's reuse revoking the grant (exit 8), connecting again, disconnecting (revoked at the server), client_secret_basic with another header, a refused consent)"
