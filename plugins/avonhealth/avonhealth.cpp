// Avon Health: an organisation access token (client credentials as JSON at
// /v2/auth/token) plus a user JWT signed HS256 with the user's secret key.
// Every API call carries both, and the account header when one is set.
#include <credplug/kit.hpp>

#include <algorithm>

using namespace credplug::kit;

namespace {

class AvonHealth final : public Provider {
 public:
  AvonHealth(const JsonDocument &credential, Call &) {
    base_ = parse_https_url("base_url", credential.string("base_url").value_or("")).str();
    token_url_ = join_url(base_, credential.string("token_path").value_or("/v2/auth/token"));
    client_id_ = credential.string("client_id").value_or("");
    client_secret_ = SecretString(credential.string("client_secret").value_or(""));
    user_id_ = credential.string("user_id").value_or("");
    user_key_ = SecretString(credential.string("user_secret_key").value_or(""));
    account_ = credential.string("account_id").value_or("");
    jwt_lifetime_ = credential.integer("jwt_lifetime_seconds").value_or(3600);
  }

  void authenticate(Call &call) override {
    const int64_t requested_at = call.now_seconds();  // expires_in counts from the request
    HttpRequest http;
    http.method = "POST";
    http.url = token_url_;
    http.flags = CREDPLUG_HTTP_SECRET_BODY;
    http.header("Content-Type", "application/json");
    http.header("Accept", "application/json");
    http.body = SecretString(R"({"grant_type":"client_credentials","client_id":)" + json_quote(client_id_) +
                             R"(,"client_secret":)" + json_quote(client_secret_.view()) + "}");
    HttpResponse response = call.send(http);
    oauth2::Token token = oauth2::parse_token_response(call, response, "Avon Health token endpoint");

    const int64_t now = call.now_seconds();
    SecretString jwt = user_jwt(now);
    call.add_secret(jwt.view());
    call.header("Authorization", "Bearer " + token.access_token.reveal(), /*secret=*/true);
    call.header("x-jwt", jwt.view(), /*secret=*/true);
    if (!account_.empty()) call.header("account", account_, /*secret=*/false);
    // Both must be valid: the headers expire with the earlier of the two.
    int64_t expires_at = now + jwt_lifetime_;
    if (token.expires_in) expires_at = std::min(expires_at, requested_at + *token.expires_in);
    call.expires_at(expires_at);
    token_ = std::move(token.access_token);
    jwt_ = std::move(jwt);
  }

  void test(Call &call) override {
    HttpRequest http;
    http.url = join_url(base_, "/v2/patients");
    http.header("Authorization", "Bearer " + token_.reveal());
    http.header("x-jwt", jwt_.view());
    if (!account_.empty()) http.header("account", account_);
    http.header("Accept", "application/json");
    HttpResponse response = call.send(http);
    auto body = JsonDocument::parse_object(response.body());
    std::string code = body ? body->string("code").value_or("") : "";
    expect_success(
        response,
        {"Avon Health", "GET /v2/patients", "base_url", "is this your Avon Health host?", "the token or the user JWT",
         (code.empty() ? "" : " (" + code + ")") + (account_.empty() ? "; staging requires account_id" : "")});
    if (!body || body->string("object").value_or("") != "list")
      fail(CREDPLUG_ERR_PROVIDER, "Avon Health's /v2/patients answer is not a list object");
    call.output("user_id", user_id_);
  }

 private:
  // RFC 7519 NumericDate: exp in *seconds*. The doc's sample passes
  // milliseconds, which makes a token that practically never expires.
  SecretString user_jwt(int64_t now) const {
    std::string claims = R"({"id":)" + json_quote(user_id_) + R"(,"iat":)" + std::to_string(now) +
                         R"(,"iss":"avonhealth","aud":"avonhealth","exp":)" + std::to_string(now + jwt_lifetime_) + "}";
    return sign_hs256(claims, user_key_.view());
  }

  std::string base_, token_url_, client_id_, user_id_, account_;
  SecretString client_secret_, user_key_, token_, jwt_;
  int64_t jwt_lifetime_ = 3600;
};

}  // namespace

CREDPLUG_PLUGIN(AvonHealth, "avonhealth", "Avon Health", "1.0.0", credplug_credential_schema, 0)
