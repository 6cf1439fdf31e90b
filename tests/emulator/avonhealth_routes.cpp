// Avon Health as its docs and demo host behave: an organisation token from
// JSON client credentials, and API calls that need the bearer token, a user
// JWT (HS256 with the user's secret key, iss/aud "avonhealth", exp in
// seconds) and, on staging, the account header. Organisation clients are
// registered as provider "avonhealth", users (id -> secret key) as
// "avonhealth-user"; option "staging_account" demands that account header.
#include "emulator_state.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>
#include <credplug/kit/jwt.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "avonhealth";

void invalid_credentials(httplib::Response &res) {
  res.status = 401;
  res.set_content(R"({"status":401,"code":"auth/invalid_credentials","name":"CustomError"})", "application/json");
}

// Verifies the user JWT; empty when valid, else why not (for the emulator's
// own tests: the client only sees 401).
std::string check_user_jwt(Emulator::State &state, const std::string &jwt) {
  size_t a = jwt.find('.'), b = jwt.rfind('.');
  if (a == std::string::npos || a == b) return "not a JWT";
  auto decoded = kit::decode_jwt(jwt);
  if (!decoded || decoded->header.string("alg").value_or("") != "HS256") return "not an HS256 JWT";
  std::string user = decoded->claims.string("id").value_or("");
  std::string key = state.client_secret("avonhealth-user", user);
  if (key.empty()) return "unknown user";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char *>(jwt.data()), b, mac,
       &mac_len);
  std::string expected = kit::base64url_encode(std::string_view(reinterpret_cast<char *>(mac), mac_len));
  std::string actual = jwt.substr(b + 1);
  if (expected.size() != actual.size() || CRYPTO_memcmp(expected.data(), actual.data(), expected.size()) != 0)
    return "bad signature";
  if (decoded->claims.string("iss").value_or("") != "avonhealth") return "iss is not avonhealth";
  if (decoded->claims.string("aud").value_or("") != "avonhealth") return "aud is not avonhealth";
  auto exp = decoded->exp();
  const int64_t now = state.now_seconds();
  if (!exp) return "no exp";
  // A NumericDate is seconds: an exp past the year 2286 is milliseconds.
  if (*exp > 9999999999) return "exp is in milliseconds, not seconds";
  if (*exp <= now) return "expired";
  return "";
}

}  // namespace

void install_avonhealth(httplib::Server &server, Emulator::State &state) {
  server.Post("/v2/auth/token", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "avonhealth.token", req, res)) return;
    auto body = kit::JsonDocument::parse_object(req.body);
    if (!body || body->string("grant_type").value_or("") != "client_credentials") {
      res.status = 400;
      return res.set_content(R"({"status":400,"code":"auth/invalid_request","name":"CustomError"})",
                             "application/json");
    }
    if (!state.client_ok(kProvider, body->string("client_id").value_or(""), body->string("client_secret").value_or("")))
      return invalid_credentials(res);
    const int lifetime = state.token_lifetime(kProvider, 86400);  // Avon Health's default
    std::string token = state.issue_jwt(kProvider, body->string("client_id").value_or(""), lifetime, "");
    std::string out =
        R"({"access_token":")" + token + R"(","expires_in":)" + std::to_string(lifetime) + R"(,"token_type":"Bearer"})";
    state.answer_token(kProvider, res, out);
  });
  server.Get("/v2/patients", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "avonhealth.api", req, res)) return;
    if (state.valid_token(kProvider, bearer_token(req)) == nullptr) return invalid_credentials(res);
    if (!check_user_jwt(state, req.get_header_value("x-jwt")).empty()) return invalid_credentials(res);
    std::string account = state.option(kProvider, "staging_account");
    if (!account.empty() && req.get_header_value("account") != account) return invalid_credentials(res);
    res.set_content(R"({"object":"list","data":[{"object":"patient","id":"pat_1"}],"has_more":false})",
                    "application/json");
  });
}

}  // namespace credplug::emulator
