// OAuth 2.0 client credentials (RFC 6749 §4.4) and token responses (§5.1,
// §5.2): the request every OAuth provider plugin makes, written once.
#pragma once

#include <credplug/kit/call.hpp>
#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::kit::oauth2 {

// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
enum class ClientAuth {
  Basic,  // client_secret_basic: Authorization: Basic b64(urlenc(id):urlenc(secret))
  Post,   // client_secret_post: client_id and client_secret in the form body
};

// "basic" / "post" as written in schemas; nullopt for anything else.
std::optional<ClientAuth> client_auth_from_string(std::string_view name);

struct ClientCredentialsRequest {
  std::string token_url;
  std::string client_id;
  SecretString client_secret;
  ClientAuth client_auth = ClientAuth::Post;
  std::string scope;  // sent only when not empty
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
};

// Sends the request through the host and parses the answer. Throws Failure:
// REJECTED for invalid_client/unauthorized_client/invalid_grant, 401 or 403;
// INVALID_CONFIG for invalid_scope or a 404 token URL; PROVIDER for 5xx,
// 429, non-JSON or a missing access_token; NETWORK when nothing arrived.
// The token (and the Basic header) are declared secret to the host at once.
Token request_client_credentials(Call &call, const ClientCredentialsRequest &request);

// The parsing half, for providers whose request differs (query-string or
// JSON token requests). `endpoint_name` is used in messages.
Token parse_token_response(int status, std::string_view body, std::string_view endpoint_name,
                           const std::optional<std::string> &retry_after = std::nullopt);

}  // namespace credplug::kit::oauth2
