#include "secrets/redactor.hpp"
#include "net/https_client.hpp"

#include <credplug/plugin.h>
#include <credplug/kit/encoding.hpp>

#include <doctest/doctest.h>

#include <cstring>

using credplug::host::HttpsClient;
using credplug::host::Redactor;
namespace kit = credplug::kit;

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

TEST_CASE("a call's redactor masks its parent's secrets and its own, longest first across both; its own go with it") {
  Redactor credential;
  credential.add("abcdefgh");
  {
    Redactor call(&credential);
    CHECK(call.empty() == false);
    call.add("cdef");       // inside the parent's: masked as part of it
    call.add("sig-12345");  // the call's own
    CHECK(call.apply("xabcdefghx sig-12345 cdef") == "x[REDACTED]x [REDACTED] [REDACTED]");
    CHECK(credential.apply("sig-12345 cdef") == "sig-12345 cdef");  // never reached the parent
  }
  CHECK(credential.apply("abcdefgh") == "[REDACTED]");
}

TEST_CASE("the redactor drops what only older token requests brought; kept or newer values stay") {
  Redactor r;
  r.add("client-secret-1");      // kept for the redactor's life
  r.add("token-of-epoch-1", 1);  // a token request's
  r.add("token-of-epoch-2", 2);
  r.add("refresh-token-x", 1);
  r.add("refresh-token-x", 3);  // brought again by a later request
  r.add("client-secret-1", 2);  // kept stays kept
  const size_t before = r.size();
  r.retire_before(3);
  CHECK(r.apply("token-of-epoch-1") == "token-of-epoch-1");
  CHECK(r.apply("token-of-epoch-2") == "token-of-epoch-2");
  CHECK(r.apply("dG9rZW4tb2YtZXBvY2gtMg") == "dG9rZW4tb2YtZXBvY2gtMg");  // its base64 forms went too
  CHECK(r.apply("refresh-token-x client-secret-1") == "[REDACTED] [REDACTED]");
  CHECK(r.size() < before);
  r.retire_before(100);
  CHECK(r.apply("refresh-token-x client-secret-1") == "refresh-token-x [REDACTED]");
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

// Issue 18: a server that echoes base64 of the client_id:client_secret pair
// unpadded or in the URL-safe alphabet, or base64 of the secret alone, is
// masked: every secret of 8 or more bytes, at every alignment, both
// alphabets, padded or not.
TEST_CASE("the redactor finds a secret inside base64 text: both alphabets, padded or not, all three alignments") {
  auto url_safe = [](std::string s) {
    for (auto &c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return s;
  };
  auto unpadded = [](std::string s) { return s.substr(0, s.find('=')); };
  // Bytes that make '+' and '/' likely in the encoding.
  const std::string secrets[] = {"s3cr3t-v4lue", "\xfb\xff\xbf~~~?>>>", "exactly8",
                                 "a-rather-longer-client-secret-0123"};
  for (const auto &secret : secrets) {
    Redactor r;
    r.add(secret);
    for (const std::string before : {"", "x", "id", "client:", "a-much-longer-prefix:"})
      for (const std::string after : {"", "!", "ab", ":tail"}) {
        const std::string encoded = kit::base64_encode(before + secret + after);
        for (const auto &form : {encoded, unpadded(encoded), url_safe(encoded), unpadded(url_safe(encoded))}) {
          CAPTURE(form);
          const std::string shown = r.apply(form);
          CHECK(shown.find(Redactor::kMask) != std::string::npos);
          // What is left around the mask is at most two characters a side.
          CHECK(shown.size() <= form.size() - 4 * secret.size() / 3 + 4 + std::strlen(Redactor::kMask));
        }
      }
  }
  // The cases the issue names.
  Redactor r;
  r.add("client-secret-9f2");
  const std::string pair = kit::base64_encode("my-client:client-secret-9f2");
  CHECK(r.apply(unpadded(pair)).find(Redactor::kMask) != std::string::npos);
  CHECK(r.apply(kit::base64url_encode("my-client:client-secret-9f2")).find(Redactor::kMask) != std::string::npos);
  CHECK(r.apply(kit::base64_encode("client-secret-9f2")).find(Redactor::kMask) != std::string::npos);
  // Shorter than 8: not searched for inside base64 (it would mask noise).
  Redactor short_one;
  short_one.add("abc1234");
  CHECK(short_one.apply(kit::base64_encode("abc1234")) == kit::base64_encode("abc1234"));
}

TEST_CASE("adding the same secret again and again keeps one copy (each value once, in order)") {
  Redactor r;
  for (int i = 0; i < 1000; ++i) r.add("the-same-secret-value");
  for (int i = 0; i < 1000; ++i) r.add("secret-number-" + std::to_string(i));
  CHECK(r.apply("x the-same-secret-value y secret-number-999 z") == "x [REDACTED] y [REDACTED] z");
  CHECK(r.apply("secret-number-10") == "[REDACTED]");  // whole, not "[REDACTED]0" through secret-number-1
}

TEST_CASE("past 64 values (where the redactor keeps a set) order, epochs and retirement hold as below it") {
  Redactor r;
  r.add("client-secret-kept");  // kept for the redactor's life
  for (int i = 0; i < 100; ++i) r.add("token-" + std::to_string(i) + "-of-request", 1 + i / 25);  // epochs 1 to 4
  REQUIRE(r.size() > 64);
  r.add("token-0-of-request", 5);                         // brought again by a later request
  r.add("token-99", 4);                                   // inside a longer one
  CHECK(r.apply("token-99-of-request") == "[REDACTED]");  // masked whole, the longer first
  r.retire_before(4);
  CHECK(r.apply("token-1-of-request") == "token-1-of-request");
  CHECK(r.apply("token-74-of-request") == "token-74-of-request");
  CHECK(r.apply("token-75-of-request token-0-of-request") == "[REDACTED] [REDACTED]");
  CHECK(r.apply("x client-secret-kept") == "x [REDACTED]");
  r.retire_before(100);
  CHECK(r.apply("token-0-of-request client-secret-kept") == "token-0-of-request [REDACTED]");
  CHECK(r.size() < 10);
}
