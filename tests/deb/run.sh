#!/usr/bin/env bash
# The Debian package as a user gets it: `cpack -G DEB` in the build tree,
# the .deb unpacked into a temporary root (dpkg-deb -x, no root needed), and
# from its usr/bin on PATH: `credplug plugins`, `credplug test` against the
# packaged emulator, `credplug serve` with curl as the client, and the
# packaged Python package.
# Usage: run.sh BUILD_DIR PYTHON
set -euo pipefail
build=$1 python=${2:-/usr/bin/python3}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "deb: FAILED: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null) || fail "cpack -G DEB"
deb=$(ls "$work"/out/credplug_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for need in libcurl4 libssl3 libseccomp2 libhiredis libpsl5 libcpp-httplib ca-certificates; do
  [[ $depends == *"$need"* ]] || fail "Depends lacks $need: $depends"
done
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/credplug usr/bin/credplug-emulator usr/libexec/credplug/credplug-plugin-runner \
         usr/lib/credplug/plugins/credplug-ainua.so usr/share/credplug/schemas/avni.schema.json \
         usr/lib/libcredplug-host.so usr/include/credplug/host.h usr/include/credplug/plugin.h \
         usr/lib/cmake/credplug/credplugConfig.cmake usr/lib/pkgconfig/credplug-host.pc \
         usr/share/doc/credplug/docs/SIDECAR.md usr/share/doc/credplug/packaging/credplug.service \
         usr/share/man/man1/credplug.1; do
  [[ -e $work/root/$f ]] || fail "not in the package: $f"
done
! dpkg-deb -c "$deb" | grep -q "/usr/local/" || fail "files under /usr/local"
! readelf -S "$work/root/usr/bin/credplug" | grep -q '\.symtab' || fail "credplug is not stripped"

# From here on, as a user runs it: the package's usr/bin on PATH.
export PATH=$work/root/usr/bin:$PATH
unset CREDPLUG_PLUGIN_PATH CREDPLUG_RUNNER CREDPLUG_CA_FILE
cd "$work"
plugins=$(credplug plugins)
for id in ainua avni avonhealth aws nexla oauth2 opencrvs; do
  grep -q "^$id " <<<"$plugins" || fail "credplug plugins lacks $id: $plugins"
done
grep -q "$work/root/usr/lib/credplug/plugins" <<<"$(credplug --json plugins)" || fail "not the package's plugin directory"

secret="deb-$RANDOM$RANDOM"
credplug-emulator --make-pki pki >/dev/null
S=$secret credplug-emulator --cert pki/server.pem --key pki/server-key.pem --port-file port \
  --client "ainua:deb-client:@S" --background --pid-file emulator.pid >/dev/null
pids+=("$(cat emulator.pid)")
origin=https://localhost:$(cat port)
printf '{"ainua_url": "%s", "client_id": "deb-client", "client_secret": "%s"}' "$origin" "$secret" >cred.json
credplug --ca-file pki/ca.pem test ainua cred.json >test.out || fail "credplug test: $(cat test.out)"
! grep -q "$secret" test.out || fail "the secret was printed"

credplug --ca-file pki/ca.pem serve --socket "$work/s.sock" 2>serve.log &
pids+=($!)
for _ in $(seq 3000); do [[ -S $work/s.sock ]] && break; sleep 0.01; done
[[ -S $work/s.sock ]] || fail "serve did not listen: $(cat serve.log)"
curl -sS --fail --unix-socket "$work/s.sock" -X PUT --data-binary "{\"plugin\": \"ainua\", \"credential\": $(cat cred.json)}" \
  http://sidecar/v1/credentials/deb >/dev/null || fail "PUT to the sidecar"
curl -sS --fail --unix-socket "$work/s.sock" http://sidecar/v1/credentials/deb/headers | grep -q '"Authorization":"Bearer ' ||
  fail "headers from the sidecar"
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" || fail "serve exited $?"

if [[ -d $work/root/usr/lib/python3/dist-packages/credplug ]]; then
  PYTHONPATH=$work/root/usr/lib/python3/dist-packages CREDPLUG_CA_FILE=$work/pki/ca.pem "$python" - "$work" <<'PY' || fail "the packaged Python package"
import json, sys, credplug
work = sys.argv[1]
assert credplug.__file__.startswith(work + "/root/usr/lib/python3/dist-packages/"), credplug.__file__
with credplug.Host() as host, host.open("ainua", open(work + "/cred.json").read()) as cred:
    assert cred.headers()["Authorization"].startswith("Bearer ")
PY
fi
pc=$(PKG_CONFIG_PATH=$work/root/usr/lib/pkgconfig pkg-config --cflags --libs credplug-host)
[[ $pc == *"$work/root/usr/lib/pkgconfig/../../include"* ]] || fail "pkg-config: $pc"
echo "deb: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB): plugins, test, serve and the Python package from PATH"
