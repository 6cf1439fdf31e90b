#include "scaffold.hpp"

#include <credplug/host.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

// The examples' files, embedded at build time (EmbedFile.cmake).
extern "C" const char credplug_template_c_source[], credplug_template_c_schema[], credplug_template_cpp_source[],
    credplug_template_cpp_schema[], credplug_template_json_description[];

namespace credplug::cli {
namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string text, const std::string &from, const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

void write_file(const fs::path &path, const std::string &text, bool executable = false) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw Error(ErrorKind::InvalidInput, "cannot write " + path.string());
  if (executable)
    fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
}

std::string cmake_lists(const std::string &id, bool c, const std::string &source) {
  std::string project = id;
  std::replace(project.begin(), project.end(), '-', '_');
  return "# The " + id +
         " credential plugin for credplug. Build against an installed credplug:\n"
         "#   cmake -S . -B build -DCMAKE_PREFIX_PATH=/opt/credplug && cmake --build build\n"
         "cmake_minimum_required(VERSION 3.20)\n"
         "project(" +
         project + (c ? " LANGUAGES C)\n" : " LANGUAGES CXX)\nset(CMAKE_CXX_STANDARD 17)\n") +
         "\nfind_package(credplug 0.1 REQUIRED)\n"
         "credplug_add_plugin(" +
         id + " SOURCES " + source + " SCHEMA " + id + ".schema.json)\n";
}

std::string readme(const std::string &id, bool c, const std::string &source) {
  return "# " + id +
         "\n\n"
         "A credplug provider plugin, written in " +
         std::string(c ? "C" : "C++") +
         ", scaffolded by `credplug new`: an OAuth 2.0\n"
         "client-credentials provider (RFC 6749 §4.4) to adapt to your provider's contract.\n\n"
         "- `" +
         source + "`: the plugin. " +
         (c ? "The host's helpers (ABI minor 2) read JSON, encode forms and read token responses."
            : "The kit (`credplug/kit.hpp`) does the OAuth request and reads the answer.") +
         "\n"
         "- `" +
         id +
         ".schema.json`: the credential's JSON Schema (draft-04). Every field has a title and a\n"
         "  description; secrets carry `\"writeOnly\": true` (the host masks them everywhere and warns about\n"
         "  a field whose name says secret without it); a `pattern` comes with an `x-pattern-hint`.\n"
         "- `test.sh`: builds the plugin and runs `credplug test` on it against `credplug-emulator`'s plain\n"
         "  OAuth 2.0 provider, with a test CA it makes.\n\n"
         "```sh\n./test.sh                     # CREDPLUG_BIN=/opt/credplug/bin if credplug is elsewhere\n"
         "credplug --plugin-dir build test " +
         id +
         " my-credential.json\n```\n\n"
         "The plugin runs sandboxed (no files, sockets or programs; requests only to the origins its\n"
         "credential names). The ABI rules are beside each declaration in `credplug/plugin.h`.\n";
}

// The head of every test.sh: where credplug is.
const char *kFindCredplug = R"SH(#!/usr/bin/env bash
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# credplug and credplug-emulator: from CREDPLUG_BIN, else wherever PATH has them.
if [[ -z ${CREDPLUG_BIN:-} ]]; then
  found=$(command -v credplug) || { echo "test.sh: credplug is not on PATH; add <prefix>/bin to PATH or set CREDPLUG_BIN" >&2; exit 2; }
  CREDPLUG_BIN=$(dirname "$(readlink -f "$found")")
fi
bin=$CREDPLUG_BIN
)SH";

std::string test_script(const std::string &id) {
  return std::string(kFindCredplug) +
         R"SH(# Builds the plugin, then runs `credplug test` on it against credplug-emulator's
# plain OAuth 2.0 provider (POST /oauth/token, GET /oauth/me) over HTTPS with
# a CA made for the run. Exit 0 when the connection test passes.
build=${BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build" -DCMAKE_PREFIX_PATH="$bin/.." >/dev/null
cmake --build "$build" >/dev/null
work=$(mktemp -d)
trap '[[ -s $work/pid ]] && kill "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"' EXIT
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
export TEST_SECRET="test-secret-$RANDOM$RANDOM"
# --background returns once it listens, on a free port it names.
"$bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" --port-file "$work/port" \
  --client "oauth2:)SH" +
         id + R"SH(-client:@TEST_SECRET" --background --pid-file "$work/pid" >/dev/null
origin=https://localhost:$(cat "$work/port")
cat >"$work/credential.json" <<JSON
{"token_url": "$origin/oauth/token", "client_id": ")SH" +
         id + R"SH(-client", "client_secret": {"\$env": "TEST_SECRET"},
 "test_url": "$origin/oauth/me"}
JSON
"$bin/credplug" --ca-file "$work/pki/ca.pem" --plugin-dir "$build" test )SH" +
         id + R"SH( "$work/credential.json"
)SH";
}

