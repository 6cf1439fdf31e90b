// OpenCRVS end to end: query-string credentials sent once, expiry from the
// JWT, the gateway's /tokenTest, and a secret-bearing URL never shown.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <credplug/kit/jwt.hpp>

#include <chrono>
#include <ctime>

using namespace credplug;
using namespace credplug::testing;

namespace {
std::string opencrvs_file(const std::string &secret = kOpenCrvsSecret) {
  return E2E::get().write_new("opencrvs", E2E::get().opencrvs_credential(secret));
}
int occurrences(const std::string &s, const std::string &part) {
  int n = 0;
  for (size_t p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("opencrvs: credentials in the query string, grant_type once, empty body; test shows the scope") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"test", "opencrvs", opencrvs_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "opencrvs: OK"));
  CHECK(contains(r.out, "scope: recordsearch notification-api"));
  auto [target, body] = env.emu->last_request("opencrvs.token");
  CHECK(target.rfind("/opencrvs/auth/token?", 0) == 0);
  CHECK(occurrences(target, "grant_type=") == 1);
  CHECK(contains(target, "client_id=" + kOpenCrvsClient));
  CHECK(body.empty());
  CHECK(env.emu->count("opencrvs.api") == 1);
}

TEST_CASE("opencrvs: the expiry is the JWT's exp (600 s by default); no expires_in is sent") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"--json", "auth", "opencrvs", opencrvs_file()});
  CHECK(r.exit_code == 0);
  rapidjson::Document json;
  json.Parse(r.out.c_str());
  REQUIRE(json.IsObject());
  int64_t expected = int64_t(std::time(nullptr)) + 600;
  CHECK(json["expires_at"].GetInt64() >= expected - 10);
  CHECK(json["expires_at"].GetInt64() <= expected + 1);
}

TEST_CASE("opencrvs: the secret-bearing token URL is logged with its query values elided") {
  auto &env = E2E::get();
  auto r = env.trusted({"-vv", "auth", "opencrvs", opencrvs_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "/opencrvs/auth/token?client_id=…&client_secret=…&grant_type=… -> HTTP 200"));
}

TEST_CASE("opencrvs: a bad client is rejected (401 invalid_client, exit 4)") {
  auto &env = E2E::get();
  auto r = env.trusted({"test", "opencrvs", opencrvs_file("wrong-secret")});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "invalid_client (Invalid client id or secret)"));
}

TEST_CASE("opencrvs emulator: the doc's repeated grant_type is refused, as the v1.4 server does") {
  auto &env = E2E::get();
  host::HttpRequestSpec spec;
  spec.method = "POST";
  spec.url = env.emu->origin() + "/opencrvs/auth/token?client_id=" + kOpenCrvsClient +
             "&client_secret=" + kOpenCrvsSecret + "&grant_type=&grant_type=client_credentials";
  auto r = host::HttpsClient(host::HttpOptions{env.pki.ca_cert}).send(spec);
  CHECK(r.status == 400);
  CHECK(contains(r.body.reveal(), "unsupported_grant_type"));
}

TEST_CASE("opencrvs: an expired token gets 401 'Expired token' at the gateway; a forged one 'Invalid token'") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto cred = host.open("opencrvs", env.opencrvs_credential());
  auto auth = cred->authenticate();
  auto token_test = [&](const std::string &authorization) {
    host::HttpRequestSpec spec;
    spec.url = env.emu->origin() + "/opencrvs/gateway/tokenTest";
    spec.headers.emplace_back("Authorization", kit::SecretString(authorization));
    return host::HttpsClient(host::HttpOptions{env.pki.ca_cert}).send(spec);
  };
  const std::string bearer = auth.headers[0].value.reveal();
  CHECK(token_test(bearer).status == 200);
  std::string forged = bearer.substr(0, bearer.size() - 4) + "AAAA";
  auto invalid = token_test(forged);
  CHECK(invalid.status == 401);
  CHECK(contains(invalid.body.reveal(), "Invalid token"));
  env.emu->advance_clock(3600);  // past its expiry, by the emulator's clock
  auto expired = token_test(bearer);
  CHECK(expired.status == 401);
  CHECK(contains(expired.body.reveal(), "Expired token"));
  env.reset();
}
