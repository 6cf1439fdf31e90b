// The values of a described provider (docs/DESCRIBED_PROVIDERS.md) are
// templates: text with "{field}" holes that the credential's top-level
// values fill ("{base_url}/oauth/token", "Token {api_key}"). "{{" and "}}"
// are literal braces. Nothing else is interpreted: no expressions, no
// nesting, no default values — where a provider needs more, it needs code.
#pragma once

#include <credplug/kit/json.hpp>
#include <credplug/kit/secret.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

class TemplateText {
 public:
  TemplateText() = default;  // no template: absent
  // Throws std::runtime_error saying what is wrong ("an unclosed '{' at
  // byte 4", "'{base url}' is not a field name").
  static TemplateText parse(std::string_view text);

  bool given() const { return given_; }
  // The fields it names, in order, each once.
  const std::vector<std::string> &fields() const { return fields_; }
  // The text before its first hole ("https://api.example.com/v1/" of
  // "https://api.example.com/v1/{path}").
  std::string literal_prefix() const;

  // The text with every hole filled from the credential's string, integer
  // or boolean value, or nullopt when a field is absent (with *missing set
  // to its name). A field of another type (an object) is refused with
  // kit::Failure(INVALID_CONFIG) naming it.
  std::optional<kit::SecretString> render(const kit::JsonDocument &credential, std::string *missing) const;

 private:
  struct Piece {
    bool hole = false;
    std::string text;  // literal text, or the field's name
  };
  bool given_ = false;
  std::vector<Piece> pieces_;
  std::vector<std::string> fields_;
};

}  // namespace credplug::host
