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
         include/credplug/plugin.h include/credplug/kit.hpp lib/cmake/credplug/credplugConfig.cmake \
         include/credplug/host.h include/credplug/host.hpp include/credplug/host_json.hpp \
         include/credplug/credential_file.hpp lib/libcredplug-host.so libexec/credplug/credplug-plugin-runner \
         bin/credplug-emulator share/doc/credplug/docs/WRITING_PLUGINS.md share/doc/credplug/docs/EMULATOR.md \
         share/doc/credplug/docs/SANDBOX.md share/doc/credplug/README.md share/doc/credplug/docs/ARCHITECTURE.md share/doc/credplug/CONTRIBUTING.md share/doc/credplug/examples/c-plugin/oauth2_client.c \
         share/doc/credplug/examples/cpp-plugin/oauth2_client.cpp share/doc/credplug/examples/embed/main.cpp; do
  [[ -e $prefix/$f ]] || fail "not installed: $f"
done

# From here on, as users run it: <prefix>/bin on PATH, credplug by name.
export PATH="$prefix/bin:$PATH"
[[ $(command -v credplug) == "$prefix/bin/credplug" ]] || fail "credplug on PATH is not the installed one"

cmake -S "$src" -B "$prefix/oot" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/oot" >/dev/null
plugin=$prefix/oot/credplug-static-key.so
[[ -f $plugin ]] || fail "the out-of-tree plugin was not built"
exports=$(nm -D --defined-only "$plugin" | awk '{print $3}')
[[ $exports == credplug_get_interface ]] || fail "the plugin exports more than its entry symbol: $exports"

secret="oot-secret-$RANDOM$RANDOM"
printf '{"api_key": "%s"}\n' "$secret" >"$prefix/cred.json"
out=$(credplug --plugin-dir "$prefix/oot" auth static-key "$prefix/cred.json")
grep -q "X-Api-Key: <secret, ${#secret} characters>" <<<"$out" || fail "auth output unexpected: $out"
grep -q "$secret" <<<"$out" && fail "the key leaked without --reveal"
credplug --plugin-dir "$prefix/oot" auth --reveal static-key "$prefix/cred.json" | grep -q "X-Api-Key: $secret" ||
  fail "--reveal did not print the key"
credplug --plugin-dir "$prefix/oot" test static-key "$prefix/cred.json" | grep -q "key_length: ${#secret}" ||
  fail "test did not run"
# The embedding example, built against the installed library, calls Ainua's
# API through the emulator with cached headers.
docs=$prefix/share/doc/credplug
examples=$docs/examples/embed
cmake -S "$examples" -B "$prefix/embed" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/embed" >/dev/null
credplug-emulator --make-pki "$prefix/pki" >/dev/null
export EMBED_SECRET="embed-secret-$RANDOM$RANDOM"
credplug-emulator --cert "$prefix/pki/server.pem" --key "$prefix/pki/server-key.pem" \
  --port-file "$prefix/port" --client "ainua:embed-client:@EMBED_SECRET" --client "oauth2:c-example:@EMBED_SECRET" \
  --background --pid-file "$prefix/emulator.pid" >/dev/null
emulator_pid=$(cat "$prefix/emulator.pid")
trap 'kill $emulator_pid 2>/dev/null; rm -rf "$prefix"' EXIT
port=$(cat "$prefix/port")
printf '{"ainua_url": "localhost:%s", "client_id": "embed-client", "client_secret": "%s"}\n' "$port" "$EMBED_SECRET" \
  >"$prefix/ainua.json"

