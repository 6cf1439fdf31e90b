// Redactor: the set of secret values known for one credential (schema
// secret fields, tokens, derived values a plugin declared) and the one
// function every message passes through before it is shown or logged.
#pragma once

#include <credplug/kit/secret.hpp>

#include <mutex>
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

  // Adds `value` and the forms it takes in transit: URL-encoded and
  // JSON-escaped. Thread-safe.
  void add(std::string_view value);
  // Every known secret in `text` replaced by kMask. Thread-safe.
  std::string apply(std::string_view text) const;
  bool empty() const;

 private:
  void add_one(std::string_view value);
  mutable std::mutex mutex_;
  std::vector<kit::SecretString> secrets_;  // longest first
};

}  // namespace credplug::host