std::string json_readme(const std::string &id) {
  return "# " + id +
         "\n\n"
         "A credplug provider described in JSON, scaffolded by `credplug new --lang json`: an API that takes a\n"
         "key in the `X-Api-Key` header. No code and nothing to build: the host reads `credplug-" +
         id +
         ".provider.json`\n"
         "and does what it says (docs/DESCRIBED_PROVIDERS.md has every member, and where a provider needs code).\n\n"
         "- `credplug-" +
         id +
         ".provider.json`: the credential's JSON Schema (draft-04; secrets `\"writeOnly\": true`), how\n"
         "  the credential becomes the request's header (`auth`) and the connection test (`test`).\n"
         "- `test.sh`: runs `credplug check-plugin` and `credplug test` on it against `credplug-emulator`,\n"
         "  which plays an API taking such a key, with a test CA it makes.\n\n"
         "```sh\n./test.sh                     # CREDPLUG_BIN=/opt/credplug/bin if credplug is elsewhere\n"
         "credplug --plugin-dir . test " +
         id + " my-credential.json\n```\n";
}

std::string json_test_script(const std::string &id) {
  return std::string(kFindCredplug) +
         R"SH(# The description's checks, then `credplug test` against credplug-emulator
# playing an API that takes a key in X-Api-Key (GET /)SH" +
         id + R"SH(/me), over HTTPS with a CA made
# for the run. Exit 0 when both pass.
work=$(mktemp -d)
trap '[[ -s $work/pid ]] && kill "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"' EXIT
"$bin/credplug-emulator" --make-pki "$work/pki" >/dev/null
export TEST_KEY="test-key-$RANDOM$RANDOM"
cat >"$work/api.json" <<'JSON'
{"id": ")SH" +
         id + R"SH(", "auth": "api_key", "api": {"header": "X-Api-Key"}}
JSON
"$bin/credplug-emulator" --cert "$work/pki/server.pem" --key "$work/pki/server-key.pem" --port-file "$work/port" \
  --provider "$work/api.json" --client ")SH" +
         id + R"SH(:test-account:@TEST_KEY" --background --pid-file "$work/pid" >/dev/null
cat >"$work/credential.json" <<JSON
{"api_url": "https://localhost:$(cat "$work/port")", "api_key": {"\$env": "TEST_KEY"}}
JSON
"$bin/credplug" --ca-file "$work/pki/ca.pem" check-plugin "$here/credplug-)SH" +
         id + R"SH(.provider.json" --credential "$work/credential.json" >/dev/null
"$bin/credplug" --ca-file "$work/pki/ca.pem" --plugin-dir "$here" test )SH" +
         id + R"SH( "$work/credential.json"
)SH";
}

}  // namespace

ScaffoldReport write_scaffold(const std::string &id, const std::string &lang, std::string dir) {
  if (!std::regex_match(id, std::regex("[a-z0-9][a-z0-9_-]{0,63}")))
    throw Error(
        ErrorKind::InvalidInput,
        "the plugin id '" + id + "' is not 1-64 characters of a-z, 0-9, '_' and '-' starting with a letter or digit");
  if (lang != "c" && lang != "cpp" && lang != "json")
    throw Error(ErrorKind::InvalidInput, "--lang must be c, cpp or json, not '" + lang + "'");
  const bool c = lang == "c";
  if (dir.empty()) dir = id;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    throw Error(ErrorKind::InvalidInput, dir + " exists and is not empty; name a new directory");
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::InvalidInput, "cannot create " + dir + ": " + ec.message());
  const fs::path root(dir);

  if (lang == "json") {
    const std::string name = "credplug-" + id + ".provider.json";
    const std::string description = replace_all(replace_all(credplug_template_json_description, "keyed-api", id),
                                                "Keyed API (API key in a header)", id);
    write_file(root / name, description);
    write_file(root / "README.md", json_readme(id));
    write_file(root / "test.sh", json_test_script(id), /*executable=*/true);
    return {dir, {name, "README.md", "test.sh"}, int(std::count(description.begin(), description.end(), '\n'))};
  }

  const std::string example_id = c ? "oauth2-client-c" : "oauth2-client-cpp";
  const std::string example_name = c ? "OAuth 2.0 client (C example)" : "OAuth 2.0 client (C++ example)";
  auto adapt = [&](const char *text) {
    return replace_all(replace_all(text, example_id, id), example_name, id + " (OAuth 2.0 client credentials)");
  };
  const std::string source_name = id + (c ? ".c" : ".cpp");
  const std::string source = adapt(c ? credplug_template_c_source : credplug_template_cpp_source);
  write_file(root / source_name, source);
  write_file(root / (id + ".schema.json"), adapt(c ? credplug_template_c_schema : credplug_template_cpp_schema));
  write_file(root / "CMakeLists.txt", cmake_lists(id, c, source_name));
  write_file(root / "README.md", readme(id, c, source_name));
  write_file(root / "test.sh", test_script(id), /*executable=*/true);
  return {dir,
          {source_name, id + ".schema.json", "CMakeLists.txt", "README.md", "test.sh"},
          int(std::count(source.begin(), source.end(), '\n'))};
}

}  // namespace credplug::cli
