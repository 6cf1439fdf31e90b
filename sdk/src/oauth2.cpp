#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>
#include <credplug/kit/oauth2.hpp>

#include <algorithm>
#include <cctype>

namespace credplug::kit::oauth2 {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Server text shown to the user: printable and on one line. Not shortened
// here: the host redacts known secrets from the whole message first and
// shortens it after (a cut made here could keep the first half of a secret
// the redactor then no longer recognises).
std::string sanitize(std::string_view text) {
  std::string out;
  for (unsigned char c : text) out += (c < 0x20 || c == 0x7f) ? ' ' : char(c);
  return out;
}

std::string describe_oauth_error(const std::string &error, const std::optional<std::string> &description) {
  std::string out = sanitize(error);
  if (description && !description->empty()) out += " (" + sanitize(*description) + ")";
  return out;
}

std::string retry_hint(const std::optional<std::string> &retry_after) {
  return retry_after ? "; the server asks to retry after " + sanitize(*retry_after) +
                           (std::all_of(retry_after->begin(), retry_after->end(), ::isdigit) ? " s" : "")
                     : "";
}

}  // namespace

std::optional<ClientAuth> client_auth_from_string(std::string_view name) {
  if (name == "basic") return ClientAuth::Basic;
  if (name == "post") return ClientAuth::Post;
  if (name == "private_key_jwt") return ClientAuth::PrivateKeyJwt;
  return std::nullopt;
}

Token parse_token_response(int status, std::string_view body, std::string_view endpoint_name,
                           const std::optional<std::string> &retry_after, const TokenFields &fields) {
  const std::string where(endpoint_name);
  std::string unparsed;
  auto json = JsonDocument::parse_object(body, &unparsed);
  std::optional<std::string> error = json ? json->string("error") : std::nullopt;
  std::optional<std::string> description = json ? json->string("error_description") : std::nullopt;

  if (status == 200 || status == 201) {
    if (!json)
      fail(CREDPLUG_ERR_PROVIDER, "the " + where + " answered HTTP " + std::to_string(status) +
                                      " but the body is not a JSON object (" + std::to_string(body.size()) +
                                      " bytes: " + unparsed + "); expected {\"access_token\": ...}");
    if (error)
      fail(CREDPLUG_ERR_PROVIDER,
           "the " + where + " answered with an error: " + describe_oauth_error(*error, description));
    auto access = json->string(fields.access_token);
    if (!access || access->empty())
      fail(CREDPLUG_ERR_PROVIDER,
           "the " + where + " answered without " +
               (fields.access_token == "access_token" ? std::string("an access_token (RFC 6749 §5.1 requires one)")
                                                      : "a token at " + fields.access_token));
    Token token;
    token.access_token = SecretString(std::move(*access));
    wipe(*access);
    token.token_type = json->string(fields.token_type).value_or("");
    if (!token.token_type.empty() && lower(token.token_type) != "bearer")
      fail(CREDPLUG_ERR_PROVIDER, "the " + where + " issued a token of type '" + sanitize(token.token_type) +
                                      "'; only Bearer tokens are supported");
    if (json->has(fields.expires_in)) {
      auto expires_in = json->integer(fields.expires_in);
      if (!expires_in || *expires_in <= 0)
        fail(CREDPLUG_ERR_PROVIDER,
             "the " + where + " sent an invalid " + fields.expires_in + " (expected a positive number of seconds)");
      if (*expires_in > kMaxTokenLifetimeSeconds)
        fail(CREDPLUG_ERR_PROVIDER, "the " + where + " sent " + fields.expires_in + " " + std::to_string(*expires_in) +
                                        ", more than 10 years; refusing an absurd token lifetime");
      token.expires_in = expires_in;
    }
    token.scope = json->string("scope").value_or("");
    if (auto refresh = json->string("refresh_token"); refresh && !refresh->empty()) {
      token.refresh_token = SecretString(*refresh);
      wipe(*refresh);
    }
    return token;
  }

  if (error) {
    const std::string e = *error;
    if (e == "invalid_client" || e == "unauthorized_client" || e == "invalid_grant" || e == "access_denied")
      fail(CREDPLUG_ERR_REJECTED,
           "the " + where + " rejected the client credentials: " + describe_oauth_error(e, description));
    if (e == "invalid_scope")
      fail(CREDPLUG_ERR_INVALID_CONFIG,
           "the " + where + " refused the requested scope: " + describe_oauth_error(e, description));
  }
  std::string detail = error ? ": " + describe_oauth_error(*error, description) : "";
  switch (status) {
    case 401:
    case 403:
      fail(CREDPLUG_ERR_REJECTED,
           "the " + where + " refused the credentials (HTTP " + std::to_string(status) + ")" + detail);
    case 404:
      fail(CREDPLUG_ERR_INVALID_CONFIG, "the " + where + " URL was not found (HTTP 404); check the configured URL");
    case 429:
      fail(CREDPLUG_ERR_PROVIDER, "the " + where + " is rate-limiting requests (HTTP 429)" + retry_hint(retry_after));
    default:
      break;
  }
  if (status >= 500)
    fail(CREDPLUG_ERR_PROVIDER,
         "the " + where + " is failing (HTTP " + std::to_string(status) + ")" + detail + retry_hint(retry_after));
  fail(CREDPLUG_ERR_PROVIDER, "the " + where + " answered HTTP " + std::to_string(status) +
                                  (detail.empty() ? " without an OAuth error" : detail));
}

