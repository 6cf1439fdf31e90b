#!/usr/bin/env bash
# Configures and builds credplug (with tests and the emulator) into build/.
set -euo pipefail
# Nothing built here may be writable by every user: credplug refuses to load
# plugins from such paths, whatever umask the caller had.
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CREDPLUG_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCREDPLUG_BUILD_TESTS=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$build" -j "${CREDPLUG_JOBS:-2}"
