#include "net/url_parts.hpp"

#include <curl/curl.h>

namespace credplug::host {

std::optional<UrlParts> split_url(const std::string &url) {
  CURLU *u = curl_url();
  if (u == nullptr) return std::nullopt;
  UrlParts parts;
  bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK;
  auto get = [&](CURLUPart part, std::string &out, unsigned flags) {
    char *v = nullptr;
    if (curl_url_get(u, part, &v, flags) == CURLUE_OK && v) out = v;
    curl_free(v);
  };
  if (ok) {
    get(CURLUPART_SCHEME, parts.scheme, 0);
    get(CURLUPART_HOST, parts.host, 0);
    get(CURLUPART_PORT, parts.port, CURLU_DEFAULT_PORT);
  }
  curl_url_cleanup(u);
  if (!ok || parts.host.empty()) return std::nullopt;
  return parts;
}

}  // namespace credplug::host
