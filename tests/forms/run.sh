#!/usr/bin/env bash
# The form export checked with AJV 8 from npm (check_forms.mjs).
# Usage: run.sh BIN_DIR PLUGIN_DIR SOURCE_DIR NODE_DIR
set -euo pipefail
bin=$1 plugins=$2 src=$3 node_dir=$4
fail() { echo "forms: FAILED: $*" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (scripts/install-deps.sh installs them)"
# AJV at the version the lock file pins, once per build tree.
if [[ ! -f $node_dir/node_modules/ajv/package.json ]] || ! cmp -s "$src/package-lock.json" "$node_dir/package-lock.json"; then
  mkdir -p "$node_dir"
  cp "$src/package.json" "$src/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci failed in $node_dir"
fi
cp "$src/check_forms.mjs" "$src/credentials.json" "$node_dir/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node "$node_dir/check_forms.mjs" "$bin/credplug" "$plugins" "$work"
