#include "net/egress_policy.hpp"

#include "bounded_json.hpp"
#include "net/url_parts.hpp"
#include "secrets/json_wipe.hpp"

#include <credplug/kit/failure.hpp>
#include <credplug/kit/url.hpp>

#include <algorithm>
#include <cctype>

namespace credplug::host {
namespace {

struct Origin {
  std::string host;  // lower-case
  std::string port;  // digits; "443" when the URL gives none
  std::string str() const { return "https://" + host + ":" + port; }
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto &c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The origin an x-credplug-egress pattern names ("https://host[:port]",
// "*" allowed as a label: libcurl's parser refuses such a host, and a pattern
// is the plugin's own declaration, never a URL a request goes to).
std::optional<Origin> pattern_origin(std::string_view url) {
  const std::string_view scheme = "https://";
  if (url.size() < scheme.size() || lower(url.substr(0, scheme.size())) != scheme) return std::nullopt;
  std::string_view rest = url.substr(scheme.size());
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  Origin o;
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    o.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
    if (o.port.empty() || o.port.size() > 5 || !std::all_of(o.port.begin(), o.port.end(), ::isdigit))
      return std::nullopt;
    o.port.erase(0, std::min(o.port.find_first_not_of('0'), o.port.size() - 1));
  } else {
    o.port = "443";
  }
  if (authority.empty()) return std::nullopt;
  o.host = lower(authority);
  return o;
}

std::vector<std::string_view> labels(std::string_view host) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t dot = host.find('.', start);
    out.push_back(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// The origin a request to `url` reaches, read by libcurl's parser as the
// HTTPS client reads it; nullopt for anything but https.
std::optional<Origin> request_origin(const std::string &url) {
  auto parts = split_url(url);
  if (!parts || lower(parts->scheme) != "https") return std::nullopt;
  return Origin{lower(parts->host), parts->port};
}

bool matches(const std::string &pattern, const Origin &o) {
  auto p = pattern_origin(pattern);
  if (!p || p->port != o.port) return false;
  auto want = labels(p->host), have = labels(o.host);
  if (want.size() != have.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "*") {
      if (have[i].empty() || !std::all_of(have[i].begin(), have[i].end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
          }))
        return false;
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> egress_pattern_problem(std::string_view pattern) {
  auto o = pattern_origin(pattern);
  std::string_view rest = pattern.substr(std::min(pattern.size(), std::string_view("https://").size()));
  if (!o || rest.find_first_of("/?#") != std::string_view::npos)
    return "x-credplug-egress entry '" + std::string(pattern) + "' is not https://host[:port]";
  auto parts = labels(o->host);
  for (auto label : parts)
    if (label.empty() || (label != "*" && label.find('*') != std::string_view::npos))
      return "x-credplug-egress entry '" + std::string(pattern) + "' may use '*' only as a whole DNS label";
  if (parts.size() < 2 || parts[parts.size() - 1] == "*" || parts[parts.size() - 2] == "*")
    return "x-credplug-egress entry '" + std::string(pattern) +
           "' must name its last two DNS labels (a wildcard there would allow most of the Internet)";
  return std::nullopt;
}

EgressPolicy::EgressPolicy(const std::vector<std::string> &declared, const std::set<std::string> &secret_fields,
                           const std::vector<kit::SecretString> &also_secret, std::string_view credential_json)
    : declared_(declared) {
  WipingDocument credential;
  rapidjson::Document &doc = credential.doc;
  if (!bounded_json::parse(doc, credential_json).ok) return;
  // Every non-secret string, anywhere in the credential.
  std::vector<std::pair<const rapidjson::Value *, bool>> stack{{&doc, false}};
  while (!stack.empty()) {
    auto [v, secret] = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (const auto &m : v->GetObject())
        stack.push_back({&m.value, secret || secret_fields.count(m.name.GetString())});
    } else if (v->IsArray()) {
      for (const auto &e : v->GetArray()) stack.push_back({&e, secret});
    } else if (v->IsString() && !secret) {
      std::string_view text(v->GetString(), v->GetStringLength());
      // A bare host needs a dot or a port: "connector-1" is an id, not a host.
      if (!request_origin(std::string(text)) && text.find_first_of(".:") == std::string_view::npos) continue;
      if (std::any_of(also_secret.begin(), also_secret.end(), [&](const auto &s) { return s.view() == text; }))
        continue;
      try {
        if (auto o = request_origin(kit::parse_https_url("", text, /*allow_bare_host=*/true).origin))
          origins_.insert(o->str());
      } catch (const kit::Failure &) {
      }
    }
  }
}

std::optional<std::string> EgressPolicy::refusal(std::string_view url) const {
  auto o = request_origin(std::string(url));
  if (!o) return std::nullopt;  // not a URL, or not https: the HTTPS client refuses it with its own message
  if (origins_.count(o->str())) return std::nullopt;
  for (const auto &pattern : declared_)
    if (matches(pattern, *o)) return std::nullopt;
  std::string allowed;
  for (const auto &origin : origins_) allowed += (allowed.empty() ? "" : ", ") + origin;
  for (const auto &pattern : declared_) allowed += (allowed.empty() ? "" : ", ") + pattern;
  return "refused to send a request to " + o->str() +
         ": the plugin may reach only the origins its credential names and its schema declares (x-credplug-egress): " +
         (allowed.empty() ? "none" : allowed);
}

}  // namespace credplug::host