Token parse_token_response(Call &call, const HttpResponse &response, std::string_view endpoint_name,
                           const TokenFields &fields) {
  Token token =
      parse_token_response(response.status(), response.body(), endpoint_name, response.header("Retry-After"), fields);
  call.add_secret(token.access_token.view());
  if (!token.refresh_token.empty()) call.add_secret(token.refresh_token.view());
  return token;
}

namespace {

// A POST of the form (a secret: wiped here) with any extra headers.
HttpRequest token_http_request(Call &call, const std::string &token_url,
                               std::vector<std::pair<std::string, std::string>> &form,
                               std::vector<std::pair<std::string, SecretString>> headers) {
  HttpRequest http;
  http.method = "POST";
  http.url = token_url;
  http.flags = CREDPLUG_HTTP_SECRET_BODY;
  http.header("Content-Type", "application/x-www-form-urlencoded");
  http.header("Accept", "application/json");
  for (auto &h : headers) http.headers.push_back(std::move(h));
  http.body = SecretString(form_encode(form));
  for (auto &field : form) wipe(field.second);
  call.add_secret(http.body.view());
  return http;
}

// POSTs the form (a secret: wiped here) with any extra headers, and reads the answer.
Token send_token_request(Call &call, const std::string &token_url,
                         std::vector<std::pair<std::string, std::string>> &form, const std::string &endpoint_name,
                         std::vector<std::pair<std::string, SecretString>> headers, const TokenFields &fields) {
  HttpResponse response = call.send(token_http_request(call, token_url, form, std::move(headers)));
  return parse_token_response(call, response, endpoint_name, fields);
}

// A JWT of two minutes for the token endpoint, declared secret.
SecretString assertion(Call &call, const SigningKey &key, JwtClaims claims) {
  claims.lifetime_s = 120;
  SecretString jwt = sign_jwt(key, claims, call.now_seconds());
  call.add_secret(jwt.view());
  return jwt;
}

// How the client authenticates at the token endpoint (RFC 6749 §2.3.1, RFC
// 7523 §2.2): a header, or members of the form.
void add_client_auth(Call &call, ClientAuth how, const std::string &client_id, const SecretString &client_secret,
                     const SigningKey *assertion_key, const std::string &key_id, const std::string &audience,
                     std::vector<std::pair<std::string, std::string>> &form,
                     std::vector<std::pair<std::string, SecretString>> &headers) {
  if (how == ClientAuth::Basic) {
    // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
    SecretString pair(url_encode(client_id) + ":" + url_encode(client_secret.view()));
    SecretString encoded(base64_encode(pair.view()));
    SecretString value(std::string_view("Basic "));
    value.append(encoded.view());
    call.add_secret(value.view());
    call.add_secret(encoded.view());  // a server may echo the bare encoded pair
    headers.emplace_back("Authorization", value);
  } else if (how == ClientAuth::PrivateKeyJwt) {
    if (assertion_key == nullptr) fail(CREDPLUG_ERR_PLUGIN, "private_key_jwt without an assertion key");
    JwtClaims claims;
    claims.iss = claims.sub = client_id;
    claims.aud = audience;
    claims.kid = key_id;
    form.emplace_back("client_id", client_id);
    form.emplace_back("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    form.emplace_back("client_assertion", assertion(call, *assertion_key, claims).reveal());
  } else {
    form.emplace_back("client_id", client_id);
    // A public client (RFC 6749 §2.1) has no secret: its id alone.
    if (!client_secret.empty()) form.emplace_back("client_secret", client_secret.reveal());
  }
}

// The client's authentication of any request with the fields of
// ClientCredentialsRequest's (client_auth ... assertion_audience, token_url).
template <class Request>
std::vector<std::pair<std::string, SecretString>> authenticate_client(
    Call &call, const Request &request, std::vector<std::pair<std::string, std::string>> &form) {
  std::vector<std::pair<std::string, SecretString>> headers;
  add_client_auth(call, request.client_auth, request.client_id, request.client_secret, request.assertion_key,
                  request.key_id, request.assertion_audience.empty() ? request.token_url : request.assertion_audience,
                  form, headers);
  return headers;
}

}  // namespace

Token request_client_credentials(Call &call, const ClientCredentialsRequest &request) {
  std::vector<std::pair<std::string, std::string>> form{{"grant_type", "client_credentials"}};
  if (!request.scope.empty()) form.emplace_back("scope", request.scope);
  for (const auto &parameter : request.parameters) form.push_back(parameter);
  auto headers = authenticate_client(call, request, form);
  return send_token_request(call, request.token_url, form, request.endpoint_name, std::move(headers), request.fields);
}

Token request_refresh_token(Call &call, const RefreshTokenRequest &request) {
  std::vector<std::pair<std::string, std::string>> form{{"grant_type", "refresh_token"},
                                                        {"refresh_token", request.refresh_token.reveal()}};
  if (!request.scope.empty()) form.emplace_back("scope", request.scope);
  for (const auto &parameter : request.parameters) form.push_back(parameter);
  auto headers = authenticate_client(call, request, form);
  HttpRequest http = token_http_request(call, request.token_url, form, std::move(headers));
  HttpResponse response = call.send(http);
  // A rotated refresh token first, whatever else the answer holds: the one
  // presented is dead once the provider has answered with another.
  if (response.ok())
    if (auto json = JsonDocument::parse_object(response.body()))
      if (auto refresh = json->string(request.fields.refresh_token); refresh && !refresh->empty()) {
        call.add_secret(*refresh);
        if (request.rotated) request.rotated(SecretString(*refresh));
        wipe(*refresh);
      }
  if (!response.ok())
    if (auto json = JsonDocument::parse_object(response.body()))
      if (json->string("error").value_or("") == "invalid_grant")
        fail(CREDPLUG_ERR_REAUTHORIZE, "the " + request.endpoint_name + " refused the refresh token: " +
                                           describe_oauth_error("invalid_grant", json->string("error_description")) +
                                           "; connect the account again");
  return parse_token_response(call, response, request.endpoint_name, request.fields);
}

std::string authorization_url(const std::string &authorization_endpoint, const std::string &client_id,
                              const credplug_authorization &auth, const std::string &scope,
                              const std::vector<std::pair<std::string, std::string>> &parameters) {
  auto text = [](const char *s) { return std::string(s ? s : ""); };
  std::vector<std::pair<std::string, std::string>> query{{"response_type", "code"},
                                                         {"client_id", client_id},
                                                         {"redirect_uri", text(auth.redirect_uri)},
                                                         {"state", text(auth.state)},
                                                         {"code_challenge", text(auth.code_challenge)},
                                                         {"code_challenge_method", text(auth.code_challenge_method)}};
  if (!scope.empty()) query.emplace_back("scope", scope);
  for (const auto &parameter : parameters) query.push_back(parameter);
  const char joiner = authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  return authorization_endpoint + joiner + form_encode(query);
}

void revoke_token(Call &call, const RevocationRequest &request) {
  std::vector<std::pair<std::string, std::string>> form{{"token", request.token.reveal()}};
  if (!request.token_type_hint.empty()) form.emplace_back("token_type_hint", request.token_type_hint);
  auto headers = authenticate_client(call, request, form);
  HttpResponse response = call.send(token_http_request(call, request.revocation_url, form, std::move(headers)));
  if (response.status() == 200) return;
  std::optional<std::string> error, description;
  if (auto json = JsonDocument::parse_object(response.body())) {
    error = json->string("error");
    description = json->string("error_description");
  }
  const int status = response.status();
  const std::string said = error ? ": " + describe_oauth_error(*error, description) : "";
  int32_t code = CREDPLUG_ERR_PROVIDER;
  if (status == 401 || status == 403 || error.value_or("") == "invalid_client" ||
      error.value_or("") == "unauthorized_client")
    code = CREDPLUG_ERR_REJECTED;
  else if (status == 404 || error.value_or("") == "unsupported_token_type")
    code = CREDPLUG_ERR_INVALID_CONFIG;
  fail(code, "the " + request.endpoint_name + " answered HTTP " + std::to_string(status) + said +
                 (status == 503 ? " (try again later)" : "") + "; the grant was not revoked");
}

Token request_authorization_code(Call &call, const AuthorizationCodeRequest &request) {
  std::vector<std::pair<std::string, std::string>> form{{"grant_type", "authorization_code"},
                                                        {"code", request.code.reveal()},
                                                        {"redirect_uri", request.redirect_uri},
                                                        {"code_verifier", request.code_verifier.reveal()}};
  auto headers = authenticate_client(call, request, form);
  return send_token_request(call, request.token_url, form, request.endpoint_name, std::move(headers), request.fields);
}

Token request_jwt_bearer(Call &call, const JwtBearerRequest &request) {
  if (request.key == nullptr) fail(CREDPLUG_ERR_PLUGIN, "the JWT-bearer grant without a key");
  JwtClaims claims;
  claims.iss = request.issuer;
  claims.sub = request.subject.empty() ? request.issuer : request.subject;
  claims.aud = request.audience.empty() ? request.token_url : request.audience;
  claims.kid = request.key_id;
  claims.strings = request.claims;
  std::vector<std::pair<std::string, std::string>> form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                                        {"assertion", assertion(call, *request.key, claims).reveal()}};
  if (!request.scope.empty()) form.emplace_back("scope", request.scope);
  return send_token_request(call, request.token_url, form, request.endpoint_name, {}, {});
}

}  // namespace credplug::kit::oauth2
