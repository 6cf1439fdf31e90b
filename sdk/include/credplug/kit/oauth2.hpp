// OAuth 2.0 client credentials (RFC 6749 §4.4) and token responses (§5.1,
// §5.2): the request every OAuth provider plugin makes, written once.
#pragma once

#include <credplug/kit/call.hpp>
#include <credplug/kit/crypto.hpp>
#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::kit::oauth2 {

// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
enum class ClientAuth {
  Basic,          // client_secret_basic: Authorization: Basic b64(urlenc(id):urlenc(secret))
  Post,           // client_secret_post: client_id and client_secret in the form body
  PrivateKeyJwt,  // private_key_jwt (RFC 7523 §2.2): a JWT signed with the client's key, in the body
};

// "basic" / "post" / "private_key_jwt" as written in schemas; nullopt for anything else.
std::optional<ClientAuth> client_auth_from_string(std::string_view name);

// Where a token response keeps the token and its lifetime: a member name or
// an RFC 6901 pointer ("/data/token") each. The defaults are RFC 6749 §5.1's.
struct TokenFields {
  std::string access_token = "access_token";
  std::string expires_in = "expires_in";
  std::string token_type = "token_type";
  std::string refresh_token = "refresh_token";
};

struct ClientCredentialsRequest {
  std::string token_url;
  std::string client_id;
  SecretString client_secret;
  ClientAuth client_auth = ClientAuth::Post;
  // PrivateKeyJwt: the key that signs the assertion (iss = sub = client_id,
  // aud = token_url, 2 minutes, a random jti), and its id at the provider.
  const SigningKey *assertion_key = nullptr;
  std::string key_id;
  // The assertion's aud when not the token URL: the issuer identifier, which
  // FAPI 2.0 and RFC 9126 servers want (and RFC 7523 servers accept).
  std::string assertion_audience;
  std::string scope;  // sent only when not empty
  // More form parameters the provider wants ("audience"), sent as given.
  std::vector<std::pair<std::string, std::string>> parameters;
  TokenFields fields;  // where the answer keeps the token
  // The provider's name in messages: "Ainua token endpoint".
  std::string endpoint_name = "token endpoint";
};

// The longest token lifetime taken at its word (10 years): anything longer is
// a broken server, and would overflow arithmetic on Unix milliseconds.
constexpr int64_t kMaxTokenLifetimeSeconds = 10LL * 365 * 24 * 3600;

struct Token {
  SecretString access_token;
  std::string token_type;             // as sent; may be empty
  std::optional<int64_t> expires_in;  // seconds
  std::string scope;                  // as granted, if sent
  SecretString refresh_token;         // if sent (declared secret to the host at once)
};

// Sends the request through the host and parses the answer. Throws Failure:
// REJECTED for invalid_client/unauthorized_client/invalid_grant, 401 or 403;
// INVALID_CONFIG for invalid_scope or a 404 token URL; PROVIDER for 5xx,
// 429, non-JSON or a missing access_token; NETWORK when nothing arrived.
// The token (and the Basic header) are declared secret to the host at once.
Token request_client_credentials(Call &call, const ClientCredentialsRequest &request);

// The JWT-bearer grant (RFC 7523 §2.1; service accounts): a JWT signed with
// `key` is the grant. Errors as request_client_credentials().
struct JwtBearerRequest {
  std::string token_url;
  const SigningKey *key = nullptr;
  std::string issuer;    // the client or service account
  std::string subject;   // whom the token acts for; empty: the issuer
  std::string audience;  // empty: token_url
  std::string key_id;
  std::string scope;                                        // sent as the form's scope when not empty
  std::vector<std::pair<std::string, std::string>> claims;  // more string claims (Google's "scope")
  std::string endpoint_name = "token endpoint";
};
Token request_jwt_bearer(Call &call, const JwtBearerRequest &request);

