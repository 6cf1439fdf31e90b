#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy's checks, every warning an error) on every
# C and C++ file of the tree that the build compiles: host, sdk, plugins,
# tests, bench, fuzz's sources are not built here (they need clang's
# libFuzzer), examples through their in-tree builds. Uses the build tree's
# compile_commands.json (scripts/build.sh writes it).
# Usage: tidy.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${1:-${CREDPLUG_BUILD_DIR:-$root/build}}
[[ -f $build/compile_commands.json ]] || { echo "tidy: no $build/compile_commands.json; run scripts/build.sh" >&2; exit 2; }
log=$build/tidy.log
if ! run-clang-tidy -p "$build" -quiet -j "${CREDPLUG_JOBS:-2}" "^$root/(host|sdk|plugins|tests|bench|examples)/" >"$log" 2>&1; then
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E ': (warning|error): ' | sort -u >&2 || tail -n 40 "$log" >&2
  echo "tidy: clang-tidy found the problems above (full log: $log)" >&2
  exit 1
fi
echo "tidy: $(grep -c '"file"' "$build/compile_commands.json") files clean"
