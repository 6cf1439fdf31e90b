// Read-only views of JSON documents (credential files, provider responses),
// so a plugin needs no JSON library of its own. Lookups take a key or an RFC
// 6901 JSON pointer ("/user/id"). Strings are wiped when the document goes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::kit {

// `text` as a JSON string literal, quotes included ("a\"b" for a"b).
std::string json_quote(std::string_view text);

class JsonDocument {
 public:
  // nullopt when `text` is not a JSON object (or not JSON at all), nests
  // deeper than 64 levels, is not valid UTF-8 or has "\u0000" in a string;
  // then *problem (if given) says which, and where (never quoting the text).
  static std::optional<JsonDocument> parse_object(std::string_view text, std::string *problem = nullptr);
  JsonDocument(JsonDocument &&) noexcept;
  JsonDocument &operator=(JsonDocument &&) noexcept;
  ~JsonDocument();  // wipes every string value

  bool has(std::string_view pointer) const;
  // Each returns nullopt when the value is absent or of another type.
  std::optional<std::string> string(std::string_view pointer) const;
  std::optional<int64_t> integer(std::string_view pointer) const;  // also "123"
  std::optional<bool> boolean(std::string_view pointer) const;
  std::optional<double> number(std::string_view pointer) const;  // a JSON number only
  // A string, or the strings of an array of strings (JWT "aud", "scope").
  std::optional<std::vector<std::string>> strings(std::string_view pointer) const;
  // The members of an object whose values are all strings, in document
  // order ({"prompt": "consent"}: extra request parameters).
  std::optional<std::vector<std::pair<std::string, std::string>>> string_members(std::string_view pointer) const;
  // Any value re-serialised as compact JSON (numbers, objects: for display).
  std::optional<std::string> raw(std::string_view pointer) const;

 private:
  struct Impl;
  explicit JsonDocument(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace credplug::kit
