#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds the out-of-tree plugin
# against it with find_package(credplug), and runs it with the installed CLI.
# Usage: run.sh BUILD_DIR SOURCE_DIR GENERATOR
set -euo pipefail
build=$1 src=$2 generator=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "out_of_tree: FAILED: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/credplug lib/credplug/plugins/credplug-ainua.so share/credplug/schemas/ainua.schema.json \
         include/credplug/plugin.h include/credplug/kit.hpp lib/cmake/credplug/credplugConfig.cmake; do
  [[ -e $prefix/$f ]] || fail "not installed: $f"
done

# The installed CLI finds the installed plugins relative to itself.
"$prefix/bin/credplug" plugins | grep -q "$prefix/lib/credplug/plugins/credplug-ainua.so" ||
  fail "the installed credplug does not find the installed ainua plugin"

cmake -S "$src" -B "$prefix/oot" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/oot" >/dev/null
plugin=$prefix/oot/credplug-static-key.so
[[ -f $plugin ]] || fail "the out-of-tree plugin was not built"
exports=$(nm -D --defined-only "$plugin" | awk '{print $3}')
[[ $exports == credplug_get_interface ]] || fail "the plugin exports more than its entry symbol: $exports"

secret="oot-secret-$RANDOM$RANDOM"
printf '{"api_key": "%s"}\n' "$secret" >"$prefix/cred.json"
out=$("$prefix/bin/credplug" --plugin-dir "$prefix/oot" auth static-key "$prefix/cred.json")
grep -q "X-Api-Key: <secret, ${#secret} characters>" <<<"$out" || fail "auth output unexpected: $out"
grep -q "$secret" <<<"$out" && fail "the key leaked without --reveal"
"$prefix/bin/credplug" --plugin-dir "$prefix/oot" auth --reveal static-key "$prefix/cred.json" | grep -q "X-Api-Key: $secret" ||
  fail "--reveal did not print the key"
"$prefix/bin/credplug" --plugin-dir "$prefix/oot" test static-key "$prefix/cred.json" | grep -q "key_length: ${#secret}" ||
  fail "test did not run"
echo "out_of_tree: OK (installed SDK, find_package, plugin loaded by the installed CLI)"