# Every command of the installed credplug, in both isolation modes, started
# three ways (by name from PATH, through a symlink elsewhere, with an argv[0]
# that names no file), each from a working directory that plants a runner
# and a plugin directory where a relative path would look: the installed
# files are found from the executable itself, never from argv[0] or the
# current directory. The planted runner would leave a mark if started.
hostile=$prefix/hostile-cwd
mkdir -p "$hostile/libexec/credplug" "$hostile/lib/credplug/plugins" "$prefix/links"
cat >"$hostile/libexec/credplug/credplug-plugin-runner" <<SH
#!/bin/sh
echo "planted runner started with \$*" >>"$prefix/planted-runner-ran"
exit 1
SH
chmod 755 "$hostile/libexec/credplug/credplug-plugin-runner"
cp "$prefix/lib/credplug/plugins/credplug-ainua.so" "$hostile/lib/credplug/plugins/credplug-planted.so"
ln -s "$prefix/bin/credplug" "$prefix/links/credplug"
export CREDPLUG_CA_FILE=$prefix/pki/ca.pem
by_path() { (cd "$hostile" && credplug "$@"); }
by_symlink() { (cd "$hostile" && "$prefix/links/credplug" "$@"); }
by_bare_argv0() { (cd "$hostile" && exec -a credplug "$prefix/bin/credplug" "$@"); }
for how in by_path by_symlink by_bare_argv0; do
  for isolation in process in-process; do
    export CREDPLUG_ISOLATION=$isolation
    what="credplug started $how, isolation $isolation"
    out=$($how plugins) || fail "$what: plugins failed: $out"
    grep -q "^ainua .*$prefix/lib/credplug/plugins/credplug-ainua.so" <<<"$out" ||
      fail "$what: plugins does not list the installed ainua plugin: $out"
    grep -q planted <<<"$out" && fail "$what: plugins loaded from the working directory: $out"
    # Read whole: grep -q leaving early would end credplug's write with SIGPIPE.
    out=$($how --json plugins) || fail "$what: plugins --json failed"
    grep -q "\"isolation\": \"$isolation\"" <<<"$out" || fail "$what: the plugins do not run $isolation"
    $how schema ainua | grep -q '"client_secret"' || fail "$what: schema failed"
    $how validate ainua "$prefix/ainua.json" >/dev/null || fail "$what: validate failed"
    out=$($how auth ainua "$prefix/ainua.json") || fail "$what: auth failed: $out"
    grep -q "Authorization: <secret" <<<"$out" || fail "$what: auth printed no masked header: $out"
    $how test ainua "$prefix/ainua.json" >/dev/null || fail "$what: test failed"
    $how pin | grep -q "^ainua [0-9a-f]\{64\}  # $prefix/lib/credplug/plugins/credplug-ainua.so$" || fail "$what: pin did not pin ainua"
    out=$($how check-plugin "$prefix/lib/credplug/plugins/credplug-ainua.so" 2>&1) ||
      fail "$what: check-plugin failed: $out"
    (cd "$prefix" && rm -rf "scaffold-$how" && $how new "scaffold-$how" --lang c "$prefix/scaffold-$how" >/dev/null) ||
      fail "$what: new failed"
  done
done
unset CREDPLUG_ISOLATION
[[ -e $prefix/planted-runner-ran ]] && fail "a runner planted in the working directory was started: $(cat "$prefix/planted-runner-ran")"
# The man pages (help2man, from the programs' own --help) and the bash
# completion, installed and working.
for page in credplug credplug-emulator; do
  f=$prefix/share/man/man1/$page.1
  [[ -s $f ]] || fail "no man page installed at $f (is help2man installed? scripts/install-deps.sh)"
  grep -q '^\.SH "EXIT STATUS"' "$f" || fail "$page.1 has no EXIT STATUS section"
  grep -q '???' "$f" && fail "$page.1 lost characters to the locale (???)"
done
grep -q '^check\\-plugin' "$prefix/share/man/man1/credplug.1" || fail "credplug.1 does not list the commands"
completion=$prefix/share/bash-completion/completions/credplug
[[ -f $completion ]] || fail "no bash completion installed at $completion"
complete_words() {  # complete_words WORD... : what pressing TAB after the last word offers
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _credplug; echo "${COMPREPLY[*]}"' \
    _ "$completion" "$@"
}
[[ $(complete_words credplug te) == test ]] || fail "completion of 'te': $(complete_words credplug te)"
[[ $(complete_words credplug --isolation in) == in-process ]] || fail "completion of --isolation"
[[ " $(complete_words credplug auth "") " == *" ainua "* ]] || fail "completion of a plugin id: $(complete_words credplug auth "")"
[[ $(complete_words credplug --plugin-dir "$prefix/oot" schema st) == static-key ]] ||
  fail "completion of an id under --plugin-dir: $(complete_words credplug --plugin-dir "$prefix/oot" schema st)"
