// Splitting a URL with libcurl's own parser (CURLU): the HTTPS client and
// the egress policy must read a URL exactly as libcurl will when it
// connects, or a URL one reads differently from the other ("https://
// allowed.example@evil.example/") would pass the policy and reach another
// host.
#pragma once

#include <optional>
#include <string>

namespace credplug::host {

struct UrlParts {
  std::string scheme, host, port;  // port: the scheme's default when the URL gives none
};

// nullopt when libcurl cannot parse `url` or it names no host.
std::optional<UrlParts> split_url(const std::string &url);

}  // namespace credplug::host
