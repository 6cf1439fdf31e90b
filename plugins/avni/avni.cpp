// Avni: the JWT goes in a custom AUTH-TOKEN header, raw (no "Bearer", no
// Authorization header). The server checks it as a user's token, so three
// ways to obtain it are offered (token_flow): OAuth 2.0 client credentials,
// Avni's own username/password endpoint, and Cognito USER_PASSWORD_AUTH.
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

class Avni final : public Provider {
 public:
  // Cognito's default token lifetime (one hour), when the token does not say.
  static constexpr uint32_t kDefaultTokenLifetimeSeconds = 3600;

  Avni(const JsonDocument &credential, Call &) {
    std::string base = credential.string("base_url").value_or("");
    // The doc's rules, each with the corrected form in the message.
    if (base.size() > 1 && base.back() == '/')
      fail(CREDPLUG_ERR_INVALID_CONFIG,
           "base_url: no trailing slash; use " + base.substr(0, base.find_last_not_of('/') + 1));
    auto url = parse_https_url("base_url", base);
    if (!url.path.empty())
      fail(CREDPLUG_ERR_INVALID_CONFIG, "base_url: no path (credplug appends /api/...); use " + url.origin);
    base_ = url.origin;
    flow_ = credential.string("token_flow").value_or("");
    if (flow_ == "client_credentials") {
      cc_.token_url = parse_https_url("access_token_url", credential.string("access_token_url").value_or("")).str();
      cc_.client_id = credential.string("client_id").value_or("");
      cc_.client_secret = SecretString(credential.string("client_secret").value_or(""));
      cc_.client_auth = *oauth2::client_auth_from_string(credential.string("client_auth").value_or("basic"));
      cc_.scope = credential.string("scope").value_or("");
      cc_.endpoint_name = "Avni identity provider's token endpoint";
    }
    username_ = credential.string("username").value_or("");
    password_ = SecretString(credential.string("password").value_or(""));
    cognito_client_id_ = credential.string("cognito_client_id").value_or("");
    cognito_endpoint_ = credential.string("cognito_endpoint").value_or("");
  }

  void authenticate(Call &call) override {
    SecretString token = flow_ == "client_credentials" ? oauth2::request_client_credentials(call, cc_).access_token
                         : flow_ == "avni_password"    ? avni_password(call)
                                                       : cognito_password(call);
    call.add_secret(token.view());
    call.header("AUTH-TOKEN", token.view(), /*secret=*/true);
    if (auto jwt = decode_jwt(token.view()); jwt && jwt->exp()) call.expires_at(*jwt->exp());
    token_ = std::move(token);
  }

  void test(Call &call) override {
    HttpRequest http;
    http.url = base_ + "/api/locations?size=1&page=0";
    http.header("AUTH-TOKEN", token_.view());
    http.header("Accept", "application/json");
    HttpResponse response = call.send(http);
    const int status = response.status();
    if (status == 401)
      fail(CREDPLUG_ERR_REJECTED, "the Avni server refused the token (HTTP 401: missing, expired or unknown)");
    if (status == 403) fail(CREDPLUG_ERR_REJECTED, "the Avni user may not read locations (HTTP 403)");
    if (status == 500)
      fail(CREDPLUG_ERR_REJECTED,
           "token not accepted by this Avni server (wrong token type or audience): "
           "GET /api/locations -> HTTP 500; stock servers want a user's ID token, try token_flow "
           "avni_password or cognito_password");
    expect_success(response, {"the Avni server", "GET /api/locations", "base_url", "is this an Avni server?"});
    auto page = JsonDocument::parse_object(response.body());
    if (!page || !page->has("content"))
      fail(CREDPLUG_ERR_PROVIDER, "the Avni server's /api/locations answer is not a page");
    call.output("locations", page->raw("totalElements").value_or("?"));
  }

