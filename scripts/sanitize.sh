#!/usr/bin/env bash
# Builds credplug twice more, with sanitizers, and runs the suites each one
# watches. Any sanitizer report fails the run.
#   ASan + UBSan (build-asan/): unit, runner_unit, abi and e2e in both
#     isolation modes (in-process loads the shipped plugins into an ASan
#     host), and capi (C and Python).
#   TSan (build-tsan/): the concurrent parts: validation on many threads,
#     the token cache, the many-file CLI (test --jobs), the C API from threads,
#     Credential::sign() from threads (aws:*), a described provider's
#     headers() from threads (described:*), token requests of one credential
#     on 16 threads, one redemption per refresh token (credential state:*),
#     check-plugin's concurrency check, the shared cache, the sidecar
#     (`credplug serve` with 16 clients at once; serve runs under ASan too).
# Usage: sanitize.sh [asan|tsan]...   (default: both)
set -euo pipefail
# Nothing built here may be writable by every user: credplug refuses to load
# plugins from such paths, whatever umask the caller had.
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
jobs=${CREDPLUG_JOBS:-2}
kinds=("$@")
((${#kinds[@]})) || kinds=(asan tsan)

build() {  # build DIR SANITIZERS
  cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCREDPLUG_BUILD_TESTS=ON \
    -DCREDPLUG_SANITIZE="$2" >/dev/null
  "$root/scripts/build-quietly.sh" sanitize.sh "$1" unit_tests runner_unit_tests abi_tests e2e_tests capi_test \
    credplug credplug-emulator credplug_host_shared credplug-aws credplug-oauth2 credplug-ainua
}

# A sandboxed runner's sanitizer reports go to files in DIR/sanitizer-reports
# (its stderr is /dev/null): any that is not empty fails the run.
reports_clean() {  # reports_clean DIR
  local found
  found=$(find "$1/sanitizer-reports" -type f -size +0 2>/dev/null || true)
  if [[ -n $found ]]; then
    for f in $found; do echo "== sanitizer report of a plugin runner: $f" >&2; head -n 60 "$f" >&2; done
    return 1
  fi
  find "$1/sanitizer-reports" -type f -empty -delete 2>/dev/null || true
}

for kind in "${kinds[@]}"; do
  case $kind in
    asan)
      dir=$root/build-asan
      echo "== ASan + UBSan: building in $dir"
      build "$dir" address,undefined
      rm -rf "$dir/sanitizer-reports"
      export ASAN_OPTIONS=abort_on_error=0:halt_on_error=1:detect_leaks=1:exitcode=86
      export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
      # Python is not built with ASan: the runtime (and the C++ runtime whose
      # throw it intercepts) must be loaded first, and
      # the interpreter's own allocations are not ours to check for leaks.
      export CREDPLUG_PYTHON_ENV="LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libstdc++.so.6) ASAN_OPTIONS=halt_on_error=1:detect_leaks=0:exitcode=86"
      (cd "$dir" && ctest --output-on-failure -j "$jobs" -R '^(unit|runner_unit|abi|abi_in_process|e2e|e2e_in_process|capi|serve)$')
      reports_clean "$dir"
      ;;
    tsan)
      dir=$root/build-tsan
      echo "== TSan: building in $dir"
      build "$dir" thread
      rm -rf "$dir/sanitizer-reports"
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=88:suppressions=$root/scripts/tsan.supp"
      export CREDPLUG_PYTHON_ENV="LD_PRELOAD=$(gcc -print-file-name=libtsan.so):$(gcc -print-file-name=libstdc++.so.6) TSAN_OPTIONS=halt_on_error=1:exitcode=88:suppressions=$root/scripts/tsan.supp"
      "$dir/bin/unit_tests" -tc='*threads*,cache clock:*,cache events:*,cache read path:*,system clock:*,shared token store:*,metrics:*,runner process:*'
      "$dir/bin/abi_tests"
      "$dir/bin/e2e_tests" -tc='cache:*,operators*,test: many files*,*kept-alive*,isolated*,egress*,check-plugin*,shared cache*,aws:*,described:*,credential state:*'
      (cd "$dir" && ctest --output-on-failure -R '^(capi|serve)$')
      reports_clean "$dir"
      ;;
    *) echo "sanitize.sh: unknown kind '$kind' (asan or tsan)" >&2; exit 2 ;;
  esac
done
echo "sanitizers: no report"
