#!/usr/bin/env bash
# private_key_jwt (RFC 7523 §2.2) against a real authorization server:
# node-oidc-provider from npm (server.mjs), over HTTPS with a test CA. The
# provider described in JSON (the kit's client) and the C example (the host's
# C helpers) each get a token with an ES256, RS256 or EdDSA key (the
# described one also with the issuer as the assertion's audience), in both
# isolation modes; a key the server does not hold is refused with exit 4.
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
node "$node_dir/server.mjs" "$work/pki/server.pem" "$work/pki/server-key.pem" "$work/port" \
  "described-es256=$work/es256.pub" "c-rs256=$work/rs256.pub" "c-eddsa=$work/eddsa.pub" 2>"$work/server.log" &
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
echo "oidc: OK (private_key_jwt against node-oidc-provider: the described provider ES256 with the token URL or the issuer as audience, the C example RS256 and EdDSA, in both isolation modes; a stranger's key refused)"
