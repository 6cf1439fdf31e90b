#!/usr/bin/env bash
# Installs the Debian packages credplug needs to build and test, if missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config binutils ca-certificates openssl
  libboost-dev          # Boost.DLL (header-only)
  libcurl4-openssl-dev  # HTTPS client
  rapidjson-dev         # JSON and JSON Schema validation
  libssl-dev            # OpenSSL: HS256, wiping, the test PKI
  libseccomp-dev        # the plugin runner's sandbox (seccomp-bpf)
  libcli11-dev          # CLI argument parsing
  doctest-dev           # unit and end-to-end tests
  libcpp-httplib-dev    # the provider emulator's HTTPS server
  libhiredis-dev        # the shared token cache's Redis client
  libpsl-dev publicsuffix  # x-credplug-egress patterns checked against the Public Suffix List
  redis-server          # tests/: the shared token cache's Redis (started by the tests themselves)
  libbenchmark-dev      # bench/ (Google Benchmark)
  python3               # tests/capi: the C API driven through ctypes
  curl                  # bench/: the sequential-curl baseline and process-start floor
  bsdutils              # script(1): the CLI's progress bar tested on a pseudo-terminal
  help2man              # the man pages, made from credplug --help at build time
  clang libclang-rt-14-dev  # fuzz/: libFuzzer (scripts/fuzz.sh)
  clang-format clang-tidy   # scripts/check-source.sh, scripts/tidy.sh
  python3-requests python3-authlib  # bench/: the Python thread-pool baseline
  pybind11-dev python3-dev python3-venv  # python/: the Python package (a pybind11 extension; pip install in a venv)
  python3-pytest python3-httpx          # python/tests: pytest, and the httpx adapter
  python3-requests-unixsocket           # tests/serve: Python requests over the sidecar's Unix socket
  nodejs                # tests/oidc: node-oidc-provider, a real authorization server; tests/forms: AJV 8, rjsf
  chromium              # tests/forms: react-jsonschema-form renders the form export in headless Chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with some builds of nodejs (NodeSource's) and apart in Debian's.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "credplug: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
