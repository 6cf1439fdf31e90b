// Avni end to end: the raw JWT in AUTH-TOKEN (never Authorization, never
// "Bearer"), three token flows, both identity providers, base URL rules.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace credplug;
using namespace credplug::testing;

namespace {
std::string avni_file(const std::string &fields) {
  return E2E::get().write_new("avni", E2E::get().avni_credential(fields));
}
std::string cc_fields(const std::string &token_path = "/oauth2/token", const std::string &extra = "") {
  return R"("token_flow":"client_credentials","access_token_url":")" + E2E::get().emu->origin() + token_path +
         R"(","client_id":"avni-app","client_secret":")" + kAvniSecret + "\"" + extra;
}
std::string password_fields(const std::string &flow, const std::string &password = kAvniPassword) {
  return R"("token_flow":")" + flow + R"(","username":"field.worker","password":")" + password + "\"";
}
int locations(const std::string &name, const std::string &value) {
  auto &env = E2E::get();
  host::HttpRequestSpec spec;
  spec.url = env.emu->origin() + "/api/locations?size=1&page=0";
  spec.headers.emplace_back(name, kit::SecretString(value));
  return host::HttpsClient(host::HttpOptions{env.pki.ca_cert}).send(spec).status;
}
}  // namespace

TEST_CASE("avni: client credentials at Cognito (Basic); the API gets the raw JWT in AUTH-TOKEN, no Authorization") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"test", "avni", avni_file(cc_fields())});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "avni: OK"));
  CHECK(contains(r.out, "locations: 1"));
  CHECK(header(env.emu->last_headers("avni.idp_token"), "Authorization").rfind("Basic ", 0) == 0);
  auto api = env.emu->last_headers("avni.api");
  CHECK(header(api, "AUTH-TOKEN").rfind("ey", 0) == 0);  // raw JWT: no "Bearer "
  CHECK(header(api, "Authorization").empty());
}

TEST_CASE("avni: client credentials at Keycloak with client_secret_post") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted(
      {"test", "avni",
       avni_file(cc_fields("/auth/realms/avni/protocol/openid-connect/token", R"(,"client_auth":"post")"))});
  CHECK(r.exit_code == 0);
  CHECK(header(env.emu->last_headers("avni.idp_token"), "Authorization").empty());
  CHECK(contains(env.emu->last_request("avni.idp_token").second, "client_id=avni-app"));
}

TEST_CASE("avni: a wrong client secret is rejected by Cognito (400 invalid_client) and Keycloak (401)") {
  auto &env = E2E::get();
  auto cognito = env.trusted(
      {"auth", "avni", avni_file(cc_fields().replace(cc_fields().find(kAvniSecret), kAvniSecret.size(), "nope"))});
  CHECK(cognito.exit_code == 4);
  CHECK(contains(cognito.err, "invalid_client"));
  auto kc = cc_fields("/auth/realms/avni/protocol/openid-connect/token");
  auto keycloak =
      env.trusted({"auth", "avni", avni_file(kc.replace(kc.find(kAvniSecret), kAvniSecret.size(), "nope"))});
  CHECK(keycloak.exit_code == 4);
  CHECK(contains(keycloak.err, "unauthorized_client"));
}

TEST_CASE("avni: a stock server refusing a client-credentials token (500) is reported as the wrong token type") {
  auto &env = E2E::get();
  env.reset();
  env.emu->set_option("avni", "strict_token_type", "1");
  auto r = env.trusted({"test", "avni", avni_file(cc_fields())});
  env.emu->set_option("avni", "strict_token_type", "");
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "token not accepted by this Avni server (wrong token type or audience)"));
}

TEST_CASE("avni: avni_password at /api/user/generateToken; each documented rejection") {
  auto &env = E2E::get();
  env.reset();
  CHECK(env.trusted({"test", "avni", avni_file(password_fields("avni_password"))}).exit_code == 0);
  CHECK(env.emu->count("avni.generate_token") == 1);
  auto wrong = env.trusted({"test", "avni", avni_file(password_fields("avni_password", "wrong"))});
  CHECK(wrong.exit_code == 4);
  CHECK(contains(wrong.err, "refused the password of user 'field.worker' (HTTP 401)"));
  auto unknown =
      env.trusted({"test", "avni", avni_file(R"("token_flow":"avni_password","username":"nobody","password":"x")")});
  CHECK(unknown.exit_code == 4);
  CHECK(contains(unknown.err, "has no user 'nobody' (HTTP 404)"));
}

