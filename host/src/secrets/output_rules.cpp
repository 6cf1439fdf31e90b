#include "secrets/output_rules.hpp"

#include <cctype>
#include <cstdio>

namespace credplug::host {
namespace {

bool token_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char t : std::string_view("!#$%&'*+-.^_`|~"))
    if (c == static_cast<unsigned char>(t)) return true;
  return false;
}

// The first control character (C0 or DEL) in `s`, if any.
std::optional<unsigned char> control_char(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return c;
  return std::nullopt;
}

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  return buf;
}

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xc0) != 0x80) return 0;
  if (n == 2 && c < 0xc2) return 0;                                        // overlong
  if (n == 3 && c == 0xe0 && at(i + 1) < 0xa0) return 0;                   // overlong
  if (n == 3 && c == 0xed && at(i + 1) >= 0xa0) return 0;                  // surrogate
  if (n == 4 && c == 0xf0 && at(i + 1) < 0x90) return 0;                   // overlong
  if (n == 4 && (c > 0xf4 || (c == 0xf4 && at(i + 1) >= 0x90))) return 0;  // > U+10FFFF
  return n;
}

}  // namespace

std::optional<std::string> header_problem(std::string_view name, std::string_view value) {
  if (name.empty()) return "a header with an empty name";
  if (name.size() > kMaxHeaderNameBytes)
    return "a header name longer than " + std::to_string(kMaxHeaderNameBytes) + " bytes";
  for (unsigned char c : name)
    if (!token_char(c))
      return "header '" + displayable(name, 80) + "': its name has the character " + hex_byte(c) +
             ", which an HTTP header name cannot contain";
  if (value.size() > kMaxHeaderValueBytes)
    return "header '" + std::string(name) + "': its value is " + std::to_string(value.size()) + " bytes, over the " +
           std::to_string(kMaxHeaderValueBytes) + "-byte limit";
  if (auto c = control_char(value))
    return "header '" + std::string(name) + "': its value contains the control character " + hex_byte(*c) +
           " (CR, LF or NUL would let it inject or cut headers)";
  return std::nullopt;
}

bool is_http_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!token_char(c)) return false;
  return true;
}

std::string displayable(std::string_view text, size_t max_bytes) {
  static constexpr std::string_view kEllipsis = "…";
  static constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  for (size_t i = 0; i < text.size();) {
    std::string piece;
    size_t n = utf8_sequence(text, i);
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 0) {
      piece = kReplacement, n = 1;
    } else if (n == 1 && ((c < 0x20 && c != '\n') || c == 0x7f)) {
      piece = hex_byte(c);
    } else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      piece = hex_byte(static_cast<unsigned char>(text[i + 1]));  // C1 control (U+0080-U+009F)
    } else {
      piece.assign(text.substr(i, n));
    }
    if (out.size() + piece.size() > max_bytes) {
      // Room for the ellipsis: drop whole characters from the end.
      while (!out.empty() && out.size() + kEllipsis.size() > max_bytes) {
        size_t cut = out.size() - 1;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
        out.resize(cut);
      }
      out += kEllipsis;
      return out;
    }
    out += piece;
    i += n;
  }
  return out;
}

std::optional<std::string> label_problem(std::string_view label) {
  if (label.size() > kMaxLabelBytes)
    return "the credential's label is " + std::to_string(label.size()) + " bytes; at most " +
           std::to_string(kMaxLabelBytes) + " are allowed";
  if (label.find('\n') != std::string_view::npos || displayable(label, kMaxLabelBytes) != label)
    return "the credential's label holds a control character or invalid UTF-8; it must be printable text";
  return std::nullopt;
}

std::optional<std::string> query_problem(std::string_view name, std::string_view value) {
  if (name.empty() || name.size() > kMaxHeaderNameBytes || control_char(name))
    return "a query parameter whose name is empty, over " + std::to_string(kMaxHeaderNameBytes) +
           " bytes or holds a control character";
  if (value.size() > kMaxHeaderValueBytes || control_char(value))
    return "query parameter '" + std::string(name) + "' with a value over " + std::to_string(kMaxHeaderValueBytes) +
           " bytes or holding a control character";
  return std::nullopt;
}

bool header_name_says_secret(std::string_view name) {
  std::string lower(name);
  for (auto &c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char *hint : {"auth", "key", "token", "secret", "signature", "session", "password", "jwt", "cookie"})
    if (lower.find(hint) != std::string::npos) return true;
  return false;
}

}  // namespace credplug::host
