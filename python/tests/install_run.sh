#!/usr/bin/env bash
# As a Python platform installs credplug: the build installed into a
# temporary prefix, `pip install ./python` in a virtualenv (nothing from
# PyPI: pkg-config finds the installed library), then examples/python's
# script calls the emulator's API with the requests adapter, plugins found
# where the installed library is.
# Usage: install_run.sh PYTHON BUILD_DIR SOURCE_DIR
set -euo pipefail
python=$1 build=$2 src=$3
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  [[ -n $emulator_pid ]] && kill "$emulator_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "python_install: FAILED: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" >/dev/null
# --system-site-packages: requests from Debian's python3-requests.
"$python" -m venv --system-site-packages "$work/venv"
cp -r "$src/python" "$work/python-src"  # pip builds in the source tree: keep the checkout clean
PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig "$work/venv/bin/pip" install --no-index -q "$work/python-src" ||
  fail "pip install ./python"
where=$(cd / && "$work/venv/bin/python" -c 'import credplug; print(credplug.__file__)')
[[ $where == "$work/venv/"* ]] || fail "credplug imported from $where, not the virtualenv"

export PATH=$work/prefix/bin:$PATH
secret="py-install-$RANDOM$RANDOM"
credplug-emulator --make-pki "$work/pki" >/dev/null
CLIENT_SECRET=$secret credplug-emulator --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" \
  --port-file "$work/port" --client "ainua:installed-client:@CLIENT_SECRET" --background \
  --pid-file "$work/emulator.pid" >/dev/null
emulator_pid=$(cat "$work/emulator.pid")
origin=https://localhost:$(cat "$work/port")
printf '{"ainua_url": "%s", "client_id": "installed-client", "client_secret": "%s"}' "$origin" "$secret" \
  >"$work/credential.json"

out=$(cd "$work" && env -u CREDPLUG_PLUGIN_PATH CREDPLUG_CA_FILE="$work/pki/ca.pem" \
  "$work/venv/bin/python" "$src/examples/python/call_api.py" ainua "$work/credential.json" \
  "$origin/api/integrations/v1/items")
[[ $out == 200* ]] || fail "the example printed: $out"
! grep -q "$secret" <<<"$out" || fail "the secret was printed"
tokens=$(curl -sS --cacert "$work/pki/ca.pem" "$origin/_emulator/count?endpoint=ainua.token")
[[ $tokens == '{"count":1}' ]] || fail "token requests: $tokens"
echo "python_install: pip install ./python, then examples/python/call_api.py: $out"
