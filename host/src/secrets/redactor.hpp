// Redactor: the set of secret values known for one credential (schema
// secret fields, tokens, derived values a plugin declared) and the one
// function every message passes through before it is shown or logged.
#pragma once

#include "base/fork_guarded_mutex.hpp"

#include <credplug/kit/secret.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

class Redactor {
 public:
  static constexpr const char *kMask = "[REDACTED]";
  // Values shorter than this are not searched for inside other text (a
  // 2-character secret would mask half the alphabet); they are still never
  // printed as a field value.
  static constexpr size_t kMinLength = 4;

  // Values this long or longer are also searched for inside base64 text.
  static constexpr size_t kMinBase64Length = 8;

  // Adds `value` and the forms it takes in transit: URL-encoded,
  // JSON-escaped, and (kMinBase64Length and longer) inside standard or
  // URL-safe base64, padded or not, wherever in the encoded bytes it starts
  // (base64_forms()). Thread-safe; O(log n) in the values known.
  void add(std::string_view value);
  // Every known secret in `text` replaced by kMask. Thread-safe.
  std::string apply(std::string_view text) const;
  bool empty() const;

 private:
  void add_one(std::string_view value);
  // Longest first, so a secret containing another is masked whole.
  struct LongestFirst {
    bool operator()(const kit::SecretString &a, const kit::SecretString &b) const {
      return a.size() != b.size() ? a.size() > b.size() : a.view() < b.view();
    }
  };
  // A child of fork() keeps the secrets: fork() waits for a change under way.
  mutable ForkGuardedMutex mutex_{ForkGuardedMutex::kRedactor};
  std::set<kit::SecretString, LongestFirst> secrets_;
};

// What base64 text always holds when `value`'s bytes are in what it
// encodes, at each of the three alignments (the bytes before it, modulo 3)
// and in both alphabets: the characters whose six bits all come from
// `value` (so padding, and whatever comes before and after, never changes
// them). Empty below Redactor::kMinBase64Length.
std::vector<kit::SecretString> base64_forms(std::string_view value);

}  // namespace credplug::host
