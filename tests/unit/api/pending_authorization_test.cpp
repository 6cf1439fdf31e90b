// The host's side of the authorization code grant, without a provider:
// which redirect URIs it takes, the pending authorization sealed and opened
// (expiry, tampering, another key), and the checks on the redirect.
#include "api/pending_authorization.hpp"

#include <doctest/doctest.h>

using namespace credplug;
using namespace credplug::host;

namespace {

KeyRing ring(char digit) { return KeyRing::from_text(std::string(64, digit), "test key"); }

std::string message_of(const std::function<void()> &f, ErrorKind expected) {
  try {
    f();
  } catch (const Error &e) {
    CHECK(e.kind() == expected);
    return e.what();
  }
  FAIL("no error");
  return "";
}

}  // namespace

TEST_CASE("authorization: redirect URIs are https://, or http:// on a loopback address (RFC 8252 §7.3)") {
  CHECK_FALSE(redirect_uri_problem("https://app.example/cb"));
  CHECK_FALSE(redirect_uri_problem("http://127.0.0.1:8123/callback"));
  CHECK_FALSE(redirect_uri_problem("http://[::1]:8123/callback"));
  CHECK(redirect_uri_problem("http://app.example/cb"));
  CHECK(redirect_uri_problem("http://localhost:8123/cb"));  // a name may not resolve to loopback
  CHECK(redirect_uri_problem("https://app.example/cb#frag"));
  CHECK(redirect_uri_problem("https://user@app.example/cb"));
  CHECK(redirect_uri_problem("https://app.example/c b"));
  CHECK(redirect_uri_problem("https://app.example/" + std::string(3000, 'a')));
  CHECK(redirect_uri_problem("not a url"));
}

TEST_CASE("authorization: a pending authorization opens with its key until it expires, and in no other way") {
  Pending p = new_pending("oauth2", R"({"client_secret": "CANARY-pending"})", "https://app.example/cb", 1000);
  p.label = "tenant-7";
  CHECK(p.verifier.size() == 43);  // RFC 7636 §4.1: 43 to 128 characters
  CHECK(p.state.size() == 22);
  CHECK(code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");  // RFC 7636 Appendix B
  const SecretString sealed = seal_pending(ring('a'), p);
  CHECK(sealed.view().find("CANARY") == std::string_view::npos);
  Pending opened = open_pending(ring('a'), sealed.view(), 1599);
  CHECK(opened.plugin == "oauth2");
  CHECK(opened.label == "tenant-7");
  CHECK(opened.state == p.state);
  CHECK(opened.verifier.view() == p.verifier.view());
  CHECK(opened.credential.view() == p.credential.view());
  CHECK(opened.redirect_uri == "https://app.example/cb");
  CHECK(message_of([&] { open_pending(ring('a'), sealed.view(), 1600); }, ErrorKind::InvalidInput).find("expired") !=
        std::string::npos);
  CHECK(message_of([&] { open_pending(ring('b'), sealed.view(), 1000); }, ErrorKind::InvalidInput)
            .find("not one this Host can open") != std::string::npos);
  std::string tampered = sealed.reveal();
  tampered[40] = tampered[40] == 'x' ? 'y' : 'x';
  message_of([&] { open_pending(ring('a'), tampered, 1000); }, ErrorKind::InvalidInput);
  message_of([&] { open_pending(ring('a'), "%%%", 1000); }, ErrorKind::InvalidInput);
}

TEST_CASE("authorization: the redirect must answer this request: its URI, its state, no error") {
  Pending p = new_pending("oauth2", "{}", "http://127.0.0.1:5000/callback", 0);
  const std::string base = "http://127.0.0.1:5000/callback?";
  CHECK(code_from_redirect(p, base + "code=abc%2Bd+e&state=" + p.state + "&iss=x").view() == "abc+d e");
  CHECK(
      message_of([&] { code_from_redirect(p, base + "code=abc&state=other"); }, ErrorKind::InvalidInput).find("CSRF") !=
      std::string::npos);
  message_of([&] { code_from_redirect(p, base + "code=abc"); }, ErrorKind::InvalidInput);
  message_of([&] { code_from_redirect(p, "http://127.0.0.1:5001/callback?code=abc&state=" + p.state); },
             ErrorKind::InvalidInput);
  message_of([&] { code_from_redirect(p, base + "state=" + p.state); }, ErrorKind::InvalidInput);
  CHECK(message_of([&] { code_from_redirect(p, base + "error=access_denied&state=" + p.state); }, ErrorKind::Rejected)
            .find("did not allow access") != std::string::npos);
  message_of([&] { code_from_redirect(p, base + "error=server_error&state=" + p.state); }, ErrorKind::Provider);
  // An error without our state is no answer to our request.
  message_of([&] { code_from_redirect(p, base + "error=access_denied"); }, ErrorKind::InvalidInput);
}

TEST_CASE("authorization: the plugin's URL must carry the host's state and challenge, over https") {
  const std::string ok =
      "https://idp.example/authorize?response_type=code&state=S&code_challenge=C"
      "&code_challenge_method=S256&client_id=x";
  CHECK_FALSE(authorization_url_problem(ok, "S", "C"));
  CHECK(authorization_url_problem(ok, "T", "C"));
  CHECK(authorization_url_problem(ok, "S", "D"));
  CHECK(
      authorization_url_problem("http://idp.example/authorize?response_type=code&state=S&code_challenge=C"
                                "&code_challenge_method=S256",
                                "S", "C"));
  CHECK(authorization_url_problem("https://idp.example/authorize?state=S&code_challenge=C&code_challenge_method=S256",
                                  "S", "C"));
}
