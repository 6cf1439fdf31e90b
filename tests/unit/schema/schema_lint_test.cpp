// Rules every shipped schema follows (integration platforms render forms
// from them; the host redacts by writeOnly).
#include "schema/schema_validator.hpp"

#include <credplug/kit/json.hpp>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

std::string read(const std::filesystem::path &p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void lint_properties(const std::string &file, const rapidjson::Value &schema) {
  auto props = schema.FindMember("properties");
  if (props != schema.MemberEnd()) {
    for (const auto &p : props->value.GetObject()) {
      std::string name = p.name.GetString();
      INFO(file << ": property " << name);
      CHECK(p.value.HasMember("title"));
      CHECK(p.value.HasMember("description"));
      bool write_only =
          p.value.HasMember("writeOnly") && p.value["writeOnly"].IsBool() && p.value["writeOnly"].GetBool();
      static const std::regex secretish("(secret|password|passwd|private|api_key|service_key|secret_key|token)$");
      if (std::regex_search(name, secretish)) CHECK_MESSAGE(write_only, "a secret-looking field must be writeOnly");
      if (p.value.HasMember("pattern"))
        CHECK_MESSAGE(p.value.HasMember("x-pattern-hint"), "a pattern needs a readable hint");
      lint_properties(file, p.value);
    }
  }
  // Branches of a union only constrain fields the schema declares (and
  // documents) itself: "token_flow": {"enum": ["avni_password"]}.
  for (const char *key : {"oneOf", "anyOf", "allOf"})
    if (schema.HasMember(key))
      for (const auto &branch : schema[key].GetArray()) {
        INFO(file << ": a " << key << " branch");
        CHECK(branch.HasMember("title"));
        if (!branch.HasMember("properties")) continue;
        for (const auto &p : branch["properties"].GetObject())
          CHECK_MESSAGE(bool(props != schema.MemberEnd() && props->value.HasMember(p.name)),
                        "a branch may only constrain a field declared at the top: " << p.name.GetString());
        if (branch.HasMember("required"))
          for (const auto &r : branch["required"].GetArray())
            CHECK_MESSAGE(bool(props != schema.MemberEnd() && props->value.HasMember(r)),
                          "a branch may only require a declared field: " << r.GetString());
      }
}

}  // namespace

TEST_CASE("every shipped schema is draft-04, compiles, and documents every field") {
  int count = 0;
  for (const auto &entry : std::filesystem::directory_iterator(CREDPLUG_SCHEMA_DIR)) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    std::string file = entry.path().filename().string();
    std::string text = read(entry.path());
    INFO(file);
    CHECK(file.size() > std::string(".schema.json").size());
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(std::string(doc["$schema"].GetString()) == "http://json-schema.org/draft-04/schema#");
    CHECK(doc.HasMember("title"));
    CHECK(doc.HasMember("description"));
    CHECK(std::string(doc["type"].GetString()) == "object");
    CHECK_NOTHROW(credplug::host::CompiledSchema{text});
    lint_properties(file, doc);
  }
  CHECK(count >= 1);
}
