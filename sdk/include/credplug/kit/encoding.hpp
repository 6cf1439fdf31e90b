// Byte encodings every provider needs: base64 (RFC 4648 §4), base64url
// (§5, unpadded as JWTs use it), lowercase hex and
// application/x-www-form-urlencoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::kit {

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no padding
// Accepts padded or unpadded input; nullopt on any invalid character.
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);

// Two lowercase hex digits per byte (digests, key ids).
std::string hex_encode(std::string_view bytes);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

// "a=1&b=2" with each name and value url_encode()d.
std::string form_encode(const std::vector<std::pair<std::string, std::string>> &fields);

}  // namespace credplug::kit
