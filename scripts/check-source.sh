#!/usr/bin/env bash
# The house rules a compiler does not check, on every file git tracks:
#   - the environment is read in one place: no getenv() in host/ or sdk/
#     outside host/src/api/environment.cpp;
#   - the library never writes to the terminal: no std::cerr, std::cout,
#     printf or perror in host/src (its messages go to the embedder's log);
#   - no include reaches another tree by a relative path ("../");
#   - host/src: only api/ includes the façade <credplug/host.hpp>;
#   - the runner includes nothing of the host but plugin/ (its include path
#     enforces it; this says so by name);
#   - .clang-format holds (scripts/format.sh --check).
# Exit 1 naming each broken rule and where.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
cd "$root"
failed=0
rule() {  # rule DESCRIPTION MATCHES
  if [[ -n $2 ]]; then
    echo "check-source: $1:" >&2
    sed 's/^/  /' <<<"$2" >&2
    failed=1
  fi
}
src() { git ls-files "$@" | grep -E '\.(c|h|cpp|hpp)$'; }

rule "getenv() outside host/src/api/environment.cpp (read the environment in one place)" \
  "$(src host sdk | grep -v '^host/src/api/environment.cpp$' | xargs grep -nE '^[^/]*\bgetenv\s*\(' || true)"
rule "the library writes to the terminal (use the Host's logger)" \
  "$(src host/src | xargs grep -nE 'std::(cerr|cout|clog)\b|\b(printf|puts|perror)\s*\(' || true)"
rule "an include reaches another tree by a relative path" \
  "$(src | xargs grep -nE '^\s*#\s*include\s*"\.\./' || true)"
rule "host/src below api/ includes the façade <credplug/host.hpp> (include <credplug/types.hpp>)" \
  "$(src host/src | grep -v '^host/src/api/' | xargs grep -nE '#\s*include\s*<credplug/host\.hpp>' || true)"
rule "the runner includes a host layer other than plugin/" \
  "$(src host/runner | xargs grep -nE '#\s*include\s*"(api|base|cache|fleet|net|schema|secrets|transport)/' || true)"

scripts/format.sh --check || failed=1
((failed)) && exit 1
echo "check-source: the house rules hold"
