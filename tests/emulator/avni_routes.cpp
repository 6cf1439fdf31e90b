// Avni as avni-server and its identity providers behave: AUTH-TOKEN (raw
// JWT, no Bearer, Authorization never read) on /api/*; tokens from a Cognito
// or Keycloak token endpoint (client credentials), from the server's own
// /api/user/generateToken, or from Cognito InitiateAuth (USER_PASSWORD_AUTH).
// Clients: "avni" (OAuth app clients), "avni-user" (username -> password).
// Option "strict_token_type" = "1": client-credentials tokens get 500, as a
// stock server answers a token of the wrong kind.
#include "emulator_state.hpp"

#include <credplug/kit/json.hpp>

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "avni";

// Client credentials at a Cognito (/oauth2/token) or Keycloak endpoint.
void client_credentials(Emulator::State &state, const httplib::Request &req, httplib::Response &res, bool cognito) {
  if (state.enter(kProvider, "avni.idp_token", req, res)) return;
  auto form = parse_form(req.body);
  if (form["grant_type"] != "client_credentials") return oauth_error(res, 400, "unsupported_grant_type");
  std::string id, secret;
  if (!basic_credentials(req, id, secret)) {
    id = form["client_id"];
    secret = form["client_secret"];
  }
  // Cognito answers a bad client with 400, Keycloak with 401.
  if (!state.client_ok(kProvider, id, secret))
    return oauth_error(res, cognito ? 400 : 401, cognito ? "invalid_client" : "unauthorized_client");
  const int lifetime = state.token_lifetime(kProvider, 300);
  std::string token = state.issue_jwt(kProvider, "cc:" + id, lifetime,
                                      "\"token_use\":\"access\",\"client_id\":\"" + json_escape(id) + "\"");
  state.answer_token(
      kProvider, res,
      "{\"access_token\":\"" + token + "\",\"expires_in\":" + std::to_string(lifetime) + ",\"token_type\":\"Bearer\"}");
}

std::string user_token(Emulator::State &state, const std::string &user) {
  return state.issue_jwt(
      kProvider, "user:" + user, state.token_lifetime(kProvider, 300),
      "\"token_use\":\"id\",\"cognito:username\":\"" + json_escape(user) + "\",\"aud\":\"emu-app-client\"");
}

}  // namespace

void install_avni(httplib::Server &server, Emulator::State &state) {
  server.Post("/oauth2/token", [&state](const httplib::Request &req, httplib::Response &res) {
    client_credentials(state, req, res, true);
  });
  server.Post(
      R"(/auth/realms/([A-Za-z0-9_-]+)/protocol/openid-connect/token)",
      [&state](const httplib::Request &req, httplib::Response &res) { client_credentials(state, req, res, false); });

  server.Post("/api/user/generateToken", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "avni.generate_token", req, res)) return;
    auto body = kit::JsonDocument::parse_object(req.body);
    std::string user = body ? body->string("username").value_or("") : "";
    std::string password = body ? body->string("password").value_or("") : "";
    if (user.empty() || password.empty()) return void(res.status = 400);
    if (!state.client_known("avni-user", user)) return void(res.status = 404);
    if (!state.client_ok("avni-user", user, password)) return void(res.status = 401);
    state.answer_token(kProvider, res, "{\"authToken\":\"" + user_token(state, user) + "\"}");
  });

  server.Get("/idp-details", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "avni.idp_details", req, res)) return;
    res.set_content(
        R"({"idpType":"cognito","cognito":{"poolId":"ap-south-1_emu","clientId":"emu-app-client","region":"ap-south-1"}})",
        "application/json");
  });

  // Cognito's JSON API: POST / with X-Amz-Target.
  server.Post("/", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "avni.cognito", req, res)) return;
    auto amz_error = [&](const std::string &type) {
      res.status = 400;
      res.set_content("{\"__type\":\"" + type + "\",\"message\":\"Incorrect username or password.\"}",
                      "application/x-amz-json-1.1");
    };
    if (req.get_header_value("X-Amz-Target") != "AWSCognitoIdentityProviderService.InitiateAuth")
      return amz_error("UnknownOperationException");
    auto body = kit::JsonDocument::parse_object(req.body);
    if (!body || body->string("AuthFlow").value_or("") != "USER_PASSWORD_AUTH" ||
        body->string("ClientId").value_or("") != "emu-app-client")
      return amz_error("InvalidParameterException");
    std::string user = body->string("/AuthParameters/USERNAME").value_or("");
    if (!state.client_known("avni-user", user)) return amz_error("UserNotFoundException");
    if (!state.client_ok("avni-user", user, body->string("/AuthParameters/PASSWORD").value_or("")))
      return amz_error("NotAuthorizedException");
    std::string id_token = user_token(state, user);
    res.set_content("{\"AuthenticationResult\":{\"IdToken\":\"" + id_token + "\",\"AccessToken\":\"cognito-access-" +
                        user + "-secret\",\"RefreshToken\":\"cognito-refresh-" + user +
                        "-secret\",\"ExpiresIn\":3600,\"TokenType\":\"Bearer\"}}",
                    "application/x-amz-json-1.1");
  });

  server.Get("/api/locations", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "avni.api", req, res)) return;
    // AuthenticationFilter reads AUTH-TOKEN only (httplib matches header
    // names case-insensitively, as the server does); a "Bearer " prefix makes
    // it an unknown token, and Authorization is never read.
    const IssuedToken *token = state.valid_token(kProvider, req.get_header_value("AUTH-TOKEN"));
    if (token == nullptr) {
      res.status = 401;
      return res.set_content(R"({"message":"Unauthorized"})", "application/json");
    }
    if (token->client_id.rfind("cc:", 0) == 0 && state.option(kProvider, "strict_token_type") == "1") {
      res.status = 500;
      return res.set_content(R"({"message":"Internal Server Error"})", "application/json");
    }
    res.set_content(
        R"({"content":[{"name":"Emulated Village","uuid":"loc-1"}],"totalElements":1,"totalPages":1,"pageSize":1})",
        "application/json");
  });
}

}  // namespace credplug::emulator
