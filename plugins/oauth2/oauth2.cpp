// Any standard OAuth 2.0 provider, for a person's own account: the refresh
// token (from the authorization code grant, or one the provider's console
// issued) buys each access token at the token endpoint (RFC 6749 §6). A
// provider that rotates refresh tokens (RFC 9700 §4.14.2) answers with a new
// one, which becomes the credential's state (plugin.h, minor 4) the moment
// it is read: the host persists it before the access token is used, and
// the old one is never presented again.
#include <credplug/kit.hpp>

#include <cctype>

using namespace credplug::kit;

namespace {

class OAuth2 final : public Provider {
 public:
  OAuth2(const JsonDocument &credential, Call &) {
    token_url_ = parse_https_url("token_url", credential.string("token_url").value_or("")).str();
    if (auto url = credential.string("userinfo_url")) userinfo_url_ = parse_https_url("userinfo_url", *url).str();
    client_id_ = credential.string("client_id").value_or("");
    client_secret_ = SecretString(credential.string("client_secret").value_or(""));
    // A private key says how the client authenticates unless told otherwise.
    const std::string how =
        credential.string("client_auth").value_or(credential.has("private_key") ? "private_key_jwt" : "basic");
    auto auth = oauth2::client_auth_from_string(how);
    if (!auth) fail(CREDPLUG_ERR_INVALID_CONFIG, "client_auth: expected basic, post or private_key_jwt");
    if (*auth == oauth2::ClientAuth::PrivateKeyJwt) {
      load_assertion_key(credential);
      client_auth_ = *auth;
    } else {
      // A public client has no secret to send: its id goes in the body.
      client_auth_ = client_secret_.empty() ? oauth2::ClientAuth::Post : *auth;
    }
    scope_ = credential.string("scope").value_or("");
    if (auto url = credential.string("authorization_url"))
      authorization_url_ = parse_https_url("authorization_url", *url).str();
    if (auto url = credential.string("revocation_url")) revocation_url_ = parse_https_url("revocation_url", *url).str();
    if (auto params = credential.string_members("authorization_params")) {
      for (const auto &param : *params)
        if (!is_parameter_name(param.first))
          fail(CREDPLUG_ERR_INVALID_CONFIG,
               "authorization_params: a parameter's name must be 1 to 64 letters, "
               "digits, '_', '.' or '-'");
        else if (is_protocol_parameter(param.first))
          fail(CREDPLUG_ERR_INVALID_CONFIG,
               "authorization_params/" + param.first + ": the connection sets this parameter itself; leave it out");
      authorization_params_ = std::move(*params);
    }
    header_name_ = credential.string("header_name").value_or("Authorization");
    header_prefix_ = credential.string("header_prefix").value_or("Bearer ");
    typed_refresh_token_ = SecretString(credential.string("refresh_token").value_or(""));
  }

  void authenticate(Call &call) override {
    oauth2::RefreshTokenRequest request;
    request.token_url = token_url_;
    as_client(request);
    request.scope = scope_;
    request.refresh_token = refresh_token(call);
    request.endpoint_name = "token endpoint";
    request.rotated = [&call](const SecretString &rotated) {
      call.set_state("{\"refresh_token\":" + json_quote(rotated.view()) + "}");
    };
    const int64_t sent = call.now_seconds();
    oauth2::Token token = oauth2::request_refresh_token(call, request);
    access_token_ = std::move(token.access_token);
    call.header(header_name_, header_prefix_ + access_token_.reveal(), /*secret=*/true);
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
      call.url(oauth2::authorization_url(authorization_url_, client_id_, auth, scope_, authorization_params_));
      return;
    }
    oauth2::AuthorizationCodeRequest request;
    request.token_url = token_url_;
    as_client(request);
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

  // Disconnecting (RFC 7009): the state's refresh token revoked, and with
  // it the grant. Without a revocation_url there is nothing to ask the
  // provider, which is said rather than pretended.
  void revoke(Call &call) override {
    if (revocation_url_.empty())
      fail(CREDPLUG_ERR_INVALID_CONFIG,
           "revocation_url: required to disconnect the account at the provider (its revocation endpoint, "
           "revocation_endpoint in /.well-known/openid-configuration)");
    oauth2::RevocationRequest request;
    request.revocation_url = revocation_url_;
    request.token_url = token_url_;
    as_client(request);
    request.token = refresh_token(call);
    oauth2::revoke_token(call, request);
  }

