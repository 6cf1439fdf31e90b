// JWTs: decoding claims (without verifying: the provider verifies its own
// tokens; we only read exp, aud and the like) and HS256 signing for
// providers that want a self-signed user token (Avon Health).
#pragma once

#include <credplug/kit/json.hpp>
#include <credplug/kit/secret.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace credplug::kit {

struct DecodedJwt {
  JsonDocument header;
  JsonDocument claims;
  std::optional<int64_t> exp() const { return claims.integer("exp"); }
  std::optional<int64_t> iat() const { return claims.integer("iat"); }
};

// nullopt unless `token` is three base64url parts whose first two are JSON
// objects. Never throws; never copies the token anywhere else.
std::optional<DecodedJwt> decode_jwt(std::string_view token);

// header.payload.signature with {"alg":"HS256","typ":"JWT"} and HMAC-SHA256
// over the given claims JSON (an object, serialised by the caller).
SecretString sign_hs256(std::string_view claims_json, std::string_view key);

}  // namespace credplug::kit
