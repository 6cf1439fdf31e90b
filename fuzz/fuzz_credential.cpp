// Credential text as the CLI reads it: parsed within limits, {"$env"},
// {"$file"} and {"$stdin"} references resolved (by a loader that invents
// values: no file or variable is touched), then validated against every
// shipped schema, with the values references loaded as extra secrets.
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

std::vector<std::unique_ptr<host::CompiledSchema>> load_schemas() {
  std::vector<std::unique_ptr<host::CompiledSchema>> out;
  for (const char *name : {"ainua", "avni", "avonhealth", "nexla", "opencrvs"}) {
    std::ifstream in(std::string(CREDPLUG_SCHEMA_DIR) + "/" + name + ".schema.json");
    std::stringstream text;
    text << in.rdbuf();
    out.push_back(std::make_unique<host::CompiledSchema>(text.str()));
  }
  return out;
}

kit::SecretString invented(const std::string &kind, const std::string &argument, const std::string &) {
  if (argument.size() % 7 == 3) throw CredentialSourceError("no such " + kind);
  return kit::SecretString("loaded:" + kind + ":" + argument);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const auto schemas = load_schemas();
  std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    CredentialText credential = resolve_credential(text, "fuzz input", true, invented);
    host::Redactor redactor;
    for (const auto &value : credential.loaded) redactor.add(value.view());
    for (const auto &schema : schemas) {
      Validation v = schema->validate(credential.json.view(), &redactor);
      for (const auto &e : v.errors)
        if (e.message.empty()) __builtin_trap();  // every error says something
      (void)schema->secret_values(credential.json.view());
    }
  } catch (const CredentialSourceError &) {
  }
  // The raw text straight to the validators too (what embedders pass).
  for (const auto &schema : schemas) (void)schema->validate(text);
  return 0;
}
