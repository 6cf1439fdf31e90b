#include <credplug/kit/encoding.hpp>
#include <credplug/kit/jwt.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace credplug::kit {

std::optional<DecodedJwt> decode_jwt(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  auto header_json = base64url_decode(token.substr(0, first));
  auto claims_json = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!header_json || !claims_json) return std::nullopt;
  auto header = JsonDocument::parse_object(*header_json);
  auto claims = JsonDocument::parse_object(*claims_json);
  wipe(*header_json);
  wipe(*claims_json);
  if (!header || !claims) return std::nullopt;
  return DecodedJwt{std::move(*header), std::move(*claims)};
}

SecretString sign_hs256(std::string_view claims_json, std::string_view key) {
  SecretString jwt(base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(claims_json));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char *>(jwt.c_str()), jwt.size(), mac,
       &mac_len);
  jwt.append(".");
  jwt.append(base64url_encode(std::string_view(reinterpret_cast<const char *>(mac), mac_len)));
  OPENSSL_cleanse(mac, sizeof mac);
  return jwt;
}

}  // namespace credplug::kit
