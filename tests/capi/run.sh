#!/usr/bin/env bash
# Starts the provider emulator, then drives the C embedding API from C
# (capi_test) and from Python ctypes (capi_test.py) against it.
# Usage: run.sh BIN_DIR LIB_DIR PLUGIN_DIR SOURCE_DIR HOSTILE_PLUGIN_DIR ABI_PLUGIN_DIR
set -euo pipefail
bin=$1 lib=$2 plugins=$3 src=$4 hostile=$5 abi=$6
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  # KILL: its handlers may still sleep through the requests exit_in_flight left.
  [[ -n $emulator_pid ]] && kill -KILL "$emulator_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export CREDPLUG_TEST_AINUA_SECRET="capi-secret-$RANDOM$RANDOM"
export CREDPLUG_TEST_STATIC_KEY="capi-static-key-$RANDOM$RANDOM"
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
# The API the described keyed-api provider (examples/json-provider) talks to.
echo '{"id": "keyed-api", "auth": "api_key", "api": {"header": "X-Api-Key"}}' >"$work/keyed-api.json"
# --background returns once it listens (or with why it cannot).
"$bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" --port-file "$work/port" \
  --client "ainua:connector-1:@CREDPLUG_TEST_AINUA_SECRET" --provider "$work/keyed-api.json" \
  --client "keyed-api:keyed-account:@CREDPLUG_TEST_STATIC_KEY" --background --pid-file "$work/emulator.pid" >/dev/null
emulator_pid=$(cat "$work/emulator.pid")

export CREDPLUG_TEST_PLUGIN_DIR=$plugins
export CREDPLUG_TEST_HOSTILE_DIR=$hostile
export CREDPLUG_TEST_ABI_DIR=$abi
export CREDPLUG_TEST_DESCRIBED_DIR=$src/../../examples/json-provider
export CREDPLUG_CA_FILE=$work/pki/ca.pem
export CREDPLUG_TEST_AINUA_HOST=localhost:$(cat "$work/port")
export CREDPLUG_TEST_HOST_LIB=$lib/libcredplug-host.so
"$bin/capi_test"
# Under sanitizers (scripts/sanitize.sh) the interpreter needs their runtime.
env ${CREDPLUG_PYTHON_ENV:-} python3 "$src/capi_test.py"

# A process ending with token requests in flight (exit_in_flight.c), by
# exit() with everything open and by releasing everything and returning: it
# ends at once (the emulator holds each request 30 s: no waiting for them),
# with status 0, and its plugin runners end with it.
switch_delay() {
  curl -sS --fail --cacert "$work/pki/ca.pem" -d "provider=ainua&delay_ms=$1" \
    "https://$CREDPLUG_TEST_AINUA_HOST/_emulator/switches" >/dev/null
}
printf '{"ainua_url":"%s","client_id":"connector-1","client_secret":"%s"}' "$CREDPLUG_TEST_AINUA_HOST" \
  "$CREDPLUG_TEST_AINUA_SECRET" >"$work/credential.json"
switch_delay 30000
for isolation in process in-process; do
  for how in exit exit exit free; do  # a crash at exit() is likely, not certain, in one run
    start=$SECONDS
    # What exit() leaves open is meant to be: not a leak to report.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$bin/exit_in_flight" "$plugins" "$CREDPLUG_CA_FILE" "$work/credential.json" "$how" "$isolation" >"$work/exit.out"
    took=$((SECONDS - start))
    what="exit_in_flight ($how, $isolation)"
    ((took < 20)) || { echo "$what took $took s: it waited for calls in flight" >&2; exit 1; }
    runners=$(sed -n 's/^runners://p' "$work/exit.out")
    if [[ $isolation == process ]]; then
      [[ -n ${runners// /} ]] || { echo "$what had no plugin runner" >&2; exit 1; }
    fi
    for pid in $runners; do  # each sees its channel close and ends
      for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      ! kill -0 "$pid" 2>/dev/null || { echo "$what left its runner $pid behind" >&2; exit 1; }
    done
    echo "$what: ended in ${took} s with 8 token requests in flight; runners:${runners:- none} ended"
  done
done
# (The emulator's handlers sleep through what exit_in_flight left: it is killed, not reset.)
