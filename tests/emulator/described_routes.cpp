// Providers described in JSON (docs/EMULATOR.md), for plugin authors who
// need a token endpoint and an API to test against without writing a
// server; the built-in "oauth2" provider is one of them. A description says
// how tokens are asked for (an RFC 6749 form or a JSON body; Basic or body
// client authentication) and which header, with which scheme, the API wants.
// The usual switches (a status with Retry-After, slow, malformed, truncated)
// apply to both endpoints.
#include "emulator_state.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <strings.h>
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

namespace credplug::emulator {
namespace {

constexpr const char *kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr const char *kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// The token endpoint, or with `revocation` the revocation endpoint (RFC
// 7009), whose client authenticates the same way.
void token(const ProviderDescription &d, Emulator::State &state, const httplib::Request &req, httplib::Response &res,
           bool revocation = false) {
  if (state.enter(d.id, d.id + (revocation ? ".revoke" : ".token"), req, res)) return;
  const bool json = d.token_style == "json";
  const std::string type = req.get_header_value("Content-Type");
  std::map<std::string, std::string> fields;
  if (json) {
    if (type.rfind("application/json", 0) != 0)
      return oauth_error(res, 400, "invalid_request", "Content-Type must be application/json");
    auto body = kit::JsonDocument::parse_object(req.body);
    if (!body) return oauth_error(res, 400, "invalid_request", "the body is not a JSON object");
    for (const char *key :
         {"grant_type", "client_id", "client_secret", "scope", "client_assertion_type", "client_assertion", "assertion",
          "code", "code_verifier", "redirect_uri", "refresh_token", "token", "token_type_hint"})
      if (auto v = body->string(key)) fields[key] = *v;
  } else {
    if (type.rfind("application/x-www-form-urlencoded", 0) != 0)
      return oauth_error(res, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    fields = parse_form(req.body);
  }
  const std::string grant = fields["grant_type"];
  const bool jwt_bearer = grant == kJwtBearerGrant;
  const bool user_grant = revocation || grant == "authorization_code" || grant == "refresh_token";
  if (!revocation && grant != "client_credentials" && !jwt_bearer && !user_grant)
    return oauth_error(
        res, 400, "unsupported_grant_type",
        std::string("grant_type must be client_credentials, authorization_code, refresh_token or ") + kJwtBearerGrant);
  std::string accepted = state.option(d.id, "client_auth");  // a test may narrow it at run time
  if (accepted.empty()) accepted = d.client_auth;
  const std::string audience = state.origin() + d.token_path;  // the token endpoint's URL, whichever is called
  std::string id, secret, problem;
  if (jwt_bearer) {  // RFC 7523 §2.1: the assertion is the grant
    problem = state.check_assertion(d.id, fields["assertion"], audience, false, &id);
    if (!problem.empty()) return oauth_error(res, 400, "invalid_grant", problem);
  } else if (!fields["client_assertion"].empty() || !fields["client_assertion_type"].empty()) {  // §2.2
    if (fields["client_assertion_type"] != kAssertionType)
      return oauth_error(res, 401, "invalid_client", std::string("client_assertion_type must be ") + kAssertionType);
    if (accepted == "basic" || accepted == "post")
      return oauth_error(res, 401, "invalid_client",
                         "this client authenticates with client_secret_" + accepted + " only");
    problem = state.check_assertion(d.id, fields["client_assertion"], audience, true, &id);
    if (!problem.empty()) return oauth_error(res, 401, "invalid_client", problem);
    if (!fields["client_id"].empty() && fields["client_id"] != id)
      return oauth_error(res, 401, "invalid_client", "client_id is not the assertion's issuer");
  } else {
    const bool basic = basic_credentials(req, id, secret);
    if (!basic) {
      id = fields["client_id"];
      secret = fields["client_secret"];
    }
    if (accepted == "private_key_jwt" && !id.empty())
      return oauth_error(res, 401, "invalid_client", "this client authenticates with private_key_jwt only");
    if ((basic && accepted == "post") || (!basic && !id.empty() && accepted == "basic"))
      return oauth_error(res, 401, "invalid_client",
                         "this client authenticates with client_secret_" + accepted + " only");
    if (id.empty()) return oauth_error(res, 401, "invalid_client", "no client authentication");
    // A public client (registered without a secret) has only the user's grants.
    if (secret.empty() && !user_grant)
      return oauth_error(res, 401, "invalid_client", "a public client has no client credentials");
    if (!state.client_ok(d.id, id, secret))
      return oauth_error(res, 401, "invalid_client", "unknown client or wrong secret");
  }
  if (revocation) return revoke_token(d, state, fields, id, res);
  if (grant == "authorization_code") return redeem_code(d, state, fields, id, res);
  if (grant == "refresh_token") return redeem_refresh_token(d, state, fields, id, res);
  const int lifetime = state.token_lifetime(d.id, d.lifetime_s);
  const std::string scope = fields["scope"];
  std::string jwt = state.issue_jwt(d.id, id, lifetime, "\"sub\":\"" + json_escape(id) + "\"");
  std::string body = "{\"access_token\":\"" + jwt +
                     "\",\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(lifetime) +
                     (scope.empty() ? "" : ",\"scope\":\"" + json_escape(scope) + "\"") + "}";
  res.set_header("Cache-Control", "no-store");
  state.answer_token(d.id, res, body);
}

// 401 with what the API expected, as a server that knows its scheme says it.
void refuse(const ProviderDescription &d, httplib::Response &res, const std::string &expected) {
  res.status = 401;
  if (d.api_header == "Authorization" && !d.api_scheme.empty() && d.api_query.empty())
    res.set_header("WWW-Authenticate",
                   d.api_scheme + (d.auth == "basic" ? " realm=\"" + d.id + "\"" : " error=\"invalid_token\""));
  res.set_content("{\"error\":\"invalid_token\",\"expected\":\"" + json_escape(expected) + "\"}", "application/json");
}

// The client a static key or a Basic user:password names, or "".
std::string static_client(const ProviderDescription &d, Emulator::State &state, const httplib::Request &req) {
  if (d.auth == "api_key") {
    std::string key = d.api_query.empty() ? req.get_header_value(d.api_header) : req.get_param_value(d.api_query);
    if (d.api_query.empty() && !d.api_scheme.empty()) {
      if (key.size() <= d.api_scheme.size() ||
          strncasecmp(key.c_str(), d.api_scheme.c_str(), d.api_scheme.size()) != 0 || key[d.api_scheme.size()] != ' ')
        return "";
      key = key.substr(d.api_scheme.size() + 1);
    }
    return key.empty() ? "" : state.client_for_secret(d.id, key);
  }
  // RFC 7617: base64(user-id ":" password), neither form-encoded.
  std::string value = req.get_header_value("Authorization");
  if (value.size() < 7 || strncasecmp(value.c_str(), "Basic ", 6) != 0) return "";
  auto decoded = kit::base64_decode(value.substr(6));
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) return "";
  const std::string user = decoded->substr(0, colon);
  return state.client_ok(d.id, user, decoded->substr(colon + 1)) ? user : "";
}

void api(const ProviderDescription &d, Emulator::State &state, const httplib::Request &req, httplib::Response &res) {
  if (state.enter(d.id, d.id + ".api", req, res)) return;
  if (d.auth != "oauth2") {
    const std::string client = static_client(d, state, req);
    if (client.empty())
      return refuse(d, res,
                    d.auth == "basic"      ? "Authorization: Basic <base64(user:password)>"
                    : !d.api_query.empty() ? "?" + d.api_query + "=<key>"
                    : d.api_scheme.empty() ? d.api_header + ": <key>"
                                           : d.api_header + ": " + d.api_scheme + " <key>");
    return res.set_content("{\"client_id\":\"" + json_escape(client) + "\"}", "application/json");
  }
  std::string value = req.get_header_value(d.api_header);
  std::string token;
  if (d.api_scheme.empty()) {
    token = value;
  } else if (value.size() > d.api_scheme.size() &&
             strncasecmp(value.c_str(), d.api_scheme.c_str(), d.api_scheme.size()) == 0 &&
             value[d.api_scheme.size()] == ' ') {
    token = value.substr(d.api_scheme.size() + 1);
  }
  const IssuedToken *issued = token.empty() ? nullptr : state.valid_token(d.id, token);
  if (issued == nullptr)
    return refuse(d, res, d.api_header + ": " + (d.api_scheme.empty() ? "<token>" : d.api_scheme + " <token>"));
  res.set_content("{\"client_id\":\"" + json_escape(issued->client_id) + "\"}", "application/json");
}

std::string field(const kit::JsonDocument &doc, const char *pointer, const std::string &fallback,
                  const std::vector<std::string> &allowed = {}) {
  if (doc.has(pointer) && !doc.string(pointer))
    throw std::runtime_error(std::string("provider description: ") + pointer + " must be a string");
  std::string value = doc.string(pointer).value_or(fallback);
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string list;
    for (const auto &a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw std::runtime_error(std::string("provider description: ") + pointer + " is '" + value + "'; expected one of " +
                             list);
  }
  return value;
}

// A member the description does not define ("styel") is a mistake to
// name, not a default to apply in silence.
void refuse_unknown_members(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return;  // the kit's parser says what is wrong
  const std::map<std::string, std::set<std::string>> allowed = {
      {"", {"id", "auth", "token", "authorize", "revoke", "api"}},
      {"/authorize", {"path"}},
      {"/revoke", {"path"}},
      {"/token", {"path", "style", "client_auth", "lifetime_s"}},
      {"/api", {"path", "header", "scheme", "query"}}};
  for (const auto &[where, names] : allowed) {
    const rapidjson::Value *object = where.empty() ? &doc : rapidjson::Pointer(where.c_str()).Get(doc);
    if (object == nullptr) continue;
    if (!object->IsObject()) throw std::runtime_error("provider description: " + where + " must be an object");
    for (const auto &member : object->GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      if (names.count(name)) continue;
      std::string list;
      for (const auto &n : names) list += (list.empty() ? "" : ", ") + n;
      throw std::runtime_error("provider description: unknown member " + where + "/" + name + " (" +
                               (where.empty() ? "the top level" : where) + " has " + list + ")");
    }
  }
}

}  // namespace

ProviderDescription parse_description(std::string_view text) {
  std::string problem;
  auto doc = kit::JsonDocument::parse_object(text, &problem);
  if (!doc) throw std::runtime_error("provider description: " + problem);
  refuse_unknown_members(text);
  ProviderDescription d;
  d.id = field(*doc, "/id", "");
  if (!std::regex_match(d.id, std::regex("[a-z0-9][a-z0-9_-]{0,63}")))
    throw std::runtime_error("provider description: /id must be 1-64 characters of a-z, 0-9, '_' and '-'");
  d.auth = field(*doc, "/auth", "oauth2", {"oauth2", "api_key", "basic"});
  if (d.auth != "oauth2" && (doc->has("/token") || doc->has("/authorize") || doc->has("/revoke")))
    throw std::runtime_error(
        "provider description: /token and /authorize are for auth \"oauth2\"; a provider with "
        "auth \"" +
        d.auth + "\" has no token endpoint");
  d.token_path = field(*doc, "/token/path", "/" + d.id + "/token");
  d.authorize_path = field(*doc, "/authorize/path", "/" + d.id + "/authorize");
  d.revoke_path = field(*doc, "/revoke/path", "/" + d.id + "/revoke");
  d.token_style = field(*doc, "/token/style", "form", {"form", "json"});
  d.client_auth = field(*doc, "/token/client_auth", "any", {"basic", "post", "private_key_jwt", "any"});
  if (doc->has("/token/lifetime_s")) {
    auto lifetime = doc->integer("/token/lifetime_s");
    if (!lifetime || *lifetime < 1 || *lifetime > 315360000)
      throw std::runtime_error("provider description: /token/lifetime_s must be 1 .. 315360000 seconds");
    d.lifetime_s = int(*lifetime);
  }
  d.api_path = field(*doc, "/api/path", "/" + d.id + "/me");
  d.api_header = field(*doc, "/api/header", "Authorization");
  d.api_scheme = field(*doc, "/api/scheme", d.auth == "basic" ? "Basic" : d.auth == "api_key" ? "" : "Bearer");
  d.api_query = field(*doc, "/api/query", "");
  if (!d.api_query.empty() && d.auth != "api_key")
    throw std::runtime_error("provider description: /api/query is for auth \"api_key\" (a key in the query string)");
  if (d.auth == "basic" && (d.api_header != "Authorization" || d.api_scheme != "Basic"))
    throw std::runtime_error(
        "provider description: auth \"basic\" is Authorization: Basic (RFC 7617); leave out "
        "/api/header and /api/scheme");
  for (const auto *path : {&d.token_path, &d.authorize_path, &d.revoke_path, &d.api_path})
    if (!std::regex_match(*path, std::regex("/[A-Za-z0-9._~/-]*")) || path->rfind("/_emulator", 0) == 0)
      throw std::runtime_error("provider description: '" + *path + "' is not a plain absolute path outside /_emulator");
  return d;
}

void install_described(httplib::Server &server, Emulator::State &state, const ProviderDescription &d) {
  if (d.auth == "oauth2") {
    server.Post(d.token_path,
                [&state, d](const httplib::Request &req, httplib::Response &res) { token(d, state, req, res); });
    server.Post(d.revoke_path,
                [&state, d](const httplib::Request &req, httplib::Response &res) { token(d, state, req, res, true); });
    install_authorization(server, state, d);
  }
  server.Get(d.api_path, [&state, d](const httplib::Request &req, httplib::Response &res) { api(d, state, req, res); });
}

}  // namespace credplug::emulator
