// The redactor and the host's display rules: secrets (the input up to the
// first NUL, split on newlines) planted in the rest in every form the
// redactor claims (verbatim, URL-encoded, JSON-escaped, as a JSON writer
// quotes it), then masked. The oracle is a model of the documented rule
// (each form of each secret, longest first, replaced by the mask) that also
// tracks which output bytes came from the input: its output must equal the
// redactor's, and no form may be spelled by input bytes alone — so a mask's
// own letters never excuse a leak and never cause a false one, whatever
// letters the secrets hold. displayable() is always valid UTF-8, free of
// control characters and within its bound.
#include "secrets/output_rules.hpp"
#include "secrets/redactor.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

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

// The forms a secret takes in transit (redactor.hpp), written here from its
// contract: verbatim, URL-encoded, JSON-escaped with '/' escaped too, and as
// a JSON writer quotes it, unquoted.
std::vector<std::string> forms(const std::string &secret) {
  std::string slashed;
  for (char c : secret) {
    if (c == '"' || c == '\\' || c == '/') slashed += '\\';
    slashed += c;
  }
  const std::string quoted = credplug::kit::json_quote(secret);
  std::vector<std::string> out{secret, credplug::kit::url_encode(secret), slashed, quoted.substr(1, quoted.size() - 2)};
  // And inside base64 (8 bytes and more): after 0, 1 or 2 bytes of anything,
  // the characters whose six bits all come from the secret, in the standard
  // and the URL-safe alphabet.
  if (secret.size() >= Redactor::kMinBase64Length)
    for (size_t before = 0; before < 3; ++before) {
      const std::string encoded = credplug::kit::base64_encode(std::string(before, 'A') + secret);
      const size_t first = (8 * before + 5) / 6, end = 8 * (before + secret.size()) / 6;
      std::string standard = encoded.substr(first, end - first), url_safe = standard;
      for (auto &c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
      out.push_back(standard);
      out.push_back(url_safe);
    }
  return out;
}

// The masking rule with provenance: `from_input[i]` says whether output
// byte i is one of the input's.
struct Masked {
  std::string text;
  std::vector<bool> from_input;
};

Masked model_apply(const std::vector<std::string> &secrets, const std::string &input) {
  std::vector<std::string> sorted;
  for (const auto &s : secrets)
    for (auto &f : forms(s))
      if (f.size() >= Redactor::kMinLength && std::find(sorted.begin(), sorted.end(), f) == sorted.end())
        sorted.push_back(std::move(f));
  // Longest first; of equal length, in byte order (the redactor's set).
  std::sort(sorted.begin(), sorted.end(),
            [](const auto &a, const auto &b) { return a.size() != b.size() ? a.size() > b.size() : a < b; });
  Masked m{input, std::vector<bool>(input.size(), true)};
  const std::string mask = Redactor::kMask;
  for (const auto &f : sorted)
    for (size_t at = m.text.find(f); at != std::string::npos; at = m.text.find(f, at + mask.size())) {
      m.text.replace(at, f.size(), mask);
      m.from_input.erase(m.from_input.begin() + long(at), m.from_input.begin() + long(at + f.size()));
      m.from_input.insert(m.from_input.begin() + long(at), mask.size(), false);
    }
  return m;
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
  // Each form of each secret is planted in the text; none may survive.
  std::vector<std::string> planted_forms;
  for (const auto &s : added)
    if (s.size() >= Redactor::kMinLength)
      for (auto &f : forms(s)) planted_forms.push_back(std::move(f));
  std::string planted = text;
  for (const auto &f : planted_forms) planted += f + text;
  if (planted.size() > 1 << 14) return 0;  // the model is quadratic; large inputs add nothing
  std::string masked = r.apply(planted);
  const Masked model = model_apply(added, planted);
  if (model.text != masked) __builtin_trap();  // the redactor is not the documented rule
  for (const auto &f : planted_forms)
    for (size_t at = model.text.find(f); at != std::string::npos; at = model.text.find(f, at + 1))
      if (std::all_of(model.from_input.begin() + long(at), model.from_input.begin() + long(at + f.size()),
                      [](bool b) { return b; }))
        __builtin_trap();  // a form spelled by the input's own bytes: a leak
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
