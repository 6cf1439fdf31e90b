#!/usr/bin/env bash
# The form export checked with AJV 8 from npm (check_forms.mjs), then
# rendered by react-jsonschema-form in headless Chromium (render_forms.mjs).
# Usage: run.sh BIN_DIR PLUGIN_DIR SOURCE_DIR NODE_DIR
set -euo pipefail
bin=$1 plugins=$2 src=$3 node_dir=$4
fail() { echo "forms: FAILED: $*" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (scripts/install-deps.sh installs them)"
# The packages at the versions the lock files pin, once per build tree.
npm_ci() {  # npm_ci SOURCE_DIR NODE_DIR PROBE_PACKAGE
  if [[ ! -f $2/node_modules/$3/package.json ]] || ! cmp -s "$1/package-lock.json" "$2/package-lock.json"; then
    mkdir -p "$2"
    cp "$1/package.json" "$1/package-lock.json" "$2/"
    (cd "$2" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci failed in $2"
  fi
}
npm_ci "$src" "$node_dir" ajv
cp "$src/check_forms.mjs" "$src/credentials.json" "$node_dir/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node "$node_dir/check_forms.mjs" "$bin/credplug" "$plugins" "$work"

chromium=$(command -v chromium || true)
[[ -n $chromium ]] || fail "chromium is needed to render the forms (scripts/install-deps.sh installs it)"
npm_ci "$src/render" "$node_dir/render" @rjsf/core
cp "$src/render_forms.mjs" "$src/render/app.jsx" "$node_dir/render/"
node "$node_dir/render/render_forms.mjs" "$bin/credplug" "$plugins" "$work" "$chromium"
