// Avon Health end to end: the organisation token, the user JWT (HS256, exp
// in seconds), the account header on staging.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <doctest/doctest.h>
#include <credplug/kit/jwt.hpp>

#include <chrono>

#include <ctime>

using namespace credplug;
using namespace credplug::testing;

namespace {
std::string avon_file(const std::string &extra = "", const std::string &key = kAvonUserKey) {
  return E2E::get().write_new("avon", E2E::get().avon_credential(extra, key));
}
int patients_status(const AuthResult &auth, const std::string &jwt_override = "") {
  auto &env = E2E::get();
  host::HttpRequestSpec spec;
  spec.url = env.emu->origin() + "/v2/patients";
  for (const auto &h : auth.headers)
    spec.headers.emplace_back(h.name,
                              h.name == "x-jwt" && !jwt_override.empty() ? kit::SecretString(jwt_override) : h.value);
  return host::HttpsClient(host::HttpOptions{env.pki.ca_cert}).send(spec).status;
}
}  // namespace

TEST_CASE("avonhealth: token + user JWT + API test; the JWT is HS256 with exp in seconds") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"test", "avonhealth", avon_file(R"("jwt_lifetime_seconds":600)")});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "avonhealth: OK"));
  auto sent = env.emu->last_headers("avonhealth.api");
  CHECK(header(sent, "Authorization").rfind("Bearer ", 0) == 0);
  auto jwt = kit::decode_jwt(header(sent, "x-jwt"));
  REQUIRE(jwt);
  CHECK(jwt->header.string("alg").value() == "HS256");
  CHECK(jwt->claims.string("id").value() == "user_7");
  CHECK(jwt->claims.string("iss").value() == "avonhealth");
  CHECK(jwt->claims.string("aud").value() == "avonhealth");
  const int64_t now = int64_t(std::time(nullptr));
  CHECK(*jwt->exp() - *jwt->iat() == 600);
  CHECK(*jwt->exp() <= now + 601);         // seconds: a millisecond exp would be ~1000x larger
  CHECK(header(sent, "account").empty());  // not configured: not sent
  auto [target, body] = env.emu->last_request("avonhealth.token");
  CHECK(contains(body, R"("grant_type":"client_credentials")"));
}

TEST_CASE("avonhealth emulator: a JWT whose exp is in milliseconds (the doc's sample) is refused") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto auth = host.open("avonhealth", env.avon_credential())->authenticate();
  CHECK(patients_status(auth) == 200);
  const int64_t now = int64_t(std::time(nullptr));
  auto ms_claims = R"({"id":"user_7","iat":)" + std::to_string(now) +
                   R"(,"iss":"avonhealth","aud":"avonhealth","exp":)" + std::to_string((now + 3600) * 1000) + "}";
  CHECK(patients_status(auth, kit::sign_hs256(ms_claims, kAvonUserKey).reveal()) == 401);
  auto wrong_aud = R"({"id":"user_7","iat":)" + std::to_string(now) + R"(,"iss":"avonhealth","aud":"other","exp":)" +
                   std::to_string(now + 3600) + "}";
  CHECK(patients_status(auth, kit::sign_hs256(wrong_aud, kAvonUserKey).reveal()) == 401);
  auto good = R"({"id":"user_7","iat":)" + std::to_string(now) + R"(,"iss":"avonhealth","aud":"avonhealth","exp":)" +
              std::to_string(now + 3600) + "}";
  CHECK(patients_status(auth, kit::sign_hs256(good, kAvonUserKey).reveal()) == 200);
  CHECK(patients_status(auth, kit::sign_hs256(good, "another-key").reveal()) == 401);
}

TEST_CASE("avonhealth: staging requires the account header; it is sent whenever configured") {
  auto &env = E2E::get();
  env.reset();
  env.emu->set_option("avonhealth", "staging_account", "acct-9");
  auto without = env.trusted({"test", "avonhealth", avon_file()});
  CHECK(without.exit_code == 4);
  CHECK(contains(without.err, "auth/invalid_credentials"));
  CHECK(contains(without.err, "staging requires account_id"));
  auto with = env.trusted({"test", "avonhealth", avon_file(R"("account_id":"acct-9")")});
  CHECK(with.exit_code == 0);
  CHECK(header(env.emu->last_headers("avonhealth.api"), "account") == "acct-9");
  auto auth = env.trusted({"auth", "avonhealth", avon_file(R"("account_id":"acct-9")")});
  CHECK(contains(auth.out, "account: acct-9"));
  CHECK(contains(auth.out, "x-jwt: <secret, "));
  env.emu->set_option("avonhealth", "staging_account", "");
}

TEST_CASE("avonhealth: each rejection: wrong client secret at the token endpoint, wrong user key at the API") {
  auto &env = E2E::get();
  env.reset();
  auto bad_org =
      env.write("avon-bad-org.json",
                R"({"base_url":")" + env.emu->origin() +
                    R"(","client_id":"avon-org","client_secret":"nope","user_id":"user_7","user_secret_key":")" +
                    kAvonUserKey + "\"}");
  auto org = env.trusted({"test", "avonhealth", bad_org});
  CHECK(org.exit_code == 4);
  CHECK(contains(org.err, "Avon Health token endpoint refused the credentials (HTTP 401)"));
  auto user = env.trusted({"test", "avonhealth", avon_file("", "wrong-user-key")});
  CHECK(user.exit_code == 4);
  CHECK(contains(user.err, "refused the token or the user JWT"));
}

TEST_CASE("avonhealth: the token path is configurable; the auth page's /auth/token is not what the server answers") {
  auto &env = E2E::get();
  auto r = env.trusted({"auth", "avonhealth", avon_file(R"("token_path":"/auth/token")")});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "Avon Health token endpoint URL was not found (HTTP 404)"));
}

TEST_CASE("avonhealth: the expiry is the earlier of the token and the JWT") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto auth = host.open("avonhealth", env.avon_credential(R"("jwt_lifetime_seconds":120)"))->authenticate();
  REQUIRE(auth.expires_at);
  // The clock the host gives plugins (clock_gettime), not time(): glibc's
  // time() reads the coarse clock, up to a tick behind, so at a second's edge
  // it said one second earlier than the plugin had.
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(*auth.expires_at <= now + 120);
  CHECK(*auth.expires_at >= now + 110);
}
