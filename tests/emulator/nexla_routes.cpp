// Nexla as its docs and SDK describe it: a service key (sent as issued in a
// Basic header) buys a session token; API calls need the bearer token and the
// versioned Accept header; /token/refresh renews a still-valid token (and,
// with the refresh_revokes switch, revokes it: a rotating refresh).
// Mounted under /nexla-api, the base path of Nexla's SDK default URL.
#include "emulator_state.hpp"

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "nexla";
constexpr const char *kAccept = "application/vnd.nexla.api.v1+json";

void unauthorized(httplib::Response &res, const std::string &message) {
  res.status = 401;
  res.set_content("{\"message\":\"" + json_escape(message) + "\"}", "application/json");
}

bool accept_ok(const httplib::Request &req, httplib::Response &res) {
  if (req.get_header_value("Accept") == kAccept) return true;
  res.status = 406;
  res.set_content("{\"message\":\"Accept must be application/vnd.nexla.api.v1+json\"}", "application/json");
  return false;
}

// The session answer of /token and /token/refresh.
void session(Emulator::State &state, const std::string &user_id, httplib::Response &res) {
  const int lifetime = state.token_lifetime(kProvider, 300);
  std::string token = state.issue_jwt(kProvider, user_id, lifetime, "\"sub\":\"" + json_escape(user_id) + "\"");
  std::string body = "{\"access_token\":\"" + token +
                     "\",\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(lifetime) +
                     ",\"user\":{\"id\":" + user_id + ",\"email\":\"user" + user_id +
                     "@example.com\",\"full_name\":\"Emulated User\",\"api_key\":\"user-api-key-" + user_id +
                     "-secret\",\"super_user\":false},\"org_membership\":{\"api_key\":\"org-api-key-" + user_id +
                     "-secret\",\"is_admin\":false},\"org\":{\"id\":1,\"name\":\"Emulated Org\"}}";
  state.answer_token(kProvider, res, body);
}

}  // namespace

void install_nexla(httplib::Server &server, Emulator::State &state) {
  server.Post("/nexla-api/token", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "nexla.token", req, res) || !accept_ok(req, res)) return;
    std::string auth = req.get_header_value("Authorization");
    std::string user_id;
    // The service key is the whole Basic credential, compared as issued.
    if (auth.rfind("Basic ", 0) == 0) user_id = state.client_for_secret(kProvider, auth.substr(6));
    if (user_id.empty()) return unauthorized(res, "Invalid service key");
    session(state, user_id, res);
  });
  server.Post("/nexla-api/token/refresh", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "nexla.refresh", req, res) || !accept_ok(req, res)) return;
    const IssuedToken *token = state.valid_token(kProvider, bearer_token(req));
    if (token == nullptr) return unauthorized(res, "Invalid or expired access token");
    const std::string client_id = token->client_id;
    session(state, client_id, res);
    // Rotating: the renewed token is refused from now on, wherever it is.
    if (state.switches_for(kProvider).refresh_revokes) state.refresh_away(bearer_token(req));
  });
  auto api = [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "nexla.api", req, res) || !accept_ok(req, res)) return;
    const IssuedToken *token = state.valid_token(kProvider, bearer_token(req));
    if (token == nullptr) return unauthorized(res, "Unauthorized");
    if (req.path == "/nexla-api/teams") return res.set_content("[]", "application/json");
    res.set_content("{\"id\":" + token->client_id + ",\"email\":\"user" + token->client_id +
                        "@example.com\",\"full_name\":\"Emulated User\"}",
                    "application/json");
  };
  server.Get("/nexla-api/users/current", api);
  server.Get("/nexla-api/teams", api);
}

}  // namespace credplug::emulator
