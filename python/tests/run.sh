#!/usr/bin/env bash
# The Python package's pytest suite, against the package built in the build
# tree. Usage: run.sh PYTHON BUILD_DIR
set -euo pipefail
python=$1 build=$2
export PYTHONPATH=$build/python
export CREDPLUG_TEST_BIN=$build/bin
export CREDPLUG_TEST_PLUGIN_DIR=$build/lib/credplug/plugins
cd "$(dirname "$0")"
exec "$python" -m pytest -q -p no:cacheprovider "${@:3}" .
