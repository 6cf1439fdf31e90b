#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
set -euo pipefail
# Nothing built here may be writable by every user: credplug refuses to load
# plugins from such paths, whatever umask the caller had.
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${CREDPLUG_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j 2