[[ $(complete_words credplug test --me) == --metrics ]] || fail "completion of test's options"
[[ $(complete_words credplug se) == serve ]] || fail "completion of 'se': $(complete_words credplug se)"
[[ $(complete_words credplug serve --to) == --token-file ]] || fail "completion of serve's options"
[[ $(complete_words credplug schema --fo) == --form ]] || fail "completion of schema --form"
(cd "$prefix" && [[ $(complete_words credplug auth ainua ainua.js) == ainua.json ]]) || fail "completion of a credential file"

# A credplug copied away from its installation says where it looked, and
# that nothing is there.
mkdir -p "$prefix/lonely/bin" && cp "$prefix/bin/credplug" "$prefix/lonely/bin/"
out=$("$prefix/lonely/bin/credplug" plugins) || fail "a lonely credplug failed: $out"
[[ $out == "No plugins found. Searched: $prefix/lonely/lib/credplug/plugins (no such directory)" ]] ||
  fail "a lonely credplug does not say where it looked: $out"
# The installed README's links lead to installed files.
for link in $(grep -o '](\([A-Za-z_]*/\)*[A-Za-z_.-]*\.md' "$prefix/share/doc/credplug/README.md" | cut -c3- | sort -u); do
  [[ -e $prefix/share/doc/credplug/$link ]] || fail "the installed README links to $link, which is not installed"
done
# A scaffold's test.sh names no path of the machine that wrote it.
grep -q "$prefix" "$prefix/scaffold-by_path/test.sh" && fail "a scaffold's test.sh hard-codes the prefix"
out=$(CREDPLUG_CA_FILE=$prefix/pki/ca.pem "$prefix/embed/embed-example" ainua "$prefix/ainua.json" PATCH \
  "https://localhost:$port/api/integrations/v1/items" '[]' --times 5) || fail "embed-example failed: $out"
grep -q "request 5: HTTP 200 (token #1)" <<<"$out" || fail "embed-example output unexpected: $out"
grep -q "token requests: 1" <<<"$out" || fail "embed-example did not reuse its token: $out"
grep -q "$EMBED_SECRET" <<<"$out" && fail "the example printed the secret"
# The C example plugin (a C-only project: no C++ compiler, no kit), built
# against the installed SDK and run by the installed CLI.
cmake -S "$docs/examples/c-plugin" -B "$prefix/c-plugin" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >/dev/null
cmake --build "$prefix/c-plugin" >/dev/null
exports=$(nm -D --defined-only "$prefix/c-plugin/credplug-oauth2-client-c.so" | awk '{print $3}')
[[ $exports == credplug_get_interface ]] || fail "the C example exports more than its entry symbol: $exports"
printf '{"token_url": "https://localhost:%s/oauth/token", "client_id": "c-example", "client_secret": "%s", "test_url": "https://localhost:%s/oauth/me"}\n' \
  "$port" "$EMBED_SECRET" "$port" >"$prefix/c-example.json"
out=$(credplug --ca-file "$prefix/pki/ca.pem" --plugin-dir "$prefix/c-plugin" test oauth2-client-c \
  "$prefix/c-example.json" 2>&1) || fail "the C example failed: $out"
grep -q "client_id: c-example" <<<"$out" || fail "the C example's test output is unexpected: $out"
grep -q "$EMBED_SECRET" <<<"$out" && fail "the C example's run printed the secret"
# The C++ example, the same provider with the kit.
cmake -S "$docs/examples/cpp-plugin" -B "$prefix/cpp-plugin" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cpp-plugin" >/dev/null
out=$(credplug --ca-file "$prefix/pki/ca.pem" --plugin-dir "$prefix/cpp-plugin" test oauth2-client-cpp \
  "$prefix/c-example.json" 2>&1) || fail "the C++ example failed: $out"
grep -q "client_id: c-example" <<<"$out" || fail "the C++ example's test output is unexpected: $out"

# `credplug new` in both languages: the projects build against the installed
# package and their own test.sh passes against the installed emulator.
for lang in c cpp; do
  (cd "$prefix" && credplug new "acme-$lang" --lang $lang >/dev/null) || fail "credplug new --lang $lang failed"
  for f in CMakeLists.txt "acme-$lang.schema.json" README.md test.sh; do
    [[ -f $prefix/acme-$lang/$f ]] || fail "credplug new --lang $lang did not write $f"
  done
  out=$("$prefix/acme-$lang/test.sh" 2>&1) || fail "the scaffolded $lang project's test.sh failed: $out"
  grep -q "acme-$lang: OK" <<<"$out" || fail "the scaffolded $lang plugin did not pass its test: $out"
  grep -q "client_id: acme-$lang-client" <<<"$out" || fail "the scaffolded $lang plugin's test output is unexpected: $out"
