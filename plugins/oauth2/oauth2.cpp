// Any standard OAuth 2.0 provider, for a person's own account: the refresh
// token (from the authorization code grant, or one the provider's console
// issued) buys each access token at the token endpoint (RFC 6749 §6). A
// provider that rotates refresh tokens (RFC 9700 §4.14.2) answers with a new
// one, which becomes the credential's state (plugin.h, minor 4) the moment
// it is read: the host persists it before the access token is used, and
// the old one is never presented again.
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

class OAuth2 final : public Provider {
 public:
  OAuth2(const JsonDocument &credential, Call &) {
    token_url_ = parse_https_url("token_url", credential.string("token_url").value_or("")).str();
    if (auto url = credential.string("userinfo_url")) userinfo_url_ = parse_https_url("userinfo_url", *url).str();
    client_id_ = credential.string("client_id").value_or("");
    client_secret_ = SecretString(credential.string("client_secret").value_or(""));
    const std::string how = credential.string("client_auth").value_or("basic");
    auto auth = oauth2::client_auth_from_string(how);
    if (!auth || *auth == oauth2::ClientAuth::PrivateKeyJwt)
      fail(CREDPLUG_ERR_INVALID_CONFIG, "client_auth: expected basic or post");
    // A public client has no secret to send: its id goes in the body.
    client_auth_ = client_secret_.empty() ? oauth2::ClientAuth::Post : *auth;
    scope_ = credential.string("scope").value_or("");
    if (auto url = credential.string("authorization_url"))
      authorization_url_ = parse_https_url("authorization_url", *url).str();
    typed_refresh_token_ = SecretString(credential.string("refresh_token").value_or(""));
  }

  void authenticate(Call &call) override {
    oauth2::RefreshTokenRequest request;
    request.token_url = token_url_;
    request.client_id = client_id_;
    request.client_secret = client_secret_;
    request.client_auth = client_auth_;
    request.scope = scope_;
    request.refresh_token = refresh_token(call);
    request.endpoint_name = "token endpoint";
    request.rotated = [&call](const SecretString &rotated) {
      call.set_state("{\"refresh_token\":" + json_quote(rotated.view()) + "}");
    };
    const int64_t sent = call.now_seconds();
    oauth2::Token token = oauth2::request_refresh_token(call, request);
    access_token_ = std::move(token.access_token);
    call.header("Authorization", "Bearer " + access_token_.reveal(), /*secret=*/true);
    if (token.expires_in) call.expires_at(sent + *token.expires_in);
    if (!token.scope.empty()) call.output("scope", token.scope);
  }

  // The authorization code grant: the URL, then the code redeemed for the
  // refresh token that becomes the state.
  void authorize(Call &call, const credplug_authorization &auth) override {
    if (auth.code == nullptr) {
      if (authorization_url_.empty())
        fail(CREDPLUG_ERR_INVALID_CONFIG,
             "authorization_url: required to connect an account (the provider's "
             "authorization endpoint)");
      call.url(oauth2::authorization_url(authorization_url_, client_id_, auth, scope_));
      return;
    }
    oauth2::AuthorizationCodeRequest request;
    request.token_url = token_url_;
    request.client_id = client_id_;
    request.client_secret = client_secret_;
    request.client_auth = client_auth_;
    request.code = SecretString(std::string_view(auth.code));
    request.redirect_uri = auth.redirect_uri;
    request.code_verifier = SecretString(std::string_view(auth.code_verifier ? auth.code_verifier : ""));
    oauth2::Token token = oauth2::request_authorization_code(call, request);
    if (token.refresh_token.empty())
      fail(CREDPLUG_ERR_PROVIDER,
           "the token endpoint redeemed the code but issued no refresh token, so the account "
           "cannot be kept connected (does the provider want a scope such as offline_access?)");
    call.set_state("{\"refresh_token\":" + json_quote(token.refresh_token.view()) + "}");
  }

  // GET userinfo_url with the token; without one, the token was the test.
  void test(Call &call) override {
    if (userinfo_url_.empty()) {
      call.output("test", "a token was obtained (no userinfo_url to call)");
      return;
    }
    HttpRequest http;
    http.url = userinfo_url_;
    http.header("Authorization", "Bearer " + access_token_.reveal());
    http.header("Accept", "application/json");
    HttpResponse response = call.send(http);
    expect_success(response, {"the provider's API", "GET userinfo_url", "userinfo_url",
                              "is this the provider's userinfo or 'who am I' URL?", "the access token"});
    call.output("userinfo", "HTTP " + std::to_string(response.status()));
  }

 private:
  // The state's refresh token (the newest), else the one typed in.
  SecretString refresh_token(Call &call) const {
    if (auto state = call.state())
      if (auto saved = state->string("refresh_token"); saved && !saved->empty()) {
        SecretString out(*saved);
        wipe(*saved);
        return out;
      }
    if (typed_refresh_token_.empty())
      fail(CREDPLUG_ERR_REAUTHORIZE,
           "the credential has no refresh token yet: connect the account, or give one in refresh_token");
    return typed_refresh_token_;
  }

  std::string token_url_, authorization_url_, userinfo_url_, client_id_, scope_;
  SecretString client_secret_, typed_refresh_token_;
  oauth2::ClientAuth client_auth_ = oauth2::ClientAuth::Basic;
  SecretString access_token_;
};

}  // namespace

CREDPLUG_PLUGIN_REQUIRING(4, OAuth2, "oauth2", "OAuth 2.0 account", "1.0.0", credplug_credential_schema, 0)
