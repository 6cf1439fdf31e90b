#!/usr/bin/env bash
# Builds TARGETs in the configured build tree DIR into DIR/build.log: quiet
# when it builds; the compiler's last words and the log's path on stderr when
# it does not (ninja prints errors on stdout: silenced, a failed build once
# ended CI with no message). Shared by sanitize.sh and fuzz.sh.
# Usage: build-quietly.sh CALLER DIR TARGET...   (exit 1 when the build fails)
set -euo pipefail
caller=$1 dir=$2
shift 2
if ! cmake --build "$dir" -j "${CREDPLUG_JOBS:-2}" --target "$@" >"$dir/build.log" 2>&1; then
  grep -E -A8 'error|FAILED' "$dir/build.log" | head -n 60 >&2 || tail -n 40 "$dir/build.log" >&2
  echo "$caller: the build in $dir failed (full log: $dir/build.log)" >&2
  exit 1
fi
