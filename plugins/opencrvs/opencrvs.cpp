// OpenCRVS v1.4: client credentials in the token request's query string (the
// v1.4 auth service ignores a form body), an RS256 JWT whose exp is the only
// expiry, and the gateway's /tokenTest as the connection test.
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

class OpenCrvs final : public Provider {
 public:
  // OpenCRVS docs: client tokens live 10 minutes by default.
  static constexpr uint32_t kDefaultTokenLifetimeSeconds = 600;

  OpenCrvs(const JsonDocument &credential, Call &) {
    auth_ = parse_https_url("auth_url", credential.string("auth_url").value_or("")).str();
    gateway_ = parse_https_url("gateway_url", credential.string("gateway_url").value_or("")).str();
    client_id_ = credential.string("client_id").value_or("");
    client_secret_ = SecretString(credential.string("client_secret").value_or(""));
  }

  void authenticate(Call &call) override {
    HttpRequest http;
    http.method = "POST";
    // grant_type exactly once: the doc's example repeats it, which the server
    // parses as an array and refuses.
    http.url = join_url(auth_, "/token") + "?" +
               form_encode({{"client_id", client_id_},
                            {"client_secret", client_secret_.reveal()},
                            {"grant_type", "client_credentials"}});
    http.flags = CREDPLUG_HTTP_SECRET_QUERY;
    http.header("Accept", "application/json");
    HttpResponse response = call.send(http);
    wipe(http.url);
    oauth2::Token token = oauth2::parse_token_response(call, response, "OpenCRVS auth service");
    auto jwt = decode_jwt(token.access_token.view());
    if (!jwt || !jwt->exp())
      fail(CREDPLUG_ERR_PROVIDER, "the OpenCRVS auth service issued a token that is not a JWT with an exp claim");
    call.header("Authorization", "Bearer " + token.access_token.reveal(), /*secret=*/true);
    call.expires_at(*jwt->exp());
    scope_ = jwt->claims.strings("scope").value_or(std::vector<std::string>{});
    token_ = std::move(token.access_token);
  }

  void test(Call &call) override {
    HttpRequest http;
    http.url = join_url(gateway_, "/tokenTest");
    http.header("Authorization", "Bearer " + token_.reveal());
    HttpResponse response = call.send(http);
    auto body = JsonDocument::parse_object(response.body());
    std::string why = body ? body->string("message").value_or("") : "";  // "Expired token", "Invalid token"
    expect_success(response, {"the OpenCRVS gateway", "GET /tokenTest", "gateway_url", "is this the OpenCRVS gateway?",
                              "the token", why.empty() ? "" : " (" + why + ")"});
    std::string scope;
    for (const auto &s : scope_) scope += (scope.empty() ? "" : " ") + s;
    call.output("scope", scope.empty() ? "(none)" : scope);
  }

 private:
  std::string auth_, gateway_, client_id_;
  SecretString client_secret_, token_;
  std::vector<std::string> scope_;
};

}  // namespace

CREDPLUG_PLUGIN(OpenCrvs, "opencrvs", "OpenCRVS", "1.0.0", credplug_credential_schema, 0)
