// The egress rule against the URL parser the HTTPS client connects with: a
// credential (up to the first NUL) names origins, the schema declares
// "https://*.fuzz.example", and a plugin asks for a URL (the rest). Whenever
// the policy lets the URL pass and libcurl would send it over https, the
// origin libcurl reaches (split_url: its own parser) must be one the
// credential spells — read by that same parser, as a URL, a bare host or
// as plugins normalise it (kit::parse_https_url) — or match the declared
// pattern. A URL the two read differently ("https://
// allowed.example@evil.example/") would otherwise carry a request, and its
// credentials, elsewhere.
#include "net/egress_policy.hpp"
#include "net/url_parts.hpp"

#include <credplug/kit/url.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

using namespace credplug::host;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Every string in the document, at any depth (names too: harmless here).
void strings(const rapidjson::Value &v, std::vector<std::string> &out, int depth = 0) {
  if (depth > 64) return;
  if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  if (v.IsArray())
    for (const auto &e : v.GetArray()) strings(e, out, depth + 1);
  if (v.IsObject())
    for (const auto &m : v.GetObject()) strings(m.value, out, depth + 1);
}

bool same_origin(const UrlParts &a, const UrlParts &b) {
  return a.scheme == b.scheme && lower(a.host) == lower(b.host) && a.port == b.port;
}

// "*.fuzz.example": one whole label, then the literal rest, on port 443.
bool declared(const UrlParts &o) {
  const std::string host = lower(o.host), suffix = ".fuzz.example";
  if (o.port != "443" || host.size() <= suffix.size() ||
      host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  return host.find('.') == host.size() - suffix.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string input(reinterpret_cast<const char *>(data), size);
  const size_t split = input.find('\0');
  if (split == std::string::npos) return 0;
  const std::string credential = input.substr(0, split), url = input.substr(split + 1);
  static const std::vector<std::string> patterns{"https://*.fuzz.example"};  // outlive the policy
  EgressPolicy policy(patterns, {}, {}, credential);
  if (policy.refusal(url)) return 0;
  const auto target = split_url(url);
  if (!target || target->scheme != "https") return 0;  // the HTTPS client refuses it itself
  if (declared(*target)) return 0;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(credential.c_str(), credential.size());
  std::vector<std::string> named;
  if (!doc.HasParseError()) strings(doc, named);
  for (const auto &s : named) {
    // As written, as a bare host, and as plugins normalise it (what the
    // policy reads: "ten/ant x" is host "ten", though libcurl refuses the
    // whole string for its space).
    std::vector<std::string> candidates{s, "https://" + s};
    try {
      candidates.push_back(credplug::kit::parse_https_url("", s, /*allow_bare_host=*/true).origin);
    } catch (const std::exception &) {
    }
    for (const auto &candidate : candidates)
      if (auto o = split_url(candidate); o && same_origin(*o, *target)) return 0;
  }
  __builtin_trap();  // allowed, yet libcurl would reach an origin nobody named
}
