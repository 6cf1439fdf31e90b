#include "api/pending_authorization.hpp"

#include "net/url_parts.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <cctype>

namespace credplug::host {
namespace {

// Authenticated with each sealed record: a record of another kind (a token
// of the shared cache under the same keys) never opens as one of these.
constexpr std::string_view kContext = "credplug pending authorization v1";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = char(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const int hi = i + 2 < text.size() && text[i] == '%' ? hex_value(text[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
    if (hi >= 0 && lo >= 0) {
      out += char(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// `uri` up to its query: what must equal the redirect URI.
std::string_view before_query(std::string_view uri) { return uri.substr(0, uri.find_first_of("?#")); }

// Printable ASCII only, for messages that quote the provider.
std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) out += c >= 0x20 && c < 0x7f ? c : '?';
  return out;
}

}  // namespace

std::optional<std::string> redirect_uri_problem(const std::string &uri) {
  if (uri.size() > 2048) return "the redirect URI is over 2048 bytes";
  if (uri.find('#') != std::string::npos) return "a redirect URI may have no fragment (RFC 6749 §3.1.2)";
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "the redirect URI has a space or control character";
  auto parts = split_url(uri);
  if (!parts) return "the redirect URI '" + shown(uri) + "' is not a URL";
  if (uri.find('@') != std::string::npos) return "a redirect URI may have no user information";
  if (parts->scheme == "https") return std::nullopt;
  if (parts->scheme == "http" && (parts->host == "127.0.0.1" || parts->host == "[::1]" || parts->host == "::1"))
    return std::nullopt;
  return "the redirect URI must be https://, or http:// on 127.0.0.1 or [::1] (a loopback redirect, RFC 8252 §7.3); "
         "got '" +
         shown(uri) + "'";
}

std::string code_challenge(std::string_view verifier) {
  const auto digest = kit::sha256(verifier);
  return kit::base64url_encode(std::string_view(reinterpret_cast<const char *>(digest.data()), digest.size()));
}

Pending new_pending(const std::string &plugin, std::string_view credential_json, const std::string &redirect_uri,
                    int64_t now_s) {
  Pending p;
  p.plugin = plugin;
  p.credential = SecretString(credential_json);
  p.redirect_uri = redirect_uri;
  p.verifier = SecretString(kit::random_id(32));  // 43 characters of [A-Za-z0-9_-] (RFC 7636 §4.1)
  p.state = kit::random_id(16);
  p.expires_at = now_s + kPendingAuthorizationSeconds;
  return p;
}

SecretString seal_pending(const KeyRing &keys, const Pending &p) {
  SecretString text("{\"v\":1,\"plugin\":" + kit::json_quote(p.plugin) + ",\"label\":" + kit::json_quote(p.label) +
                    ",\"redirect_uri\":" + kit::json_quote(p.redirect_uri) + ",\"state\":" + kit::json_quote(p.state) +
                    ",\"expires_at\":" + std::to_string(p.expires_at) + ",\"verifier\":");
  for (const SecretString *secret : {&p.verifier, &p.credential}) {
    std::string quoted = kit::json_quote(secret->view());
    text.append(quoted);
    kit::wipe(quoted);
    text.append(secret == &p.verifier ? ",\"credential\":" : "}");
  }
  std::string sealed = keys.seal(text.view(), kContext);
  SecretString out(kit::base64url_encode(sealed));
  kit::wipe(sealed);
  return out;
}

Pending open_pending(const KeyRing &keys, std::string_view sealed, int64_t now_s) {
  const std::string refused = "the pending authorization is not one this Host can open";
  auto bytes = kit::base64url_decode(sealed);
  if (!bytes) throw Error(ErrorKind::InvalidInput, refused + " (it is not base64url)");
  std::string unknown_key;
  auto text = keys.open(*bytes, kContext, &unknown_key);
  if (!text)
    throw Error(ErrorKind::InvalidInput,
                refused + (unknown_key.empty()
                               ? " (altered, or not a pending authorization)"
                               : " (sealed with key " + unknown_key + ", which its authorization key file lacks)"));
  auto doc = kit::JsonDocument::parse_object(text->view());
  if (!doc || doc->integer("v").value_or(0) != 1) throw Error(ErrorKind::InvalidInput, refused + " (unknown version)");
  Pending p;
  p.plugin = doc->string("plugin").value_or("");
  p.label = doc->string("label").value_or("");
  p.redirect_uri = doc->string("redirect_uri").value_or("");
  p.state = doc->string("state").value_or("");
  p.expires_at = doc->integer("expires_at").value_or(0);
  p.verifier = SecretString(doc->string("verifier").value_or(""));
  p.credential = SecretString(doc->string("credential").value_or(""));
  if (now_s >= p.expires_at)
    throw Error(ErrorKind::InvalidInput, "the pending authorization expired " + std::to_string(now_s - p.expires_at) +
                                             " s ago (it lasts " + std::to_string(kPendingAuthorizationSeconds) +
                                             " s); begin again");
  return p;
}

std::map<std::string, std::string> query_parameters(std::string_view url) {
  std::map<std::string, std::string> out;
  const size_t q = url.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = url.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    std::string name = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    out.emplace(std::move(name), std::move(value));  // the first of each name
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

SecretString code_from_redirect(const Pending &pending, std::string_view redirect_url) {
  if (before_query(redirect_url) != before_query(pending.redirect_uri))
    throw Error(ErrorKind::InvalidInput, "the redirect went to '" + shown(before_query(redirect_url)) +
                                             "', not to this authorization's redirect URI '" +
                                             shown(pending.redirect_uri) + "'");
  auto params = query_parameters(redirect_url);
  // The state first: an error nobody asked for is no answer to this request.
  if (params["state"] != pending.state)
    throw Error(ErrorKind::InvalidInput,
                params["state"].empty()
                    ? "the redirect carries no state: it is not the answer to this authorization request"
                    : "the redirect's state is not this authorization's: a forged or crossed redirect (CSRF, RFC 6749 "
                      "§10.12); begin again");
  if (auto error = params.find("error"); error != params.end()) {
    const std::string why =
        shown(error->second) +
        (params.count("error_description") ? " (" + shown(params["error_description"]) + ")" : std::string());
    if (error->second == "access_denied") throw Error(ErrorKind::Rejected, "the person did not allow access: " + why);
    throw Error(ErrorKind::Provider, "the provider's authorization endpoint answered with an error: " + why);
  }
  auto code = params.find("code");
  if (code == params.end() || code->second.empty())
    throw Error(ErrorKind::InvalidInput, "the redirect carries no code");
  SecretString out(code->second);
  kit::wipe(code->second);
  return out;
}

std::optional<std::string> authorization_url_problem(const std::string &url, const std::string &state,
                                                     const std::string &challenge) {
  auto parts = split_url(url);
  if (!parts || parts->scheme != "https") return "it is not an https:// URL";
  auto params = query_parameters(url);
  if (params["state"] != state) return "it does not carry the state the host made";
  if (params["code_challenge"] != challenge || params["code_challenge_method"] != "S256")
    return "it does not carry the PKCE challenge the host made (code_challenge, code_challenge_method=S256)";
  if (params["response_type"] != "code") return "its response_type is not code";
  return std::nullopt;
}

}  // namespace credplug::host
