// The example plugins, one provider written twice: in C with ABI minor 2's
// helpers (examples/c-plugin) and in C++ with the kit (examples/cpp-plugin),
// against the emulator's plain OAuth 2.0 provider, through the CLI and the
// C++ API, in whichever isolation mode the suite runs: both client
// authentications, and every failure the token endpoint can play. Both must
// behave alike.
#include "fixture.hpp"

#include <credplug/plugin.h>

#include <doctest/doctest.h>

#include <ctime>

using namespace credplug;
using namespace credplug::testing;

namespace {

const std::string kExampleClient = "c-example-client";
const std::vector<std::string> kExamples = {"oauth2-client-c", "oauth2-client-cpp"};

std::string credential(const std::string &auth, const std::string &secret = kCanary, int port = 0) {
  auto &env = E2E::get();
  const std::string origin = "https://localhost:" + std::to_string(port ? port : env.emu->port());
  return R"({"token_url":")" + origin + R"(/oauth/token","client_id":")" + kExampleClient + R"(","client_secret":")" +
         secret + R"(","client_auth":")" + auth + R"(","scope":"read write","test_url":")" + origin + R"(/oauth/me"})";
}

ProcessResult run(const std::vector<std::string> &args) {
  std::vector<std::string> full{"--plugin-dir", CREDPLUG_EXAMPLE_PLUGIN_DIR};
  full.insert(full.end(), args.begin(), args.end());
  return E2E::get().trusted(full);
}

void fresh() {
  auto &env = E2E::get();
  env.reset();
  env.emu->add_client("oauth2", kExampleClient, kCanary);
  env.emu->set_option("oauth2", "client_auth", "");
}

}  // namespace

TEST_CASE("examples: client_secret_basic and client_secret_post, tested, the secret never shown") {
  auto &env = E2E::get();
  for (const std::string &id : kExamples)
    for (const std::string auth : {"basic", "post"}) {
      CAPTURE(id);
      CAPTURE(auth);
      fresh();
      env.emu->set_option("oauth2", "client_auth", auth);  // the server accepts only this one
      auto r = run({"test", id, env.write_new("c-example", credential(auth))});
      CHECK(r.exit_code == 0);
      CHECK(contains(r.out, id + ": OK"));
      CHECK(contains(r.out, "client_id: " + kExampleClient));
      auto [target, body] = env.emu->last_request("oauth2.token");
      CHECK(contains(body, "grant_type=client_credentials"));
      CHECK(contains(body, "scope=read%20write"));
      auto sent = env.emu->last_headers("oauth2.token");
      if (auth == "basic") {
        CHECK(header(sent, "Authorization").rfind("Basic ", 0) == 0);
        CHECK_FALSE(contains(body, "client_secret"));
      } else {
        CHECK(header(sent, "Authorization").empty());
        CHECK(contains(body, "client_id=" + kExampleClient));
      }
      CHECK(header(env.emu->last_headers("oauth2.api"), "Authorization").rfind("Bearer ", 0) == 0);
    }
}

TEST_CASE("examples: the token is a secret header with the expiry the endpoint gave") {
  auto &env = E2E::get();
  for (const std::string &id : kExamples) {
    CAPTURE(id);
    fresh();
    env.emu->switches("oauth2").token_lifetime_s = 900;
    Host host([&] {
      HostOptions o = env.host_options();
      o.plugin_dirs = {CREDPLUG_EXAMPLE_PLUGIN_DIR};
      return o;
    }());
    PluginInfo info = host.plugin(id);
    CHECK(info.abi_minor >= 2);  // both require 2; the C++ one speaks the newest
    CHECK(info.default_token_lifetime_s == 3600);
    auto auth = host.open(id, credential("basic"))->authenticate();
    REQUIRE(auth.headers.size() == 1);
    CHECK(auth.headers[0].name == "Authorization");
    CHECK(auth.headers[0].secret);
    const int64_t now = std::time(nullptr);
    REQUIRE(auth.expires_at.has_value());
    CHECK(*auth.expires_at >= now + 890);
    CHECK(*auth.expires_at <= now + 901);
  }
}

TEST_CASE("examples: the token endpoint's failures, each with its exit code and a message naming it") {
  auto &env = E2E::get();
  struct Case {
    const char *what;
    std::function<void()> arrange;
    std::string secret;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"wrong secret", [] {}, "not-the-secret", 4,
       "token endpoint rejected the client credentials: invalid_client (unknown client or wrong secret)"},
      {"post to a basic-only server", [&] { env.emu->set_option("oauth2", "client_auth", "basic"); }, kCanary, 4,
       "client_secret_basic only"},
      {"503 with Retry-After",
       [&] {
         env.emu->switches("oauth2").fail_status = 503;
         env.emu->switches("oauth2").retry_after_s = 7;
       },
       kCanary, 6,
       "token endpoint is failing (HTTP 503): server_error (emulated failure); the server asks to retry after 7 s"},
      {"429", [&] { env.emu->switches("oauth2").fail_status = 429; }, kCanary, 6, "rate-limiting requests (HTTP 429)"},
      {"malformed", [&] { env.emu->switches("oauth2").malformed = true; }, kCanary, 6, "the body is not a JSON object"},
  };
  for (const std::string &id : kExamples)
    for (const auto &k : cases) {
      CAPTURE(id);
      fresh();
      k.arrange();
      auto r = run({"auth", id, env.write_new("c-example", credential("post", k.secret))});
      const std::string seen = std::string(k.what) + ": " + r.err;
      CAPTURE(seen);
      CHECK(r.exit_code == k.exit_code);
      CHECK(contains(r.err, k.message));
    }
  for (const std::string &id : kExamples) {
    fresh();
    auto r = run({"auth", id, env.write_new("c-example", credential("basic", kCanary, closed_port()))});
    CHECK(r.exit_code == 5);
    CHECK(contains(r.err, "Couldn't connect to server"));
  }
}

TEST_CASE("examples: the connection test fails as rejected on 401, and says what it got otherwise") {
  auto &env = E2E::get();
  auto with_test_url = [&](const std::string &path) {
    std::string json = credential("basic");
    json.replace(json.find("/oauth/me"), 9, path);
    return env.write_new("c-example", json);
  };
  for (const std::string &id : kExamples) {
    CAPTURE(id);
    fresh();
    auto r = run({"test", id, with_test_url("/v2/patients")});  // another API: refuses the token
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "HTTP 401"));
    r = run({"test", id, with_test_url("/oauth/nothing-here")});
    CHECK(r.exit_code == 3);  // a 404 is a wrong URL
    CHECK(contains(r.err, "HTTP 404"));
  }
}
