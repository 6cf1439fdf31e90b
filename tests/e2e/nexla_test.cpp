// Nexla end to end: the service key as a Basic credential, the versioned
// Accept header, refresh with fallback, and the user named by id.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace credplug;
using namespace credplug::testing;

namespace {
std::string nexla_file(const std::string &extra = "", const std::string &key = kNexlaKey) {
  return E2E::get().write_new("nexla", E2E::get().nexla_credential(extra, key));
}
}  // namespace

TEST_CASE("nexla: the service key goes as issued in Basic, with the Accept header; the test names the user by id") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"test", "nexla", nexla_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "nexla: OK"));
  CHECK(contains(r.out, "user_id: 42"));
  CHECK_FALSE(contains(r.out, "@example.com"));  // by id, not email
  auto token_headers = env.emu->last_headers("nexla.token");
  CHECK(header(token_headers, "Authorization") == "Basic " + kNexlaKey);
  CHECK(header(token_headers, "Accept") == "application/vnd.nexla.api.v1+json");
  CHECK(header(token_headers, "Content-Length") == "0");
  CHECK(header(env.emu->last_headers("nexla.api"), "Accept") == "application/vnd.nexla.api.v1+json");
  CHECK(env.emu->count("nexla.token") == 1);
  CHECK(env.emu->count("nexla.api") == 1);
}

TEST_CASE("nexla: auth shows the bearer masked and the Accept header in clear, expiry from expires_in") {
  auto &env = E2E::get();
  auto r = env.trusted({"auth", "nexla", nexla_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Authorization: <secret, "));
  CHECK(contains(r.out, "Accept: application/vnd.nexla.api.v1+json"));
  CHECK(contains(r.out, "(in 4m59s)") != contains(r.out, "(in 5m0s)"));
}

TEST_CASE("nexla: a wrong service key is rejected (exit 4); plain http is refused (exit 3)") {
  auto &env = E2E::get();
  auto wrong = env.trusted({"test", "nexla", nexla_file("", "not-the-key")});
  CHECK(wrong.exit_code == 4);
  CHECK(contains(wrong.err, "Nexla token endpoint refused the credentials (HTTP 401)"));
  auto http = env.write("nexla-http.json", R"({"api_url":"http://localhost:1","service_key":")" + kNexlaKey + "\"}");
  auto refused = env.trusted({"auth", "nexla", http});
  CHECK(refused.exit_code == 3);
  CHECK(contains(refused.err, "'api_url' (API URL) does not have the expected form"));
}

TEST_CASE("nexla: the headers stop working when the session expires: 401, and authenticate() gets new ones") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto cred = host.open("nexla", env.nexla_credential());
  auto auth = cred->authenticate();
  REQUIRE(auth.expires_at.has_value());
  auto call_api = [&](const AuthResult &a) {
    host::HttpRequestSpec spec;
    spec.url = env.emu->origin() + "/nexla-api/users/current";
    for (const auto &h : a.headers) spec.headers.emplace_back(h.name, h.value);
    return host::HttpsClient(host::HttpOptions{env.pki.ca_cert}).send(spec).status;
  };
  CHECK(call_api(auth) == 200);
  env.emu->advance_clock(3600);  // past its expiry, by the emulator's clock
  CHECK(call_api(auth) == 401);
  CHECK(call_api(cred->authenticate()) == 200);
  env.reset();
}

TEST_CASE("nexla: the cache refreshes through /token/refresh; a refused refresh falls back to the service key") {
  auto &env = E2E::get();
  env.reset();
  HostOptions options = env.host_options();
  options.cache.refresh_fraction = 1.0;  // every token is in its refresh window at once
  Host host(options);
  auto cred = host.open("nexla", env.nexla_credential(R"("use_token_refresh":true)"));
  auto first = cred->headers();
  CHECK(env.emu->count("nexla.token") == 1);
  auto refreshed = [&](uint64_t generation) {
    return eventually([&] {
      auto s = cred->cache_status();
      return !s.refreshing && s.generation >= generation;
    });
  };
  // In the window: the caller gets the current token, a refresh runs behind it.
  CHECK(cred->headers()->generation == first->generation);
  REQUIRE(refreshed(2));
  CHECK(env.emu->count("nexla.refresh") == 1);
  CHECK(env.emu->count("nexla.token") == 1);
  CHECK(cred->cache_status().background_refreshes == 1);

  env.emu->revoke_all("nexla");  // the refresh is now refused: /token again, in the same attempt
  cred->headers();
  REQUIRE(refreshed(3));
  CHECK(env.emu->count("nexla.refresh") == 2);
  CHECK(env.emu->count("nexla.token") == 2);
  CHECK(cred->cache_status().last_error.empty());
  auto newest = cred->headers();  // (starts refresh number 3)
  CHECK(newest->generation == 3);
  CHECK(newest->find("authorization") != nullptr);
  REQUIRE(refreshed(4));

  const int refreshes = env.emu->count("nexla.refresh"), tokens = env.emu->count("nexla.token");
  auto without = host.open("nexla", env.nexla_credential());  // not configured: /token for a refresh
  without->headers();
  without->headers();
  REQUIRE(eventually([&] {
    auto s = without->cache_status();
    return !s.refreshing && s.generation >= 2;
  }));
  CHECK(env.emu->count("nexla.refresh") == refreshes);
  CHECK(env.emu->count("nexla.token") == tokens + 2);
}

TEST_CASE("nexla: a rotating refresh (the emulator's refresh_revokes) makes the token it renewed a 401") {
  auto &env = E2E::get();
  env.reset();
  env.emu->switches("nexla").refresh_revokes = true;
  HostOptions options = env.host_options();
  options.cache.refresh_fraction = 1.0;  // every token is in its refresh window at once
  Host host(options);
  auto cred = host.open("nexla", env.nexla_credential(R"("use_token_refresh":true)"));
  auto call_api = [&](const HeaderSet &set) {
    host::HttpRequestSpec spec;
    spec.url = env.emu->origin() + "/nexla-api/users/current";
    for (const auto &h : set.headers) spec.headers.emplace_back(h.name, h.value);
    return host::HttpsClient(host::HttpOptions{env.pki.ca_cert}).send(spec).status;
  };
  auto first = cred->headers();
  CHECK(call_api(*first) == 200);
  cred->headers();  // in the window: a refresh runs behind it
  REQUIRE(eventually([&] {
    auto s = cred->cache_status();
    return !s.refreshing && s.generation >= 2;
  }));
  CHECK(env.emu->count("nexla.refresh") == 1);
  CHECK(call_api(*first) == 401);
  CHECK(env.emu->count("nexla.revoked_token") == 1);
  env.reset();
}

TEST_CASE("nexla: provider faults: 429 with Retry-After, 503, non-JSON (exit 6)") {
  auto &env = E2E::get();
  env.reset();
  auto &sw = env.emu->switches("nexla");
  sw.fail_status = 429;
  sw.retry_after_s = 30;
  auto limited = env.trusted({"auth", "nexla", nexla_file()});
  CHECK(limited.exit_code == 6);
  CHECK(contains(limited.err, "rate-limiting requests (HTTP 429); the server asks to retry after 30 s"));
  env.reset();
  sw.malformed = true;
  CHECK(env.trusted({"auth", "nexla", nexla_file()}).exit_code == 6);
  env.reset();
}
