// A plugin's credential schema is the plugin's to write, and it is read
// before any credential: hostile schema text (up to the first NUL) is
// compiled, held to draft-04 and the house conventions, and then used to
// validate a credential (the rest). Never a crash, a hang or a read past the
// end; a refusal names what is wrong; and a secret field's value (the seeds'
// start "SECRET-") never reaches a validation message unless the schema or
// another part of the credential spells it too. A schema that compiles is
// also exported as a form (`credplug schema --form`): JSON, or a refusal.
#include "schema/form_schema.hpp"
#include "schema/schema_checks.hpp"
#include "schema/schema_validator.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace credplug;

namespace {

size_t occurrences(std::string_view text, std::string_view part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  const size_t split = input.find('\0');
  const std::string_view schema_text = input.substr(0, split);
  const std::string_view credential = split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
  std::unique_ptr<host::CompiledSchema> schema;
  try {
    schema = std::make_unique<host::CompiledSchema>(schema_text);
  } catch (const std::runtime_error &e) {
    if (std::string_view(e.what()).empty()) __builtin_trap();  // a refusal says why
    return 0;
  }
  try {
    const std::string form = host::form_schema_json(schema_text);
    rapidjson::Document exported;
    exported.Parse(form.data(), form.size());
    if (exported.HasParseError() || !exported.IsObject() || !exported.HasMember("schema") ||
        !exported.HasMember("uiSchema"))
      __builtin_trap();
  } catch (const std::runtime_error &e) {
    if (std::string_view(e.what()).empty()) __builtin_trap();
  }
  // What check-plugin reports on it, on the same text.
  rapidjson::Document doc;
  doc.Parse(schema_text.data(), schema_text.size());
  if (!doc.HasParseError() && doc.IsObject()) (void)host::convention_problems(doc);
  Validation v = schema->validate(credential);
  for (const auto &value : schema->secret_values(credential)) {
    const std::string secret(value.view());
    if (secret.rfind("SECRET-", 0) != 0 || occurrences(credential, secret) != 1 ||
        schema_text.find(secret) != std::string_view::npos)
      continue;
    for (const auto &e : v.errors)
      if (e.message.find(secret) != std::string::npos) __builtin_trap();
  }
  for (const auto &e : v.errors)
    if (e.message.empty()) __builtin_trap();
  return 0;
}
