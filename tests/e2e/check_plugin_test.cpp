// `credplug check-plugin`: the shipped plugins and the examples are clean;
// each mistake of the sloppy test plugin is named; a live run against the
// emulator authenticates, tests and hammers one instance from 8 threads.
#include "fixture.hpp"

#include <doctest/doctest.h>
#include <credplug/kit/json.hpp>

#include <filesystem>

using namespace credplug;
using namespace credplug::testing;

TEST_CASE("check-plugin: the shipped plugins and both examples are clean") {
  std::vector<std::string> files;
  for (const char *dir : {CREDPLUG_PLUGIN_DIR, CREDPLUG_EXAMPLE_PLUGIN_DIR})
    for (const auto &entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".so") files.push_back(entry.path().string());
  REQUIRE(files.size() == 11);
  for (const auto &file : files) {
    CAPTURE(file);
    auto r = E2E::get().cli({"check-plugin", file});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "  ok    create: create() accepted a credential made from the schema"));
    CHECK(contains(r.out, "  ok    concurrency: 8 threads x 4 rounds of create/destroy"));
    CHECK(contains(r.out, "\nclean ("));
  }
}

TEST_CASE("check-plugin: every mistake is named, and the run exits 7") {
  auto r = E2E::get().cli({"check-plugin", CREDPLUG_SLOPPY_PLUGIN});
  CHECK(r.exit_code == 7);
  for (const std::string expected :
       {"FAIL  exports", "(sloppy_helper): build with hidden visibility", "display_name is empty",
        "version '1.0' is not MAJOR.MINOR.PATCH", "/$schema: declare \"http://json-schema.org/draft-04/schema#\"",
        "/properties/host: no \"title\"", "/properties/client_secret: no \"description\"",
        "/properties/host: a \"pattern\" without \"x-pattern-hint\"",
        "schema property 'client_secret' (/properties/client_secret) looks like a secret but lacks \"writeOnly\"",
        "a secret of the credential appears hex-encoded in",
        "a secret of the credential appears in part (8 characters of it; a key prefix is a leak too) in",
        "NOT clean"}) {
    CAPTURE(expected);
    CHECK(contains(r.out, expected));
  }
  r = E2E::get().cli({"check-plugin", std::string(CREDPLUG_ABI_PLUGIN_DIR) + "/credplug-mangled-entry.so"});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out, "does not export credplug_get_interface() with C linkage (found _Z22credplug_get_interface"));
  r = E2E::get().cli({"check-plugin", std::string(CREDPLUG_ABI_PLUGIN_DIR) + "/credplug-no-init.so"});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out, "FAIL  load"));
  CHECK(contains(r.out, "its descriptor has no init function"));
  r = E2E::get().cli({"check-plugin", std::string(CREDPLUG_ABI_PLUGIN_DIR) + "/credplug-not-elf.so"});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out, "FAIL  exports"));
  r = E2E::get().cli({"check-plugin", "/etc/hostname"});
  CHECK(r.exit_code == 7);
  CHECK(contains(
      r.out,
      "the host finds plugins only as credplug-<id>.so, and described providers as credplug-<id>.provider.json"));
}

