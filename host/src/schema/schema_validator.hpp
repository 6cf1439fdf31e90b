// CompiledSchema: a plugin's credential JSON Schema (draft-04), compiled
// once, validating credentials with messages that name the field, the rule
// broken and what is expected — and never echo a secret field's value.
#pragma once

#include "secrets/redactor.hpp"

#include <credplug/types.hpp>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

class CompiledSchema {
 public:
  // Throws std::runtime_error when `schema_text` is not a valid JSON Schema
  // draft-04 (naming the JSON pointer of the problem).
  explicit CompiledSchema(std::string_view schema_text);
  ~CompiledSchema();

  // Validates a credential given as JSON text. Thread-safe. Values quoted in
  // messages pass through `redactor` (if given) before they are shortened.
  Validation validate(std::string_view credential_json, const Redactor *redactor = nullptr) const;

  // Names of the properties that hold secrets anywhere in the schema: marked
  // "writeOnly": true, or named like a secret (schema_checks.hpp).
  const std::set<std::string> &secret_fields() const { return secret_fields_; }

  // What the plugin's author should fix (a secret-named field without
  // writeOnly), one sentence each naming the field.
  const std::vector<std::string> &warnings() const { return warnings_; }

  // Every string value in `credential_json` held by a secret field (for the
  // redactor). Empty when the text does not parse.
  std::vector<kit::SecretString> secret_values(std::string_view credential_json) const;

  // The schema's "x-credplug-egress" origins (egress_policy.hpp), checked.
  const std::vector<std::string> &egress() const { return egress_; }
  // Names of the properties that hold an address: "format": "hostname" or
  // "uri", or "x-credplug-address": true. Only there does a bare host name
  // count as an origin the credential names (egress_policy.hpp).
  const std::set<std::string> &address_fields() const { return address_fields_; }

  const std::string &text() const { return text_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::set<std::string> secret_fields_;
  std::set<std::string> address_fields_;
  std::vector<std::string> egress_;
  std::vector<std::string> warnings_;
  std::string text_;
};

}  // namespace credplug::host
