#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs
# each from its checked-in seed corpus for a while. A crash, leak, timeout or
# sanitizer report fails the run and leaves the input in build-fuzz/findings/.
# Usage: fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 20 s, all)
# The seed is fixed (CREDPLUG_FUZZ_SEED, default 1) so a CI run is repeatable;
# set CREDPLUG_FUZZ_SEED=0 for a random one when fuzzing to explore.
set -euo pipefail
# Nothing built here may be writable by every user: credplug refuses to load
# plugins from such paths, whatever umask the caller had.
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
seconds=${1:-20}
shift || true
targets=("$@")
# Every target in fuzz/targets.txt (the one list) unless named.
((${#targets[@]})) || mapfile -t targets < <(grep -E '^[a-z_]+$' "$root/fuzz/targets.txt")
build=$root/build-fuzz
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCREDPLUG_FUZZ=ON \
  -DCREDPLUG_BUILD_TESTS=OFF >/dev/null
"$root/scripts/build-quietly.sh" fuzz.sh "$build" "${targets[@]/#/fuzz_}"
mkdir -p "$build/findings"
for t in "${targets[@]}"; do
  work=$build/corpus/$t  # grows across runs; the seeds stay as checked in
  mkdir -p "$work"
  echo "== fuzz_$t: ${seconds} s"
  log=$build/fuzz_$t.log
  if ! "$build/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -seed="${CREDPLUG_FUZZ_SEED:-1}" -artifact_prefix="$build/findings/$t-" -print_final_stats=1 "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz_$t found a failure: the input is in $build/findings/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | sed "s/^/  fuzz_$t /"
done
echo "fuzzing: no failure"
