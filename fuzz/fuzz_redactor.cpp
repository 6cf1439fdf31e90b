// The redactor and the host's display rules: secrets (the input up to the
// first NUL, split on newlines) planted in the rest and masked; none
// survives; displayable() is always valid UTF-8, free of control characters
// and within its bound.
#include "secrets/output_rules.hpp"
#include "secrets/redactor.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace credplug::host;

namespace {

bool valid_utf8(const std::string &s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string input(reinterpret_cast<const char *>(data), size);
  size_t split = input.find('\0');
  std::string secrets = split == std::string::npos ? input : input.substr(0, split);
  std::string text = split == std::string::npos ? std::string() : input.substr(split + 1);
  Redactor r;
  std::vector<std::string> added;
  for (size_t start = 0; start <= secrets.size();) {
    size_t end = secrets.find('\n', start);
    std::string one = secrets.substr(start, end == std::string::npos ? std::string::npos : end - start);
    r.add(one);
    added.push_back(one);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // Each secret is also planted in the text. None may survive masking: a
  // secret sharing no character with the mask cannot be spelled by one.
  std::string planted = text;
  for (const auto &s : added) planted += s + text;
  std::string masked = r.apply(planted);
  for (const auto &s : added)
    if (s.size() >= Redactor::kMinLength && s.find_first_of("[]REDACT") == std::string::npos &&
        masked.find(s) != std::string::npos)
      __builtin_trap();
  for (size_t bound : {size_t(0), size_t(3), size_t(80), size_t(4096)}) {
    std::string shown = displayable(masked, bound);
    if (shown.size() > std::max<size_t>(bound, 3)) __builtin_trap();
    if (!valid_utf8(shown)) __builtin_trap();
    for (unsigned char c : shown)
      if ((c < 0x20 && c != '\n') || c == 0x7f) __builtin_trap();
  }
  (void)header_problem(secrets, text);
  return 0;
}
