// Ainua Portal as its docs and Keycloak behave: client-credentials tokens
// from realm "ncp", write-only PATCH APIs that want "Authorization: Bearer".
#include "emulator_state.hpp"

#include <regex>

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "ainua";

void token(Emulator::State &state, const httplib::Request &req, httplib::Response &res) {
  if (state.enter(kProvider, "ainua.token", req, res)) return;
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0)
    return oauth_error(res, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  auto form = parse_form(req.body);
  if (form["grant_type"] != "client_credentials")
    return oauth_error(res, 400, "unsupported_grant_type", "Unsupported grant_type");
  // Keycloak accepts client_secret_basic and client_secret_post.
  std::string id, secret;
  if (!basic_credentials(req, id, secret)) {
    id = form["client_id"];
    secret = form["client_secret"];
  }
  if (id.empty()) return oauth_error(res, 400, "invalid_client", "Missing parameter: client_id");
  if (!state.client_ok(kProvider, id, secret))
    return oauth_error(res, 401, "unauthorized_client", "Invalid client or Invalid client credentials");

  const int lifetime = state.token_lifetime(kProvider, 300);  // Keycloak's default
  std::string jwt =
      state.issue_jwt(kProvider, id, lifetime,
                      "\"iss\":\"" + state.origin() + "/realms/ncp\",\"aud\":\"account\",\"sub\":\"service-account-" +
                          json_escape(id) + "\",\"typ\":\"Bearer\",\"azp\":\"" + json_escape(id) +
                          "\",\"scope\":\"profile email\",\"clientId\":\"" + json_escape(id) + "\"");
  std::string body =
      "{\"access_token\":\"" + jwt + "\",\"expires_in\":" + std::to_string(lifetime) +
      ",\"refresh_expires_in\":0,\"token_type\":\"Bearer\",\"not-before-policy\":0,\"scope\":\"profile email\"}";
  res.set_header("Cache-Control", "no-store");
  state.answer_token(kProvider, res, body);
}

void api(Emulator::State &state, const httplib::Request &req, httplib::Response &res) {
  if (state.enter(kProvider, "ainua.api", req, res)) return;
  if (req.method != "PATCH") {
    res.status = 405;
    res.set_header("Allow", "PATCH");
    return;
  }
  std::string token = bearer_token(req);
  if (token.empty() || state.valid_token(kProvider, token) == nullptr) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"ncp\", error=\"invalid_token\"");
    res.set_content("{\"error\":\"invalid_token\"}", "application/json");
    return;
  }
  if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    res.status = 415;
    return;
  }
  if (req.body.empty() || req.body.front() != '[') {
    res.status = 400;
    res.set_content("{\"error\":\"expected a JSON array\"}", "application/json");
    return;
  }
  res.set_content("{\"status\":\"ok\"}", "application/json");
}

}  // namespace

void install_ainua(httplib::Server &server, Emulator::State &state) {
  server.Post("/realms/ncp/protocol/openid-connect/token",
              [&state](const httplib::Request &req, httplib::Response &res) { token(state, req, res); });
  const std::string api_path = R"(/api/integrations/v1/(items|users|accounts))";
  auto handler = [&state](const httplib::Request &req, httplib::Response &res) { api(state, req, res); };
  server.Patch(api_path, handler);
  server.Get(api_path, handler);
  server.Post(api_path, handler);
}

}  // namespace credplug::emulator
