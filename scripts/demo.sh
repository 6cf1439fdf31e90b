#!/usr/bin/env bash
# Installs what is missing, builds, starts the local provider emulator with a
# test CA made on the spot, and runs credplug against it: list the plugins,
# validate a credential, authenticate, and run the connection test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
bin=${CREDPLUG_BUILD_DIR:-$root/build}/bin

work=$(mktemp -d)
emulator_pid=""
cleanup() {
  [[ -n $emulator_pid ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The demo's client secret: random, passed by environment, never on a command line.
export AINUA_CLIENT_SECRET="demo-$(openssl rand -hex 16)"
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
"$bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" \
  --port-file "$work/port" --client "ainua:demo-connector:@AINUA_CLIENT_SECRET" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.05; done
[[ -s $work/port ]] || { echo "demo: the emulator did not start" >&2; cat "$work/emulator.log" >&2; exit 1; }
port=$(cat "$work/port")

cat >"$work/ainua.json" <<JSON
{
  "ainua_url": "localhost:$port",
  "client_id": "demo-connector",
  "client_secret": {"\$env": "AINUA_CLIENT_SECRET"},
  "test_request_method": "PATCH",
  "test_request_path": "/api/integrations/v1/items",
  "test_request_body": "[]"
}
JSON

export CREDPLUG_CA_FILE="$work/pki/ca.pem"
run() { echo; echo "\$ credplug $*"; "$bin/credplug" "$@"; }
echo "credplug demo — Ainua emulator at https://localhost:$port (TLS, test CA $CREDPLUG_CA_FILE)"
run plugins
run validate ainua "$work/ainua.json"
run auth ainua "$work/ainua.json"
run test ainua "$work/ainua.json"
echo
echo "demo: OK"
