// The egress policy: which origins a plugin's requests may reach.
#include "net/egress_policy.hpp"

#include <doctest/doctest.h>

using credplug::host::egress_pattern_problem;
using credplug::host::EgressPolicy;
using credplug::kit::SecretString;

namespace {

bool allowed(const EgressPolicy &p, const std::string &url) { return !p.refusal(url).has_value(); }

}  // namespace

TEST_CASE("egress: the credential's https URLs and bare hosts count, normalised; ids and secrets do not") {
  const std::vector<std::string> none;
  EgressPolicy p(none, {"client_secret"}, {SecretString(std::string("vault.example.org"))},
                 R"({"base_url": "https://API.Example.com/v1/", "auth": {"url": "https://auth.example.com:8443"},
                     "tenant": "tenant.ainua.fi", "emulator": "localhost:4443", "client_id": "connector-1",
                     "client_secret": "secret.example.net", "loaded": "vault.example.org"})",
                 {"tenant", "emulator", "client_id", "client_secret", "loaded"});
  CHECK(allowed(p, "https://api.example.com/v1/token?x=1"));
  CHECK(allowed(p, "https://api.example.com:443/other"));
  CHECK(allowed(p, "https://auth.example.com:8443/oauth2/token"));
  CHECK(allowed(p, "https://tenant.ainua.fi/api/token"));
  CHECK(allowed(p, "https://localhost:4443/"));
  CHECK_FALSE(allowed(p, "https://auth.example.com/"));    // another port
  CHECK_FALSE(allowed(p, "https://connector-1/"));         // an id is not a host
  CHECK_FALSE(allowed(p, "https://secret.example.net/"));  // a writeOnly value never counts
  CHECK_FALSE(allowed(p, "https://vault.example.org/"));   // nor a value $file loaded
  CHECK_FALSE(allowed(p, "https://api.example.com.evil.io/"));
  // Read as libcurl reads it: user info before the host is not the host.
  CHECK_FALSE(allowed(p, "https://api.example.com@evil.io/"));
  CHECK_FALSE(allowed(p, "https://user:pw@evil.io/token"));
  CHECK_FALSE(allowed(p, "HTTPS://EVIL.IO/"));
  auto why = p.refusal("https://evil.example.io/steal");
  REQUIRE(why);
  CHECK(why->find("https://evil.example.io:443") != std::string::npos);
  CHECK(why->find("https://api.example.com:443") != std::string::npos);  // what is allowed, to fix it
}

TEST_CASE("egress: a declared pattern's '*' stands for exactly one DNS label") {
  const std::vector<std::string> declared{"https://cognito-idp.*.amazonaws.com", "https://api.nexla.io"};
  EgressPolicy p(declared, {}, {}, "{}");
  CHECK(allowed(p, "https://cognito-idp.eu-west-1.amazonaws.com/"));
  CHECK(allowed(p, "https://api.nexla.io/token"));
  CHECK_FALSE(allowed(p, "https://cognito-idp.amazonaws.com/"));
  CHECK_FALSE(allowed(p, "https://cognito-idp.a.b.amazonaws.com/"));
  CHECK_FALSE(allowed(p, "https://cognito-idp.eu-west-1.amazonaws.com:8443/"));
  CHECK_FALSE(allowed(p, "https://evil.com/?https://api.nexla.io"));
}

TEST_CASE("egress: x-credplug-egress entries are checked") {
  CHECK_FALSE(egress_pattern_problem("https://cognito-idp.*.amazonaws.com"));
  CHECK_FALSE(egress_pattern_problem("https://api.nexla.io:8443"));
  CHECK(egress_pattern_problem("http://api.nexla.io"));
  CHECK(egress_pattern_problem("https://api.nexla.io/path"));
  CHECK(egress_pattern_problem("https://*"));
  CHECK(egress_pattern_problem("https://*.com"));
  CHECK(egress_pattern_problem("https://a.*"));
  CHECK(egress_pattern_problem("https://ab*.example.com"));
}

// Issue 18: "*.co.uk" and "*.github.io" were accepted. Checked against the
// Public Suffix List (libpsl, Debian's publicsuffix), not a hand-kept one.
TEST_CASE("egress: no wildcard directly under a public suffix, ICANN's or a private one") {
  auto why = egress_pattern_problem("https://*.co.uk");
  REQUIRE(why);
  CHECK(why->find("puts a wildcard under co.uk, a public suffix (the Public Suffix List)") != std::string::npos);
  CHECK(egress_pattern_problem("https://*.github.io"));              // a private-section suffix
  CHECK(egress_pattern_problem("https://*.blogspot.com"));           // another
  CHECK(egress_pattern_problem("https://api.*.github.io"));          // the last '*' decides: under github.io
  CHECK(egress_pattern_problem("https://*.compute.amazonaws.com"));  // makes x.compute.amazonaws.com, a suffix
  CHECK_FALSE(egress_pattern_problem("https://*.example.co.uk"));    // under a registrable domain
  CHECK_FALSE(egress_pattern_problem("https://tenant.*.nexla.io"));
  CHECK_FALSE(egress_pattern_problem("https://cognito-idp.*.amazonaws.com"));  // Avni's, shipped
}

// Issue 18: "version": "127.1" allowed requests to 127.0.0.1:443, and "2.1"
// to 2.0.0.1:443. A bare value counts only in a field the schema marks as an
// address, and never when it reads as a number.
TEST_CASE("egress: only addresses open egress: a bare host only in an address field, never a number or version") {
  const std::string credential = R"({"version": "127.1", "release": "2.1", "name": "api.example.com",
                                    "host": "tenant.example.com:8443", "ip": "10.0.0.7", "numeric": "127.1",
                                    "dotted": "1.2.3", "nested": {"url": "https://deep.example.com"}})";
  const std::vector<std::string> none;
  EgressPolicy p(none, {}, {}, credential, {"host", "ip", "numeric", "dotted"});
  CHECK_FALSE(allowed(p, "https://127.0.0.1/"));        // "127.1", unmarked and a number
  CHECK_FALSE(allowed(p, "https://2.0.0.1/"));          // "2.1"
  CHECK_FALSE(allowed(p, "https://api.example.com/"));  // a host name, but in no address field
  CHECK(allowed(p, "https://tenant.example.com:8443/"));
  CHECK(allowed(p, "https://10.0.0.7/"));          // four numbers in an address field: an address
  CHECK_FALSE(allowed(p, "https://1.2.0.3/"));     // "1.2.3" even there: a version
  CHECK(allowed(p, "https://deep.example.com/"));  // an https:// URL counts anywhere
}