TEST_CASE("avni: cognito_password reads the app client from /idp-details and sends the ID token") {
  auto &env = E2E::get();
  env.reset();
  auto fields = password_fields("cognito_password") + R"(,"cognito_endpoint":")" + env.emu->origin() + "\"";
  auto r = env.trusted({"test", "avni", avni_file(fields)});
  CHECK(r.exit_code == 0);
  CHECK(env.emu->count("avni.idp_details") == 1);
  CHECK(env.emu->count("avni.cognito") == 1);
  CHECK(contains(env.emu->last_request("avni.cognito").second, R"("ClientId":"emu-app-client")"));
  auto wrong = password_fields("cognito_password", "wrong") + R"(,"cognito_endpoint":")" + env.emu->origin() + "\"";
  auto refused = env.trusted({"test", "avni", avni_file(wrong)});
  CHECK(refused.exit_code == 4);
  CHECK(contains(refused.err, "NotAuthorizedException"));
}

TEST_CASE("avni: base URL rules — each violation names the rule and the corrected form") {
  auto &env = E2E::get();
  auto with_base = [&](const std::string &base) {
    return env.write("avni-base.json", R"({"base_url":")" + base + "\"," + cc_fields() + "}");
  };
  auto slash = env.cli({"validate", "avni", with_base(env.emu->origin() + "/")});
  CHECK(slash.exit_code == 3);
  CHECK(contains(slash.err, "base_url: no trailing slash; use " + env.emu->origin()));
  auto api = env.cli({"validate", "avni", with_base(env.emu->origin() + "/api")});
  CHECK(api.exit_code == 3);
  CHECK(contains(api.err, "base_url: no path (credplug appends /api/...); use " + env.emu->origin()));
  auto http = env.cli({"validate", "avni", with_base("http://app.avniproject.org")});
  CHECK(http.exit_code == 3);
  CHECK(contains(http.err, "'base_url' (Base URL) does not have the expected form"));
  CHECK(env.cli({"validate", "avni", with_base(env.emu->origin())}).exit_code == 0);
}

TEST_CASE("avni: the schema's token flows: the chosen flow's missing fields are named") {
  auto &env = E2E::get();
  auto r = env.cli({"validate", "avni", avni_file(R"("token_flow":"avni_password","username":"u")")});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "'password' (Password) is required but missing"));
  auto cc = env.cli({"validate", "avni", avni_file(R"("token_flow":"client_credentials")")});
  CHECK(contains(cc.err, "'access_token_url' (Access Token URL) is required but missing"));
  CHECK(contains(cc.err, "'client_secret' (Client secret) is required but missing"));
  auto bad_flow = env.cli({"validate", "avni", avni_file(R"("token_flow":"magic")")});
  CHECK(contains(bad_flow.err, "'token_flow' (Token flow) must be one of"));
}

TEST_CASE("avni emulator: AUTH-TOKEN only, raw — Bearer prefix, Authorization, expired or forged: 401") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto auth = host.open("avni", env.avni_credential(password_fields("avni_password")))->authenticate();
  REQUIRE(auth.headers.size() == 1);
  CHECK(auth.headers[0].name == "AUTH-TOKEN");
  const std::string jwt = auth.headers[0].value.reveal();
  CHECK(locations("AUTH-TOKEN", jwt) == 200);
  CHECK(locations("auth-token", jwt) == 200);  // the header name is case-insensitive
  CHECK(locations("AUTH-TOKEN", "Bearer " + jwt) == 401);
  CHECK(locations("Authorization", "Bearer " + jwt) == 401);
  CHECK(locations("AUTH-TOKEN", jwt.substr(0, jwt.size() - 3) + "xyz") == 401);
  env.emu->advance_clock(3600);  // past its expiry, by the emulator's clock
  CHECK(locations("AUTH-TOKEN", jwt) == 401);
  env.reset();
}
