#!/usr/bin/env bash
# `credplug serve`: pytest with Python requests as the client (Unix socket
# and TCP), then curl and a Node client (examples/sidecar) against one.
# Usage: run.sh PYTHON BUILD_DIR SOURCE_DIR
set -euo pipefail
python=$1 build=$2 src=$3
export CREDPLUG_TEST_BIN=$build/bin
export CREDPLUG_TEST_PLUGIN_DIR=$build/lib/credplug/plugins
cd "$(dirname "$0")"
"$python" -m pytest -q -p no:cacheprovider "${@:4}" test_sidecar.py
exec ./clients.sh "$build" "$src"
