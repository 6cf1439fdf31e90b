// URL checks that providers' docs state as rules ("https only, no trailing
// slash, no /api"), with messages that name the field and show the fix.
#pragma once

#include <string>
#include <string_view>

namespace credplug::kit {

struct HttpsUrl {
  std::string origin;  // "https://host[:port]"
  std::string path;    // "" or "/..." without a trailing slash
  std::string str() const { return origin + path; }
};

// Parses an https:// URL, or a bare "host[:port][/path]" when
// `allow_bare_host` is set (https:// is then implied). Throws
// Failure(CREDPLUG_ERR_INVALID_CONFIG) naming `field`: http:// or another
// scheme, user info, a query or fragment, an empty or invalid host.
// A trailing slash is removed.
HttpsUrl parse_https_url(std::string_view field, std::string_view value, bool allow_bare_host = false);

// Joins a base and a path ("/x") with exactly one slash between them.
std::string join_url(std::string_view base, std::string_view path);

}  // namespace credplug::kit