TEST_CASE("check-plugin --credential: a live run against the emulator, as JSON") {
  auto &env = E2E::get();
  env.reset();
  env.emu->add_client("oauth2", "check-client", kCanary);
  env.emu->set_option("oauth2", "client_auth", "");
  const std::string origin = env.emu->origin();
  const std::string file = env.write_new("check", R"({"token_url":")" + origin +
                                                      R"(/oauth/token","client_id":"check-client","client_secret":")" +
                                                      kCanary + R"(","test_url":")" + origin + R"(/oauth/me"})");
  auto r =
      env.trusted({"--json", "check-plugin", std::string(CREDPLUG_EXAMPLE_PLUGIN_DIR) + "/credplug-oauth2-client-c.so",
                   "--credential", file, "--threads", "6"});
  CHECK(r.exit_code == 0);
  auto doc = kit::JsonDocument::parse_object(r.out);
  REQUIRE(doc);
  CHECK(doc->boolean("clean") == true);
  CHECK(doc->string("id") == "oauth2-client-c");
  std::map<std::string, std::string> status;
  for (int i = 0; doc->has("/checks/" + std::to_string(i)); ++i)
    status[*doc->string("/checks/" + std::to_string(i) + "/name")] =
        *doc->string("/checks/" + std::to_string(i) + "/status");
  CHECK(status == std::map<std::string, std::string>{{"file", "pass"},
                                                     {"exports", "pass"},
                                                     {"load", "pass"},
                                                     {"descriptor", "pass"},
                                                     {"schema", "pass"},
                                                     {"egress", "pass"},
                                                     {"create", "pass"},
                                                     {"live", "pass"},
                                                     {"concurrency", "pass"},
                                                     {"secrets", "pass"}});
  CHECK(contains(r.out, "6 threads x 4 rounds of create/destroy and authenticate on one instance"));
  CHECK(contains(r.out, "authenticated (1 header(s), expiry given) and the connection test passed"));
  // 1 for the test, then 6 x 4 authenticate() calls: each a token request.
  CHECK(env.emu->count("oauth2.token") == 25);
  // A credential the provider refuses: the live check fails, naming why.
  const std::string wrong =
      env.write_new("check", R"({"token_url":")" + origin +
                                 R"(/oauth/token","client_id":"check-client","client_secret":"wrong-secret",)"
                                 R"("test_url":")" +
                                 origin + R"(/oauth/me"})");
  r = env.trusted({"check-plugin", std::string(CREDPLUG_EXAMPLE_PLUGIN_DIR) + "/credplug-oauth2-client-c.so",
                   "--credential", wrong});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out, "FAIL  live"));
  CHECK(contains(r.out, "rejected the client credentials: invalid_client"));
}

TEST_CASE("check-plugin --credential: says an expiry was given only when the plugin or the token gave one") {
  auto &env = E2E::get();
  env.reset();
  // No expiry at all: the host's default lifetime applies, and is not "given".
  auto r = env.trusted({"check-plugin", std::string(CREDPLUG_ABI_PLUGIN_DIR) + "/credplug-minor0.so", "--credential",
                        env.write_new("check", "{}")});
  CHECK(contains(r.out, "authenticated (1 header(s), no expiry given)"));
  // A key that never expires says so.
  env.emu->add_client("hmac", "check-key", "CANARY-check-hmac-secret-0001");
  r = env.trusted(
      {"check-plugin", std::string(CREDPLUG_EXAMPLE_PLUGIN_DIR) + "/credplug-hmac-signer-c.so", "--credential",
       env.write_new("check", R"({"api_url":")" + env.emu->origin() +
                                  R"(/hmac","key_id":"check-key","secret":"CANARY-check-hmac-secret-0001"})")});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "authenticated (0 header(s), never expires) and the connection test passed"));
}

TEST_CASE("check-plugin: every shipped description is clean; live, a key is searched for in every output") {
  auto &env = E2E::get();
  env.reset();
  const std::string dir = std::string(CREDPLUG_SOURCE_DIR) + "/examples/json-provider";
  int checked = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    CAPTURE(entry.path().string());
    auto r = env.cli({"check-plugin", entry.path().string()});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "  ok    file: named for described provider '"));
    CHECK(contains(r.out, "  skip  exports: a described provider is data"));
    CHECK(contains(r.out, "  ok    create: create() accepted a credential made from the schema"));
    CHECK(contains(r.out, "\nclean ("));
    ++checked;
  }
  CHECK(checked == 6);
  const std::string credential = env.write_new(
      "check-described", R"({"api_url": ")" + env.emu->origin() + R"(", "api_key": ")" + kStaticKey + "\"}");
  auto r = env.trusted({"check-plugin", dir + "/credplug-keyed-api.provider.json", "--credential", credential});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "  ok    live: authenticated (1 header(s), never expires) and the connection test passed"));
  CHECK(
      contains(r.out, "  ok    concurrency: 8 threads x 4 rounds of create/destroy and authenticate on one instance"));
  // A description the host refuses fails the load step, naming the member.
  const std::string bad_dir = env.new_dir("check-described");
  const std::string bad = env.write(bad_dir + "/credplug-x.provider.json", R"({"credplug_provider": 1, "id": "x"})");
  r = env.cli({"check-plugin", bad});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out, "FAIL  load"));
  CHECK(contains(r.out, "display_name is required"));
}
