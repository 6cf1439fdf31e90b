// OpenCRVS v1.4 as its auth service and gateway behave (packages/auth
// system handler): client credentials in the query string only, grant_type
// exactly once, RS256 JWTs without expires_in, a gateway /tokenTest route.
// Mounted under /opencrvs/auth and /opencrvs/gateway (auth.<domain> and
// gateway.<domain> in a deployment).
#include "emulator_state.hpp"

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "opencrvs";

void gateway_error(httplib::Response &res, const std::string &message) {
  res.status = 401;
  res.set_content("{\"statusCode\":401,\"error\":\"Unauthorized\",\"message\":\"" + message + "\"}",
                  "application/json");
}

}  // namespace

void install_opencrvs(httplib::Server &server, Emulator::State &state) {
  server.Post("/opencrvs/auth/token", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "opencrvs.token", req, res)) return;
    // Only the query string counts: v1.4 ignores a form body. httplib merges
    // form bodies into params, so read the target's query ourselves, keeping
    // repeats (the server parses a repeated grant_type as an array: refused).
    std::map<std::string, std::vector<std::string>> query;
    auto q = req.target.find('?');
    if (q != std::string::npos) {
      std::string qs = req.target.substr(q + 1);
      size_t start = 0;
      while (start <= qs.size()) {
        size_t end = qs.find('&', start);
        std::string pair = qs.substr(start, end == std::string::npos ? std::string::npos : end - start);
        size_t eq = pair.find('=');
        if (!pair.empty())
          query[httplib::detail::decode_url(pair.substr(0, eq), true)].push_back(
              eq == std::string::npos ? "" : httplib::detail::decode_url(pair.substr(eq + 1), true));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
    if (query["grant_type"].size() != 1 || query["grant_type"][0] != "client_credentials")
      return oauth_error(res, 400, "unsupported_grant_type", "Unsupported grant_type");
    if (query["client_id"].size() != 1 || query["client_secret"].size() != 1)
      return oauth_error(res, 400, "invalid_request", "Missing client_id or client_secret");
    const std::string id = query["client_id"][0];
    if (!state.client_ok(kProvider, id, query["client_secret"][0]))
      return oauth_error(res, 401, "invalid_client", "Invalid client id or secret");
    const int lifetime = state.token_lifetime(kProvider, 600);  // OpenCRVS' default
    std::string jwt =
        state.issue_jwt(kProvider, id, lifetime,
                        "\"scope\":[\"recordsearch\",\"notification-api\"],\"sub\":\"" + json_escape(id) +
                            "\",\"aud\":[\"opencrvs:auth-user\",\"opencrvs:gateway-user\",\"opencrvs:search-user\"],"
                            "\"iss\":\"opencrvs:auth-service\"",
                        Alg::RS256);
    std::string body = "{\"access_token\":\"" + jwt + "\",\"token_type\":\"Bearer\"}";
    res.set_header("Cache-Control", "no-store");
    state.answer_token(kProvider, res, body);
  });
  server.Get("/opencrvs/auth/.well-known", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "opencrvs.well-known", req, res)) return;
    res.set_content(state.rsa_public_key_pem(), "text/plain");
  });
  server.Get("/opencrvs/gateway/tokenTest", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "opencrvs.api", req, res)) return;
    switch (state.token_status(kProvider, bearer_token(req))) {
      case TokenStatus::Valid:
        return res.set_content("success", "text/plain");
      case TokenStatus::Expired:
        return gateway_error(res, "Expired token");
      case TokenStatus::Invalid:
        return gateway_error(res, "Invalid token");
    }
  });
  // Needs no auth in OpenCRVS: useless as a connection test.
  server.Get("/opencrvs/gateway/location", [](const httplib::Request &, httplib::Response &res) {
    res.set_content("{\"resourceType\":\"Bundle\",\"entry\":[]}", "application/json");
  });
}

}  // namespace credplug::emulator
