#include "net/egress_policy.hpp"

#include "bounded_json.hpp"
#include "net/url_parts.hpp"
#include "secrets/json_wipe.hpp"

#include <credplug/kit/failure.hpp>
#include <credplug/kit/url.hpp>

#include <libpsl.h>

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

// The Public Suffix List as Debian keeps it (the publicsuffix package,
// newer than libpsl's built-in copy when it is), loaded once; read-only
// after, so any thread may ask it.
const psl_ctx_t *public_suffix_list() {
  static const psl_ctx_t *list = psl_latest(nullptr);
  return list;
}

// `under` (or, when only the longer is, `made`) when the Public Suffix
// List holds it as a public suffix; nullopt when neither is.
std::optional<std::string> public_suffix_of(const std::string &under, const std::string &made) {
  for (const std::string *name : {&under, &made})
    if (public_suffix_list() != nullptr && psl_is_public_suffix(public_suffix_list(), name->c_str())) return *name;
  return std::nullopt;
}

// A host name with a letter and a dot in it, or a port after it
// ("connector-1" is an id; "localhost:4443" a host), or a dotted quad, or a
// bracketed IPv6 address.
bool bare_host_name(std::string_view text) {
  if (text.find_first_of(".:") == std::string_view::npos) return false;
  std::string_view host = text;
  if (size_t colon = text.rfind(':'); colon != std::string_view::npos && text.find(']') == std::string_view::npos)
    host = text.substr(0, colon);
  if (host.empty()) return false;
  if (host.front() == '[') return true;
  if (std::any_of(host.begin(), host.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
    return true;
  const auto parts = labels(host);  // digits only: an address only as four numbers
  return parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
           return !p.empty() && p.size() <= 3 && std::all_of(p.begin(), p.end(), ::isdigit);
         });
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
  // What the last '*' stands under must not be a public suffix: "*.co.uk"
  // and "*.github.io" name every site registered there, not the plugin's
  // provider. Nor may what it makes be one ("*.compute.amazonaws.com"
  // makes "x.compute.amazonaws.com", itself a suffix under which anyone
  // registers).
  for (size_t i = parts.size(); i-- > 0;) {
    if (parts[i] != "*") continue;
    std::string under;
    for (size_t j = i + 1; j < parts.size(); ++j) under += (under.empty() ? "" : ".") + std::string(parts[j]);
    if (auto suffix = public_suffix_of(under, "example." + under))
      return "x-credplug-egress entry '" + std::string(pattern) + "' puts a wildcard under " + *suffix +
             ", a public suffix (the Public Suffix List): it would allow every site registered there";
    break;
  }
  return std::nullopt;
}

EgressPolicy::EgressPolicy(const std::vector<std::string> &declared, const std::set<std::string> &secret_fields,
                           const std::vector<kit::SecretString> &also_secret, std::string_view credential_json,
                           const std::set<std::string> &address_fields)
    : declared_(&declared) {
  WipingDocument credential;
  rapidjson::Document &doc = credential.doc;
  if (!bounded_json::parse(doc, credential_json).ok) return;
  // Every non-secret string, anywhere in the credential; whether it is in a
  // field marked as an address.
  struct Item {
    const rapidjson::Value *value;
    bool secret, address;
  };
  std::vector<Item> stack{{&doc, false, false}};
  std::vector<std::string> origins;
  while (!stack.empty()) {
    auto [v, secret, address] = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (const auto &m : v->GetObject())
        stack.push_back({&m.value, secret || secret_fields.count(m.name.GetString()) != 0,
                         address_fields.count(m.name.GetString()) != 0});
    } else if (v->IsArray()) {
      for (const auto &e : v->GetArray()) stack.push_back({&e, secret, address});
    } else if (v->IsString() && !secret) {
      std::string_view text(v->GetString(), v->GetStringLength());
      // An https:// URL anywhere; a bare host only where the schema says an
      // address goes, and never one that reads as a number ("127.1" is
      // 127.0.0.1 to libcurl, "2.1" is 2.0.0.1): a version is not a host.
      if (!request_origin(std::string(text)) && !(address && bare_host_name(text))) continue;
      if (std::any_of(also_secret.begin(), also_secret.end(), [&](const auto &s) { return s.view() == text; }))
        continue;
      try {
        if (auto o = request_origin(kit::parse_https_url("", text, /*allow_bare_host=*/true).origin))
          origins.push_back(o->str());
      } catch (const kit::Failure &) {
      }
    }
  }
  std::sort(origins.begin(), origins.end());
  origins.erase(std::unique(origins.begin(), origins.end()), origins.end());
  for (const auto &o : origins) origins_ += (origins_.empty() ? "\n" : "") + o + "\n";
  origins_.shrink_to_fit();
}

const std::vector<std::string> EgressPolicy::kNone;

std::optional<std::string> EgressPolicy::refusal(std::string_view url) const {
  auto o = request_origin(std::string(url));
  if (!o) return std::nullopt;  // not a URL, or not https: the HTTPS client refuses it with its own message
  if (origins_.find("\n" + o->str() + "\n") != std::string::npos) return std::nullopt;
  for (const auto &pattern : *declared_)
    if (matches(pattern, *o)) return std::nullopt;
  std::string allowed;
  for (size_t at = 1; at < origins_.size(); at = origins_.find('\n', at) + 1)
    allowed += (allowed.empty() ? "" : ", ") + origins_.substr(at, origins_.find('\n', at) - at);
  for (const auto &pattern : *declared_) allowed += (allowed.empty() ? "" : ", ") + pattern;
  return "refused to send a request to " + o->str() +
         ": the plugin may reach only the origins its credential names and its schema declares (x-credplug-egress): " +
         (allowed.empty() ? "none" : allowed);
}

}  // namespace credplug::host
