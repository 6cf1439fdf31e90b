// A user's consent, played for a described OAuth 2.0 provider: the
// authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636, S256 only,
// as RFC 9700 §2.1.1 says), approved at once — or refused by the
// deny_authorization switch — and refresh tokens that rotate on every use.
// A refresh token used twice means it was stolen: the whole family of
// tokens from that authorization is revoked (RFC 9700 §4.14.2), access
// tokens included. Codes live 60 seconds and are single-use; a code used
// twice revokes what it gave (RFC 6749 §4.1.2).
#include "emulator_state.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>

#include <openssl/rand.h>

#include <optional>

namespace credplug::emulator {
namespace {

constexpr int64_t kCodeLifetimeS = 60;
constexpr int64_t kDefaultRefreshLifetimeS = 30LL * 24 * 3600;

std::string random_token(size_t bytes = 24) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char *>(raw.data()), int(raw.size()));
  return kit::base64url_encode(raw);
}

// https://, or a loopback http:// on any port (RFC 8252 §7.3); no fragment.
bool redirect_uri_ok(const std::string &uri) {
  if (uri.find('#') != std::string::npos) return false;
  if (uri.rfind("https://", 0) == 0) return uri.size() > 8;
  for (const char *loopback : {"http://127.0.0.1:", "http://[::1]:", "http://127.0.0.1/", "http://[::1]/"})
    if (uri.rfind(loopback, 0) == 0) return true;
  return false;
}

// RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~].
bool verifier_ok(const std::string &v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (unsigned char c : v)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~') return false;
  return true;
}

// 302 to the client's redirect URI with these parameters (and iss, RFC 9207).
void redirect(httplib::Response &res, const std::string &uri,
              const std::vector<std::pair<std::string, std::string>> &params) {
  std::string location = uri;
  for (const auto &[name, value] : params) {
    if (value.empty()) continue;
    location += (location.find('?') == std::string::npos ? "?" : "&") + name + "=" + kit::url_encode(value);
  }
  res.status = 302;
  res.set_header("Location", location);
  res.set_header("Cache-Control", "no-store");
}

void authorize(const ProviderDescription &d, Emulator::State &state, const httplib::Request &req,
               httplib::Response &res) {
  if (state.enter(d.id, d.id + ".authorize", req, res)) return;
  const std::string client_id = req.get_param_value("client_id");
  const std::string redirect_uri = req.get_param_value("redirect_uri");
  // Not sent back to a redirect URI that cannot be trusted (RFC 6749 §4.1.2.1).
  if (!state.client_known(d.id, client_id)) {
    res.status = 400;
    return res.set_content("unknown client_id '" + client_id + "'", "text/plain");
  }
  if (!redirect_uri_ok(redirect_uri)) {
    res.status = 400;
    return res.set_content("redirect_uri must be https:// or a loopback http://127.0.0.1 or http://[::1] (RFC 8252)",
                           "text/plain");
  }
  const std::string state_param = req.get_param_value("state");
  const std::string iss = state.origin();
  auto refuse = [&](const std::string &error, const std::string &description) {
    redirect(res, redirect_uri,
             {{"error", error}, {"error_description", description}, {"state", state_param}, {"iss", iss}});
  };
  if (req.get_param_value("response_type") != "code")
    return refuse("unsupported_response_type", "response_type must be code");
  const std::string challenge = req.get_param_value("code_challenge");
  if (req.get_param_value("code_challenge_method") != "S256" || challenge.size() != 43)
    return refuse("invalid_request",
                  "PKCE is required: code_challenge (43 characters) with code_challenge_method S256");
  if (state.switches_for(d.id).deny_authorization) return refuse("access_denied", "the user refused");
  const std::string code = random_token();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.codes[code] = Grant{d.id,         client_id, req.get_param_value("scope"),        random_token(9),
                              redirect_uri, challenge, state.now_seconds() + kCodeLifetimeS};
  }
  redirect(res, redirect_uri, {{"code", code}, {"state", state_param}, {"iss", iss}});
}

// A new access token and refresh token of `family`, as the token endpoint answers.
void answer_tokens(const ProviderDescription &d, Emulator::State &state, const Grant &grant,
                   const std::string &refresh_token, httplib::Response &res) {
  const int lifetime = state.token_lifetime(d.id, d.lifetime_s);
  const std::string access =
      state.issue_jwt(d.id, grant.client_id, lifetime, "\"sub\":\"user-of-" + json_escape(grant.client_id) + "\"");
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.tokens[access].family = grant.family;
  }
  res.set_header("Cache-Control", "no-store");
  state.answer_token(d.id, res,
                     "{\"access_token\":\"" + access + "\",\"token_type\":\"Bearer\",\"expires_in\":" +
                         std::to_string(lifetime) + ",\"refresh_token\":\"" + refresh_token + "\"" +
                         (grant.scope.empty() ? "" : ",\"scope\":\"" + json_escape(grant.scope) + "\"") + "}");
}

