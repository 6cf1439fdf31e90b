#!/usr/bin/env bash
# Configures and builds credplug (with tests and the emulator) into build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CREDPLUG_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCREDPLUG_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j "${CREDPLUG_JOBS:-2}"
