#include <credplug/kit/encoding.hpp>
#include <credplug/kit/jwt.hpp>

#include <doctest/doctest.h>

using namespace credplug::kit;

TEST_CASE("sign_hs256 matches the RFC 7519 / jwt.io HS256 example") {
  // The well-known example token, signed with "your-256-bit-secret".
  SecretString jwt = sign_hs256(R"({"sub":"1234567890","name":"John Doe","iat":1516239022})", "your-256-bit-secret");
  CHECK(
      jwt.reveal() ==
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

TEST_CASE("decode_jwt reads header and claims without verifying") {
  SecretString jwt = sign_hs256(R"({"exp":2000000000,"iat":1900000000,"aud":["a","b"],"azp":"me"})", "k");
  auto decoded = decode_jwt(jwt.view());
  REQUIRE(decoded);
  CHECK(decoded->header.string("alg").value() == "HS256");
  CHECK(decoded->exp().value() == 2000000000);
  CHECK(decoded->iat().value() == 1900000000);
  CHECK(decoded->claims.strings("aud").value().size() == 2);
  CHECK(decoded->claims.string("azp").value() == "me");
}

TEST_CASE("decode_jwt refuses what is not a JWT") {
  CHECK_FALSE(decode_jwt("").has_value());
  CHECK_FALSE(decode_jwt("opaque-token").has_value());
  CHECK_FALSE(decode_jwt("a.b").has_value());
  CHECK_FALSE(decode_jwt("a.b.c.d").has_value());
  CHECK_FALSE(decode_jwt("!!!.e30.x").has_value());
  CHECK_FALSE(decode_jwt(base64url_encode("[1]") + "." + base64url_encode("{}") + ".x").has_value());
  CHECK(decode_jwt(base64url_encode("{}") + "." + base64url_encode("{}") + ".").has_value());
}
