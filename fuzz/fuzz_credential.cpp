// Credential text as the CLI reads it: parsed within limits, {"$env"},
// {"$file"} and {"$stdin"} references resolved (by a loader that invents
// values: no file or variable is touched), then validated against every
// shipped schema, with the values references loaded as extra secrets.
// The oracle: no message holds a value a reference loaded, nor a secret
// field's value (the seeds' secrets start "SECRET-", a prefix no schema and
// no message template has), whatever the input.
#include <credplug/credential_file.hpp>
#include "schema/schema_validator.hpp"
#include "secrets/redactor.hpp"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace credplug;

// The shipped schemas, compiled; each text is read once and kept (the
// oracle asks whether a string is in one of them).
struct Schemas {
  std::vector<std::unique_ptr<host::CompiledSchema>> compiled;
  std::string all_text;
};

Schemas load_schemas() {
  Schemas out;
  for (const char *name : {"ainua", "avni", "avonhealth", "nexla", "opencrvs"}) {
    std::ifstream in(std::string(CREDPLUG_SCHEMA_DIR) + "/" + name + ".schema.json");
    std::stringstream text;
    text << in.rdbuf();
    out.compiled.push_back(std::make_unique<host::CompiledSchema>(text.str()));
    out.all_text += text.str();
  }
  return out;
}

// A value no input spells by chance: the loader's marker and the argument's length.
kit::SecretString invented(const std::string &kind, const std::string &argument, const std::string &) {
  if (argument.size() % 7 == 3) throw CredentialSourceError("no such " + kind);
  return kit::SecretString("LoAdEd-7f3a-" + kind + "-" + std::to_string(argument.size()) + "-" + argument);
}

size_t occurrences(std::string_view text, std::string_view part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// A secret (loaded, or a secret field's value) in a message is a leak,
// unless the message could hold it honestly: it is also in the input
// elsewhere (a field name), or in a schema.
void check_no_secret(const std::string &message, std::string_view input, const std::string &schemas,
                     const std::vector<std::string> &secrets) {
  for (const auto &secret : secrets)
    if (secret.size() >= host::Redactor::kMinLength && message.find(secret) != std::string::npos &&
        occurrences(input, secret) <= 1 && schemas.find(secret) == std::string::npos)
      __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const Schemas shipped = load_schemas();
  const auto &schemas = shipped.compiled;
  std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    CredentialText credential = resolve_credential(text, "fuzz input", true, invented);
    host::Redactor redactor;
    std::vector<std::string> loaded;
    for (const auto &value : credential.loaded) {
      redactor.add(value.view());
      loaded.emplace_back(value.view());
    }
    for (const auto &schema : schemas) {
      // As Host::validate: loaded values masked wherever they are quoted.
      Validation v = schema->validate(credential.json.view(), &redactor);
      std::vector<std::string> secrets = loaded;
      for (const auto &value : schema->secret_values(credential.json.view()))
        if (value.view().rfind("SECRET-", 0) == 0) secrets.emplace_back(value.view());
      for (const auto &e : v.errors) {
        if (e.message.empty()) __builtin_trap();  // every error says something
        check_no_secret(redactor.apply(e.message), text, shipped.all_text, secrets);
      }
    }
  } catch (const CredentialSourceError &) {  // its message names the reference, never a value
  }
  // The raw text straight to the validators too (what embedders pass).
  for (const auto &schema : schemas) (void)schema->validate(text);
  return 0;
}
