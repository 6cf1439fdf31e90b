#include <credplug/kit/failure.hpp>
#include <credplug/kit/url.hpp>

#include <cctype>

namespace credplug::kit {
namespace {

bool valid_host_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }

[[noreturn]] void reject(std::string_view field, const std::string &why) {
  fail(CREDPLUG_ERR_INVALID_CONFIG, std::string(field) + ": " + why);
}

}  // namespace

HttpsUrl parse_https_url(std::string_view field, std::string_view value, bool allow_bare_host) {
  std::string_view rest = value;
  auto scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string scheme(rest.substr(0, scheme_end));
    for (auto &c : scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "http")
      reject(field, "plain http:// is refused (credentials would travel unencrypted); use https://" +
                        std::string(rest.substr(scheme_end + 3)));
    if (scheme != "https") reject(field, "the scheme '" + scheme + "' is not supported; expected https://");
    rest.remove_prefix(scheme_end + 3);
  } else if (!allow_bare_host) {
    reject(field, "expected an absolute https:// URL, e.g. https://" + std::string(value));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) reject(field, "must not contain a query (?) or fragment (#)");
  size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string path(path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start));
  if (authority.find('@') != std::string_view::npos) reject(field, "must not contain user info (user@host)");
  std::string_view host = authority;
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
      reject(field, "the port '" + std::string(port) + "' is not a number from 1 to 65535");
    host = authority.substr(0, colon);
  }
  if (host.empty()) reject(field, "has no host name");
  for (char c : host)
    if (!valid_host_char(c)) reject(field, "the host name '" + std::string(host) + "' has an invalid character");
  while (!path.empty() && path.back() == '/') path.pop_back();
  return HttpsUrl{"https://" + std::string(authority), path};
}

std::string join_url(std::string_view base, std::string_view path) {
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (path.empty()) return out;
  if (path.front() != '/') out += '/';
  out += path;
  return out;
}

}  // namespace credplug::kit
