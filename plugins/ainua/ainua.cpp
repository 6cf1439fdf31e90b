// Ainua Portal: OAuth 2.0 client credentials against the tenant's Keycloak
// realm "ncp"; the bearer token goes in Authorization (see README.md for why
// not the "Authentication" header the auth page shows).
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

constexpr const char *kTokenPath = "/realms/ncp/protocol/openid-connect/token";

class Ainua final : public Provider {
 public:
  // Keycloak's default access-token lifespan, when the response does not say.
  static constexpr uint32_t kDefaultTokenLifetimeSeconds = 300;

  Ainua(const JsonDocument &credential, Call &) {
    base_ = parse_https_url("ainua_url", credential.string("ainua_url").value_or(""), /*allow_bare_host=*/true).str();
    request_.token_url = join_url(base_, kTokenPath);
    request_.client_id = credential.string("client_id").value_or("");
    request_.client_secret = SecretString(credential.string("client_secret").value_or(""));
    request_.client_auth = oauth2::ClientAuth::Post;  // what the Ainua doc specifies
    request_.scope = credential.string("scope").value_or("");
    request_.endpoint_name = "Ainua token endpoint";
    probe_method_ = credential.string("test_request_method").value_or("GET");
    probe_path_ = credential.string("test_request_path").value_or("");
    probe_body_ = credential.string("test_request_body").value_or("");
  }

  void authenticate(Call &call) override {
    const int64_t now = call.now_seconds();  // expires_in counts from the request
    oauth2::Token token = oauth2::request_client_credentials(call, request_);
    std::optional<int64_t> expires_at;
    if (token.expires_in) {
      expires_at = now + *token.expires_in;
    } else if (auto jwt = decode_jwt(token.access_token.view()); jwt && jwt->exp()) {
      expires_at = jwt->exp();
    }
    call.header("Authorization", "Bearer " + token.access_token.reveal(), /*secret=*/true);
    if (expires_at) call.expires_at(*expires_at);
    token_ = std::move(token.access_token);
  }

  void test(Call &call) override {
    if (token_.empty()) fail(CREDPLUG_ERR_PLUGIN, "test() ran before a successful authenticate()");
    check_token(call);
    if (!probe_path_.empty()) probe_api(call);
  }

 private:
  // Ainua's APIs are write-only: the default test proves what a token
  // request can prove — a JWT, unexpired, issued to this client.
  void check_token(Call &call) const {
    auto jwt = decode_jwt(token_.view());
    if (!jwt)
      fail(CREDPLUG_ERR_PROVIDER,
           "the Ainua token endpoint issued a token that is not a JWT; "
           "Ainua's Keycloak issues JWTs — does ainua_url point at Ainua?");
    auto exp = jwt->exp();
    if (!exp) fail(CREDPLUG_ERR_PROVIDER, "the Ainua token has no exp claim");
    if (*exp <= call.now_seconds())
      fail(CREDPLUG_ERR_PROVIDER,
           "the Ainua token is already expired (exp " + std::to_string(*exp) + "); check this machine's clock");
    std::string issued_to = jwt->claims.string("azp").value_or(jwt->claims.string("client_id").value_or(""));
    if (issued_to.empty()) fail(CREDPLUG_ERR_PROVIDER, "the Ainua token names no client (no azp or client_id claim)");
    if (issued_to != request_.client_id)
      fail(CREDPLUG_ERR_PROVIDER,
           "the Ainua token was issued to client '" + issued_to + "', not to '" + request_.client_id + "'");
    call.output("token_client", issued_to);
    if (auto iss = jwt->claims.string("iss")) call.output("token_issuer", *iss);
    if (auto scope = jwt->claims.string("scope")) call.output("token_scope", *scope);
  }

  void probe_api(Call &call) const {
    HttpRequest http;
    http.method = probe_method_;
    http.url = base_ + probe_path_;
    http.header("Authorization", "Bearer " + token_.reveal());
    http.header("Accept", "application/json");
    if (probe_method_ == "PATCH" || probe_method_ == "POST") {
      http.header("Content-Type", "application/json");
      http.body = SecretString(probe_body_.empty() ? std::string("[]") : probe_body_);
    }
    HttpResponse response = call.send(http);
    const std::string what = probe_method_ + " " + probe_path_;
    const int status = response.status();
    if (response.ok()) {
      call.output("api_probe", what + " -> HTTP " + std::to_string(status));
      return;
    }
    // The method is configurable here, so a 405 is the user's to fix too.
    if (status == 405)
      fail(CREDPLUG_ERR_INVALID_CONFIG, "test_request_path: " + what + " -> HTTP 405; check the path and method");
    expect_success(response, {"the Ainua API", what, "test_request_path", "check the path and method"});
  }

  std::string base_;
  oauth2::ClientCredentialsRequest request_;
  std::string probe_method_, probe_path_, probe_body_;
  SecretString token_;
};

}  // namespace

CREDPLUG_PLUGIN(Ainua, "ainua", "Ainua Portal", "1.0.0", credplug_credential_schema, 0)