// A fresh refresh token in the grant's family.
std::string new_refresh_token(const ProviderDescription &d, Emulator::State &state, const Grant &grant) {
  const int configured = state.switches_for(d.id).refresh_lifetime_s;
  Grant refresh = grant;
  refresh.redirect_uri.clear();
  refresh.challenge.clear();
  refresh.used = false;
  refresh.expires_at = state.now_seconds() + (configured > 0 ? configured : kDefaultRefreshLifetimeS);
  std::string token = random_token(32);
  std::lock_guard<std::mutex> lock(state.mutex);
  state.refresh_tokens[token] = refresh;
  return token;
}

}  // namespace

void redeem_code(const ProviderDescription &d, Emulator::State &state, std::map<std::string, std::string> &fields,
                 const std::string &client_id, httplib::Response &res) {
  Grant grant;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    auto it = state.codes.find(fields["code"]);
    if (it == state.codes.end() || it->second.provider != d.id)
      return oauth_error(res, 400, "invalid_grant", "unknown authorization code");
    if (it->second.used) {  // replayed: what it gave is revoked
      state.revoked_families.insert(it->second.family);
      ++state.counts[d.id + ".code_reuse"];
      return oauth_error(res, 400, "invalid_grant", "the authorization code was already used; its tokens are revoked");
    }
    it->second.used = true;
    grant = it->second;
  }
  if (grant.expires_at <= state.now_seconds())
    return oauth_error(res, 400, "invalid_grant", "the authorization code has expired");
  if (grant.client_id != client_id)
    return oauth_error(res, 400, "invalid_grant", "the authorization code was issued to another client");
  if (fields["redirect_uri"] != grant.redirect_uri)
    return oauth_error(res, 400, "invalid_grant", "redirect_uri is not the one of the authorization request");
  const std::string &verifier = fields["code_verifier"];
  const auto digest = kit::sha256(verifier);
  if (!verifier_ok(verifier) || kit::base64url_encode(std::string_view(reinterpret_cast<const char *>(digest.data()),
                                                                       digest.size())) != grant.challenge)
    return oauth_error(res, 400, "invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)");
  answer_tokens(d, state, grant, new_refresh_token(d, state, grant), res);
}

void redeem_refresh_token(const ProviderDescription &d, Emulator::State &state,
                          std::map<std::string, std::string> &fields, const std::string &client_id,
                          httplib::Response &res) {
  const std::string presented = fields["refresh_token"];
  const bool keep = state.switches_for(d.id).keep_refresh_token;
  Grant grant;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    auto it = state.refresh_tokens.find(presented);
    if (it == state.refresh_tokens.end() || it->second.provider != d.id)
      return oauth_error(res, 400, "invalid_grant", "unknown refresh token");
    if (state.revoked_families.count(it->second.family))
      return oauth_error(res, 400, "invalid_grant", "the refresh token was revoked");
    if (it->second.used) {  // rotated away, presented again: stolen or raced
      state.revoked_families.insert(it->second.family);
      ++state.counts[d.id + ".refresh_reuse"];
      return oauth_error(res, 400, "invalid_grant",
                         "the refresh token was already used; every token of this grant is revoked");
    }
    if (it->second.client_id != client_id)
      return oauth_error(res, 400, "invalid_grant", "the refresh token was issued to another client");
    if (it->second.expires_at <= state.now_seconds())
      return oauth_error(res, 400, "invalid_grant", "the refresh token has expired");
    if (!keep) it->second.used = true;
    grant = it->second;
    ++state.counts[d.id + ".refresh"];
  }
  answer_tokens(d, state, grant, keep ? presented : new_refresh_token(d, state, grant), res);
}

void revoke_token(const ProviderDescription &d, Emulator::State &state, std::map<std::string, std::string> &fields,
                  const std::string &client_id, httplib::Response &res) {
  const std::string &token = fields["token"];
  if (token.empty()) return oauth_error(res, 400, "invalid_request", "token is required (RFC 7009 §2.1)");
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    // Whose token it is, of which family: a refresh token, else an access token of a grant.
    std::optional<std::pair<std::string, std::string>> owner_family;
    if (auto it = state.refresh_tokens.find(token); it != state.refresh_tokens.end() && it->second.provider == d.id)
      owner_family.emplace(it->second.client_id, it->second.family);
    else if (auto at = state.tokens.find(token);
             at != state.tokens.end() && at->second.provider == d.id && !at->second.family.empty())
      owner_family.emplace(at->second.client_id, at->second.family);
    if (owner_family) {
      if (owner_family->first != client_id)
        return oauth_error(res, 400, "invalid_request", "the token was issued to another client");
      state.revoked_families.insert(owner_family->second);
      ++state.counts[d.id + ".revoked"];
    }
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
}

void install_authorization(httplib::Server &server, Emulator::State &state, const ProviderDescription &d) {
  server.Get(d.authorize_path,
             [&state, d](const httplib::Request &req, httplib::Response &res) { authorize(d, state, req, res); });
}

}  // namespace credplug::emulator