 private:
  // POST {base}/api/user/generateToken {"username","password"} -> {"authToken"}.
  SecretString avni_password(Call &call) {
    HttpRequest http;
    http.method = "POST";
    http.url = base_ + "/api/user/generateToken";
    http.flags = CREDPLUG_HTTP_SECRET_BODY;
    http.header("Content-Type", "application/json");
    http.body = SecretString(R"({"username":)" + json_quote(username_) + R"(,"password":)" +
                             json_quote(password_.view()) + "}");
    HttpResponse response = call.send(http);
    switch (response.status()) {
      case 200:
        break;
      case 400:
        fail(CREDPLUG_ERR_INVALID_CONFIG, "the Avni server says username or password is empty (HTTP 400)");
      case 401:
        fail(CREDPLUG_ERR_REJECTED, "the Avni server refused the password of user '" + username_ + "' (HTTP 401)");
      case 403:
        fail(CREDPLUG_ERR_REJECTED, "the Avni user '" + username_ + "' may not generate tokens (HTTP 403)");
      case 404:
        fail(CREDPLUG_ERR_REJECTED, "the Avni server has no user '" + username_ + "' (HTTP 404)");
      default:  // 429, 5xx, ...: the kit words these, with any Retry-After
        oauth2::parse_token_response(call, response, "Avni server's /api/user/generateToken");
    }
    auto body = JsonDocument::parse_object(response.body());
    auto token = body ? body->string("authToken") : std::nullopt;
    if (!token || token->empty())
      fail(CREDPLUG_ERR_PROVIDER, "the Avni server's generateToken answer has no authToken");
    SecretString out(std::move(*token));
    wipe(*token);
    return out;
  }

  // Cognito InitiateAuth USER_PASSWORD_AUTH; the app client and region come
  // from the server's unauthenticated /idp-details unless configured.
  SecretString cognito_password(Call &call) {
    std::string client_id = cognito_client_id_, endpoint = cognito_endpoint_;
    if (client_id.empty() || endpoint.empty()) {
      HttpRequest idp;
      idp.url = base_ + "/idp-details";
      HttpResponse details = call.send(idp);
      auto body = details.ok() ? JsonDocument::parse_object(details.body()) : std::nullopt;
      if (!body)
        fail(CREDPLUG_ERR_PROVIDER,
             "the Avni server's /idp-details did not answer with JSON (HTTP " + std::to_string(details.status()) + ")");
      if (client_id.empty()) client_id = body->string("/cognito/clientId").value_or("");
      if (endpoint.empty()) {
        std::string region = body->string("/cognito/region").value_or("");
        if (!region.empty()) endpoint = "https://cognito-idp." + region + ".amazonaws.com";
      }
      if (client_id.empty() || endpoint.empty())
        fail(CREDPLUG_ERR_INVALID_CONFIG,
             "this Avni server does not use Cognito (no cognito clientId/region in /idp-details); "
             "use token_flow avni_password or client_credentials");
    }
    HttpRequest http;
    http.method = "POST";
    http.url = parse_https_url("cognito_endpoint", endpoint).str() + "/";
    http.flags = CREDPLUG_HTTP_SECRET_BODY;
    http.header("Content-Type", "application/x-amz-json-1.1");
    http.header("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth");
    http.body = SecretString(R"({"AuthFlow":"USER_PASSWORD_AUTH","ClientId":)" + json_quote(client_id) +
                             R"(,"AuthParameters":{"USERNAME":)" + json_quote(username_) + R"(,"PASSWORD":)" +
                             json_quote(password_.view()) + "}}");
    HttpResponse response = call.send(http);
    auto body = JsonDocument::parse_object(response.body());
    if (response.status() == 400 && body) {
      std::string type = body->string("__type").value_or("");
      if (type.find("NotAuthorized") != std::string::npos || type.find("UserNotFound") != std::string::npos)
        fail(CREDPLUG_ERR_REJECTED, "AWS Cognito refused the username or password (" + type + ")");
      fail(CREDPLUG_ERR_PROVIDER,
           "AWS Cognito refused InitiateAuth: " + (type.empty() ? std::string("HTTP 400") : type));
    }
    if (!response.ok()) oauth2::parse_token_response(call, response, "AWS Cognito InitiateAuth endpoint");
    auto id_token = body ? body->string("/AuthenticationResult/IdToken") : std::nullopt;
    if (!id_token)
      fail(CREDPLUG_ERR_PROVIDER,
           "AWS Cognito's answer has no AuthenticationResult.IdToken (a challenge is not supported)");
    for (const char *other : {"/AuthenticationResult/AccessToken", "/AuthenticationResult/RefreshToken"})
      if (auto v = body->string(other)) call.add_secret(*v);
    SecretString out(std::move(*id_token));
    wipe(*id_token);
    return out;
  }

  std::string base_, flow_, username_, cognito_client_id_, cognito_endpoint_;
  oauth2::ClientCredentialsRequest cc_;
  SecretString password_, token_;
};

}  // namespace

CREDPLUG_PLUGIN(Avni, "avni", "Avni", "1.0.0", credplug_credential_schema, 0)
