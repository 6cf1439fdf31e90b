// "oauth2": a plain RFC 6749 provider for plugin authors (the examples, the
// `credplug new` scaffold): client-credentials tokens at /oauth/token with
// client_secret_basic or client_secret_post (option "client_auth": "basic"
// or "post" accepts only that one), and a connection-test endpoint
// /oauth/me that wants "Authorization: Bearer <token>" and says who the
// token belongs to. The usual switches (503, 429 + Retry-After, slow,
// malformed) apply to both.
#include "emulator_state.hpp"

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "oauth2";

void token(Emulator::State &state, const httplib::Request &req, httplib::Response &res) {
  if (state.enter(kProvider, "oauth2.token", req, res)) return;
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0)
    return oauth_error(res, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  auto form = parse_form(req.body);
  if (form["grant_type"] != "client_credentials")
    return oauth_error(res, 400, "unsupported_grant_type", "grant_type must be client_credentials");
  const std::string accepted = state.option(kProvider, "client_auth");
  std::string id, secret;
  const bool basic = basic_credentials(req, id, secret);
  if (!basic) {
    id = form["client_id"];
    secret = form["client_secret"];
  }
  if ((basic && accepted == "post") || (!basic && !id.empty() && accepted == "basic"))
    return oauth_error(res, 401, "invalid_client",
                       "this client authenticates with client_secret_" + accepted + " only");
  if (id.empty()) return oauth_error(res, 401, "invalid_client", "no client authentication");
  if (!state.client_ok(kProvider, id, secret)) return oauth_error(res, 401, "invalid_client", "unknown client or wrong secret");
  const int lifetime = state.token_lifetime(kProvider, 3600);
  const std::string scope = form["scope"];
  std::string jwt = state.issue_jwt(kProvider, id, lifetime, "\"sub\":\"" + json_escape(id) + "\"");
  std::string body = "{\"access_token\":\"" + jwt + "\",\"token_type\":\"Bearer\",\"expires_in\":" +
                     std::to_string(lifetime) + (scope.empty() ? "" : ",\"scope\":\"" + json_escape(scope) + "\"") + "}";
  res.set_header("Cache-Control", "no-store");
  state.answer_token(kProvider, res, body);
}

void me(Emulator::State &state, const httplib::Request &req, httplib::Response &res) {
  if (state.enter(kProvider, "oauth2.api", req, res)) return;
  const IssuedToken *issued = state.valid_token(kProvider, bearer_token(req));
  if (issued == nullptr) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return res.set_content("{\"error\":\"invalid_token\"}", "application/json");
  }
  res.set_content("{\"client_id\":\"" + json_escape(issued->client_id) + "\"}", "application/json");
}

}  // namespace

void install_oauth2(httplib::Server &server, Emulator::State &state) {
  server.Post("/oauth/token", [&state](const httplib::Request &req, httplib::Response &res) { token(state, req, res); });
  server.Get("/oauth/me", [&state](const httplib::Request &req, httplib::Response &res) { me(state, req, res); });
}

}  // namespace credplug::emulator