done
# ... and a provider described in JSON: nothing to build, its test.sh passes
# against the installed emulator with the installed credplug.
(cd "$prefix" && credplug new acme-json --lang json >/dev/null) || fail "credplug new --lang json failed"
[[ -f $prefix/acme-json/credplug-acme-json.provider.json ]] || fail "credplug new --lang json wrote no description"
out=$("$prefix/acme-json/test.sh" 2>&1) || fail "the scaffolded described provider's test.sh failed: $out"
grep -q "acme-json: OK" <<<"$out" || fail "the scaffolded described provider did not pass its test: $out"
grep -q "account: test-account" <<<"$out" || fail "the scaffolded described provider's test output is unexpected: $out"
# The README's "Write a plugin" snippets, exactly as printed there, build
# against the installed package.
mkdir -p "$prefix/readme"
awk '/^## Write a plugin/{on=1} on&&/^```cmake/{f=1;next} f&&/^```/{exit} f' "$docs/README.md" >"$prefix/readme/CMakeLists.txt"
awk '/^## Write a plugin/{on=1} on&&/^```cpp/{f=1;next} f&&/^```/{exit} f' "$docs/README.md" >"$prefix/readme/myprovider.cpp"
awk '/^## Write a plugin/{on=1} on&&/^```json/{f=1;next} f&&/^```/{exit} f' "$docs/README.md" >"$prefix/readme/myprovider.schema.json"
[[ -s $prefix/readme/CMakeLists.txt && -s $prefix/readme/myprovider.cpp && -s $prefix/readme/myprovider.schema.json ]] ||
  fail "the README's plugin snippets were not found"
cmake -S "$prefix/readme" -B "$prefix/readme/build" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
  cmake --build "$prefix/readme/build" >/dev/null || fail "the README's plugin snippet does not build"
credplug check-plugin "$prefix/readme/build/credplug-myprovider.so" >"$prefix/readme/check.txt" ||
  fail "the README's plugin is not clean: $(cat "$prefix/readme/check.txt")"

# A provider described to the installed emulator, failing from the start by
# a --switch: the C example reports the outage, naming it.
kill $emulator_pid 2>/dev/null || true
cat >"$prefix/acme.json" <<'JSON'
{"id": "acme", "token": {"path": "/acme/oauth2/token", "client_auth": "basic"}, "api": {"path": "/acme/v1/me"}}
JSON
rm -f "$prefix/port"
credplug-emulator --cert "$prefix/pki/server.pem" --key "$prefix/pki/server-key.pem" \
  --port-file "$prefix/port" --client "acme:acme-app:@EMBED_SECRET" --provider "$prefix/acme.json" \
  --switch acme:fail_status=503 --switch acme:retry_after_s=9 --background --pid-file "$prefix/emulator.pid" >/dev/null
emulator_pid=$(cat "$prefix/emulator.pid")
port=$(cat "$prefix/port")
printf '{"token_url": "https://localhost:%s/acme/oauth2/token", "client_id": "acme-app", "client_secret": "%s", "test_url": "https://localhost:%s/acme/v1/me"}\n' \
  "$port" "$EMBED_SECRET" "$port" >"$prefix/acme-cred.json"
set +e
out=$(credplug --ca-file "$prefix/pki/ca.pem" --plugin-dir "$prefix/c-plugin" test oauth2-client-c \
  "$prefix/acme-cred.json" 2>&1)
rc=$?
set -e
[[ $rc == 6 ]] || fail "the C example against a failing described provider exited $rc, not 6: $out"
grep -q "is failing (HTTP 503).*retry after 9 s" <<<"$out" || fail "the outage was not reported: $out"
echo "out_of_tree: OK (installed SDK and docs, find_package, the installed examples in C++ and C, the README snippet, credplug new in C, C++ and JSON, a provider described to the emulator)"
