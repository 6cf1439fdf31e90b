// What a token endpoint sends back, through the kit's OAuth 2.0 parsing, its
// JSON views and JWT decoding: no crash, no hang, no unbounded recursion.
#include <credplug/kit/failure.hpp>
#include <credplug/kit/json.hpp>
#include <credplug/kit/jwt.hpp>
#include <credplug/kit/oauth2.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace credplug::kit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const int kStatuses[] = {200, 201, 400, 401, 403, 404, 429, 500, 503, 302};
  const int status = kStatuses[data[0] % 10];
  std::string_view body(reinterpret_cast<const char *>(data) + 1, size - 1);
  try {
    oauth2::Token token = oauth2::parse_token_response(status, body, "fuzz endpoint", std::string(body.substr(0, 8)));
    if (token.access_token.empty()) __builtin_trap();  // success means a token
    if (token.expires_in && (*token.expires_in <= 0 || *token.expires_in > oauth2::kMaxTokenLifetimeSeconds))
      __builtin_trap();
  } catch (const Failure &) {
  }
  if (auto jwt = decode_jwt(body)) {
    (void)jwt->exp();
    (void)jwt->iat();
    (void)jwt->claims.strings("aud");
    (void)jwt->claims.raw("/a/b");
  }
  if (auto doc = JsonDocument::parse_object(body)) {
    (void)doc->integer("expires_in");
    (void)doc->string("/error");
    (void)doc->raw("");
  }
  return 0;
}
