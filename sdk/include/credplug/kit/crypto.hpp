// Crypto a provider needs, done once and right: SHA-256, HMAC-SHA-256,
// random bytes, and JWTs signed with a private key given as a credential
// value (private_key_jwt, the JWT-bearer grant, a self-signed user token).
// Built on OpenSSL's libcrypto, which every kit plugin links (a plugin may
// call it directly too; the kit's own calls are these).
#pragma once

#include <credplug/kit/secret.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::kit {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view data);
std::string sha256_hex(std::string_view data);  // lowercase
// 32 raw bytes, a secret (SigV4's derived keys are HMACs of HMACs).
SecretString hmac_sha256(std::string_view key, std::string_view data);

// From the operating system's generator. Throws Failure(PLUGIN) when it
// cannot deliver (it does not fall back to anything weaker).
void random_bytes(void *out, size_t len);
// `bytes` random bytes as base64url: a nonce, a JWT's jti.
std::string random_id(size_t bytes = 16);

// The JWS algorithms a key can sign with (RFC 7518 §3, RFC 8037).
enum class JwtAlg { HS256, RS256, PS256, ES256, EdDSA };
std::optional<JwtAlg> jwt_alg_from_string(std::string_view name);  // "RS256", ...
const char *to_string(JwtAlg alg);

// A key parsed once (in the provider's constructor) and used by any thread.
// Its material is wiped when it goes.
class SigningKey {
 public:
  // `text`: a PEM private key (PKCS#8, PKCS#1 or SEC1; encrypted PKCS#8 or
  // legacy PEM when `passphrase` is given) for RS256/PS256 (RSA of 2048
  // bits or more), ES256 (P-256) and EdDSA (Ed25519); the shared secret's
  // bytes for HS256. Throws Failure(INVALID_CONFIG) naming `field` and what
  // is wrong ("not a PEM private key", "an EC key on P-384; ES256 needs
  // P-256", "the passphrase does not decrypt it"), never the text.
  static SigningKey load(JwtAlg alg, std::string_view text, const SecretString *passphrase = nullptr,
                         std::string_view field = "private_key");
  SigningKey(SigningKey &&) noexcept;
  SigningKey &operator=(SigningKey &&) noexcept;
  ~SigningKey();

  JwtAlg alg() const;
  // The signature over `data` as JWS puts it (ES256: R || S, 64 bytes).
  // Throws Failure(PLUGIN) if the library fails.
  std::string sign(std::string_view data) const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A JWT's claims; "iat", "exp" and "jti" are added when it is signed.
struct JwtClaims {
  std::string iss, sub, aud;                                 // each left out when empty
  int64_t lifetime_s = 300;                                  // exp - iat: 1 .. 86400
  std::string kid;                                           // the header's key id; left out when empty
  std::vector<std::pair<std::string, std::string>> strings;  // more string claims ("scope")
  std::string json;  // more claims of any type: a JSON object's text, merged; may be empty
};

// header.claims.signature, compact (RFC 7515 §7.1). `now_s` is iat. Throws
// Failure(PLUGIN) when `claims.json` is not an object or the lifetime is out
// of range.
SecretString sign_jwt(const SigningKey &key, const JwtClaims &claims, int64_t now_s);

}  // namespace credplug::kit
