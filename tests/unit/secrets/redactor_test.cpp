#include "secrets/redactor.hpp"
#include "net/https_client.hpp"

#include <credplug/plugin.h>

#include <doctest/doctest.h>

using credplug::host::HttpsClient;
using credplug::host::Redactor;

TEST_CASE("the redactor masks secrets and their transit forms") {
  Redactor r;
  r.add("s3cr3t/value&x");
  CHECK(r.apply("got s3cr3t/value&x here") == "got [REDACTED] here");
  CHECK(r.apply("form client_secret=s3cr3t%2Fvalue%26x") == "form client_secret=[REDACTED]");
  CHECK(r.apply(R"(json "s3cr3t\/value&x")") == R"(json "[REDACTED]")");
  CHECK(r.apply("twice s3cr3t/value&x s3cr3t/value&x") == "twice [REDACTED] [REDACTED]");
}

TEST_CASE("the redactor masks the longest secret first") {
  Redactor r;
  r.add("abcd");
  r.add("abcdefgh");
  CHECK(r.apply("xabcdefghx") == "x[REDACTED]x");
}

TEST_CASE("very short values are not searched for inside other text") {
  Redactor r;
  r.add("ab");
  CHECK(r.apply("abcabc") == "abcabc");
  CHECK(r.empty());
}

TEST_CASE("display_url elides every query value") {
  CHECK(HttpsClient::display_url("https://auth.x/token?client_id=a&client_secret=b&grant_type=client_credentials") ==
        "https://auth.x/token?client_id=…&client_secret=…&grant_type=…");
  CHECK(HttpsClient::display_url("https://h/p") == "https://h/p");
  CHECK(HttpsClient::display_url("https://h/p#frag") == "https://h/p");
}

TEST_CASE("the HTTPS client refuses what its policy forbids, before any network") {
  HttpsClient client({});
  credplug::host::HttpRequestSpec spec;
  spec.url = "http://127.0.0.1:1/x";
  auto r = client.send(spec);
  CHECK(r.status == 0);
  CHECK(r.error_code == CREDPLUG_ERR_INVALID_CONFIG);
  CHECK(r.error.find("only https:// is allowed") != std::string::npos);

  spec.url = "not a url";
  CHECK(client.send(spec).error.find("not a valid URL") != std::string::npos);

  spec.url = "https://127.0.0.1:1/x";
  spec.headers.emplace_back("X-Evil", credplug::kit::SecretString(std::string("a\r\nInjected: 1")));
  auto injected = client.send(spec);
  CHECK(injected.error_code == CREDPLUG_ERR_INVALID_CONFIG);
  CHECK(injected.error.find("line break") != std::string::npos);
}

// The length rule's boundary, both sides: a secret of exactly kMinLength
// characters is masked; one character less is too common to search for.
TEST_CASE("the redactor masks a secret of exactly the minimum length, and not one shorter") {
  const std::string at_min(Redactor::kMinLength, 'q');
  Redactor r;
  r.add(at_min);
  CHECK_FALSE(r.empty());
  CHECK(r.apply("a " + at_min + " b") == "a [REDACTED] b");
  const std::string below = at_min.substr(1);
  Redactor s;
  s.add(below);
  CHECK(s.empty());
  CHECK(s.apply("a " + below + " b") == "a " + below + " b");
}
