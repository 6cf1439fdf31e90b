#include <credplug/kit/failure.hpp>
#include <credplug/kit/url.hpp>

#include <doctest/doctest.h>

using namespace credplug::kit;

namespace {
std::string error_of(std::string_view value, bool bare = false) {
  try {
    parse_https_url("base_url", value, bare);
  } catch (const Failure &f) {
    CHECK(f.code() == CREDPLUG_ERR_INVALID_CONFIG);
    return f.what();
  }
  return "";
}
}  // namespace

TEST_CASE("parse_https_url accepts https URLs and bare hosts when allowed") {
  CHECK(parse_https_url("u", "https://example.org").str() == "https://example.org");
  CHECK(parse_https_url("u", "https://example.org/").str() == "https://example.org");
  CHECK(parse_https_url("u", "HTTPS://example.org:8443/auth/").str() == "https://example.org:8443/auth");
  CHECK(parse_https_url("u", "example.org:8443", true).origin == "https://example.org:8443");
  CHECK(parse_https_url("u", "example.org/x", true).path == "/x");
}

TEST_CASE("parse_https_url names the field, the rule and the fix") {
  CHECK(error_of("http://example.org").find("base_url: plain http:// is refused") == 0);
  CHECK(error_of("http://example.org").find("use https://example.org") != std::string::npos);
  CHECK(error_of("ftp://example.org").find("'ftp' is not supported") != std::string::npos);
  CHECK(error_of("example.org").find("expected an absolute https:// URL") != std::string::npos);
  CHECK(error_of("https://example.org/?q=1").find("query") != std::string::npos);
  CHECK(error_of("https://user:pw@example.org").find("user info") != std::string::npos);
  CHECK(error_of("https://example.org:99999").find("port") != std::string::npos);
  CHECK(error_of("https://").find("no host") != std::string::npos);
  CHECK(error_of("https://exa mple.org").find("invalid character") != std::string::npos);
}

TEST_CASE("join_url puts exactly one slash between base and path") {
  CHECK(join_url("https://h", "/a") == "https://h/a");
  CHECK(join_url("https://h/", "/a") == "https://h/a");
  CHECK(join_url("https://h", "a") == "https://h/a");
  CHECK(join_url("https://h/", "") == "https://h");
}