  // GET userinfo_url with the token as it is attached; without one, the
  // token was the test.
  void test(Call &call) override {
    if (userinfo_url_.empty()) {
      call.output("test", "a token was obtained (no userinfo_url to call)");
      return;
    }
    HttpRequest http;
    http.url = userinfo_url_;
    http.header(header_name_, header_prefix_ + access_token_.reveal());
    http.header("Accept", "application/json");
    HttpResponse response = call.send(http);
    expect_success(response, {"the provider's API", "GET userinfo_url", "userinfo_url",
                              "is this the provider's userinfo or 'who am I' URL?", "the access token"});
    call.output("userinfo", "HTTP " + std::to_string(response.status()));
  }

 private:
  // The client's authentication, the same in every request to the provider.
  template <class Request>
  void as_client(Request &request) const {
    request.client_id = client_id_;
    request.client_secret = client_secret_;
    request.client_auth = client_auth_;
    request.assertion_key = assertion_key_ ? &*assertion_key_ : nullptr;
    request.key_id = key_id_;
    request.assertion_audience = assertion_audience_;
  }

  // private_key_jwt (RFC 7523 §2.2): the client's key, parsed once.
  void load_assertion_key(const JsonDocument &credential) {
    auto text = credential.string("private_key");
    if (!text)
      fail(CREDPLUG_ERR_INVALID_CONFIG,
           "private_key: required for client_auth private_key_jwt (the client's PEM private key)");
    const SecretString pem(std::move(*text));  // wiped however this ends
    auto alg = jwt_alg_from_string(credential.string("signing_alg").value_or("RS256"));
    if (!alg || *alg == JwtAlg::HS256)
      fail(CREDPLUG_ERR_INVALID_CONFIG, "signing_alg: expected RS256, PS256, ES256 or EdDSA");
    assertion_key_.emplace(SigningKey::load(*alg, pem.view(), nullptr, "private_key"));
    key_id_ = credential.string("key_id").value_or("");
    assertion_audience_ = credential.string("issuer").value_or("");
  }

  static bool is_parameter_name(const std::string &name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    return true;
  }

  // What the authorization request carries already (RFC 6749 §4.1.1, RFC
  // 7636 §4.3): a duplicate would be ambiguous at best.
  static bool is_protocol_parameter(const std::string &name) {
    for (const char *own :
         {"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method"})
      if (name == own) return true;
    return false;
  }

  // The state's refresh token (the newest), else the one typed in. A state
  // without one is a disconnected account (revoke() left {}): the typed
  // one went with the grant.
  SecretString refresh_token(Call &call) const {
    if (auto state = call.state()) {
      if (auto saved = state->string("refresh_token"); saved && !saved->empty()) {
        SecretString out(*saved);
        wipe(*saved);
        return out;
      }
      fail(CREDPLUG_ERR_REAUTHORIZE,
           "the account was disconnected (its state holds no refresh token): connect it again");
    }
    if (typed_refresh_token_.empty())
      fail(CREDPLUG_ERR_REAUTHORIZE,
           "the credential has no refresh token yet: connect the account, or give one in refresh_token");
    return typed_refresh_token_;
  }

  std::string token_url_, authorization_url_, revocation_url_, userinfo_url_, client_id_, scope_;
  std::string header_name_, header_prefix_, key_id_, assertion_audience_;
  std::vector<std::pair<std::string, std::string>> authorization_params_;
  SecretString client_secret_, typed_refresh_token_;
  oauth2::ClientAuth client_auth_ = oauth2::ClientAuth::Basic;
  std::optional<SigningKey> assertion_key_;
  SecretString access_token_;
};

}  // namespace

CREDPLUG_PLUGIN_REQUIRING(4, OAuth2, "oauth2", "OAuth 2.0 account", "1.1.0", credplug_credential_schema, 0)