// The refresh-token grant (RFC 6749 §6): a new access token, and from a
// provider that rotates them (RFC 9700 §4.14.2) a new refresh token in
// Token::refresh_token that replaces the one presented, which is dead from
// now on: put it in the credential's state (Call::set_state) before
// anything else. invalid_grant (the refresh token revoked, expired or
// presented twice) throws Failure(CREDPLUG_ERR_REAUTHORIZE): only the user,
// connecting the account again, can mend it. Other errors as
// request_client_credentials(); the client authenticates as there (a
// public client: ClientAuth::Post with an empty secret sends only its id).
struct RefreshTokenRequest {
  std::string token_url;
  std::string client_id;
  SecretString client_secret;
  ClientAuth client_auth = ClientAuth::Post;
  const SigningKey *assertion_key = nullptr;  // PrivateKeyJwt
  std::string key_id;
  std::string assertion_audience;
  SecretString refresh_token;
  std::string scope;  // sent only when not empty (a narrower scope)
  std::vector<std::pair<std::string, std::string>> parameters;
  TokenFields fields;
  std::string endpoint_name = "token endpoint";
  // Called with a new refresh token as soon as the answer is read, before
  // anything in it is checked: make it the credential's state here.
  std::function<void(const SecretString &)> rotated;
};
Token request_refresh_token(Call &call, const RefreshTokenRequest &request);

// The authorization code grant (RFC 6749 §4.1, PKCE RFC 7636), the two
// halves of Provider::authorize(). The URL to send the person to: the
// authorization endpoint with response_type=code, client_id, the host's
// redirect_uri, state and challenge, the scope when not empty, and more
// parameters the provider wants ("access_type=offline", "prompt=consent").
std::string authorization_url(const std::string &authorization_endpoint, const std::string &client_id,
                              const credplug_authorization &auth, const std::string &scope = "",
                              const std::vector<std::pair<std::string, std::string>> &parameters = {});

// Redeems the code (with the same redirect_uri and the verifier) at the
// token endpoint; the client authenticates as in RefreshTokenRequest. A
// refused code (used, expired, a wrong verifier): Failure(REJECTED). The
// answer's refresh token is in Token::refresh_token.
struct AuthorizationCodeRequest {
  std::string token_url;
  std::string client_id;
  SecretString client_secret;
  ClientAuth client_auth = ClientAuth::Post;
  const SigningKey *assertion_key = nullptr;
  std::string key_id;
  std::string assertion_audience;
  SecretString code;
  std::string redirect_uri;
  SecretString code_verifier;
  TokenFields fields;
  std::string endpoint_name = "token endpoint";
};
Token request_authorization_code(Call &call, const AuthorizationCodeRequest &request);

// Token revocation (RFC 7009), Provider::revoke(): POSTs the token (a
// refresh token revokes its whole grant) to the revocation endpoint, the
// client authenticated as in RefreshTokenRequest (a private_key_jwt
// assertion's audience: assertion_audience, else token_url). 200 is
// success, also for a token the provider no longer knows (RFC 7009 §2.2).
// Throws Failure: REJECTED for invalid_client, 401 or 403; INVALID_CONFIG
// for unsupported_token_type or a 404 URL; PROVIDER for anything else
// (503 among them: try again later); NETWORK when nothing arrived.
struct RevocationRequest {
  std::string revocation_url;
  std::string token_url;
  std::string client_id;
  SecretString client_secret;
  ClientAuth client_auth = ClientAuth::Post;
  const SigningKey *assertion_key = nullptr;
  std::string key_id;
  std::string assertion_audience;
  SecretString token;
  std::string token_type_hint = "refresh_token";  // sent when not empty
  std::string endpoint_name = "revocation endpoint";
};
void revoke_token(Call &call, const RevocationRequest &request);

// The parsing half, for providers whose request differs (query-string or
// JSON token requests): the response's status, body and Retry-After, and
// the token (with a refresh_token, if sent) declared secret to the host at
// once, as request_client_credentials() does. `endpoint_name` is used in
// messages.
Token parse_token_response(Call &call, const HttpResponse &response, std::string_view endpoint_name,
                           const TokenFields &fields = {});

// The same without a call: nothing is declared secret (declare the token
// yourself, at once). For tests and tools.
Token parse_token_response(int status, std::string_view body, std::string_view endpoint_name,
                           const std::optional<std::string> &retry_after = std::nullopt,
                           const TokenFields &fields = {});

}  // namespace credplug::kit::oauth2
