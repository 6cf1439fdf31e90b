#!/usr/bin/env bash
# Starts the provider emulator, then drives the C embedding API from C
# (capi_test) and from Python ctypes (capi_test.py) against it.
# Usage: run.sh BIN_DIR LIB_DIR PLUGIN_DIR SOURCE_DIR HOSTILE_PLUGIN_DIR
set -euo pipefail
bin=$1 lib=$2 plugins=$3 src=$4 hostile=$5
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  [[ -n $emulator_pid ]] && kill "$emulator_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export CREDPLUG_TEST_AINUA_SECRET="capi-secret-$RANDOM$RANDOM"
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
# --background returns once it listens (or with why it cannot).
"$bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" --port-file "$work/port" \
  --client "ainua:connector-1:@CREDPLUG_TEST_AINUA_SECRET" --background --pid-file "$work/emulator.pid" >/dev/null
emulator_pid=$(cat "$work/emulator.pid")

export CREDPLUG_TEST_PLUGIN_DIR=$plugins
export CREDPLUG_TEST_HOSTILE_DIR=$hostile
export CREDPLUG_CA_FILE=$work/pki/ca.pem
export CREDPLUG_TEST_AINUA_HOST=localhost:$(cat "$work/port")
export CREDPLUG_TEST_HOST_LIB=$lib/libcredplug-host.so
"$bin/capi_test"
# Under sanitizers (scripts/sanitize.sh) the interpreter needs their runtime.
env ${CREDPLUG_PYTHON_ENV:-} python3 "$src/capi_test.py"
