// Every rule of every shipped schema, broken one at a time in an otherwise
// valid credential: the error names the field and the rule, and never
// quotes a secret field's value. A rule added to a schema is tested here
// automatically; a schema added without a valid example fails.
#include "schema/schema_validator.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using credplug::host::CompiledSchema;
using rapidjson::Value;

namespace {

const std::map<std::string, std::string> kValidExamples = {
    {"ainua", R"({"ainua_url":"tenant.ainua.fi","client_id":"c","client_secret":"s"})"},
    {"avni",
     R"({"base_url":"https://app.avniproject.org","token_flow":"avni_password","username":"u","password":"p"})"},
    {"oauth2", R"({"token_url":"https://login.example.com/oauth/token","client_id":"c"})"},
    {"aws",
     R"({"access_key_id":"AKIDEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","region":"us-east-1","service":"s3","session_token":"t"})"},
    {"avonhealth",
     R"({"base_url":"https://demo.avonhealth.com","client_id":"c","client_secret":"s","user_id":"u","user_secret_key":"k"})"},
    {"nexla", R"({"service_key":"k"})"},
    {"opencrvs",
     R"({"auth_url":"https://auth.x.org","gateway_url":"https://gateway.x.org","client_id":"c","client_secret":"s"})"},
};

std::string read(const std::filesystem::path &p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string serialise(const Value &v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

// The example with `field` set to `value` (or removed when value is null).
std::string with_field(const std::string &example, const std::string &field, const Value *value) {
  rapidjson::Document doc;
  doc.Parse(example.c_str());
  doc.RemoveMember(field.c_str());
  if (value)
    doc.AddMember(Value(field.c_str(), doc.GetAllocator()), Value(*value, doc.GetAllocator()), doc.GetAllocator());
  return serialise(doc);
}

// Values that break `rule` of a property, tried in order.
std::vector<std::string> breakers(const std::string &rule, const Value &prop) {
  if (rule == "type") {
    std::string type = prop["type"].GetString();
    return {type == "string" ? "12345" : R"("not a number")"};
  }
  if (rule == "pattern")
    return {R"("http://plain.example")", R"("bad value\twith tab")", R"("\u0001")", R"("no-slash")"};
  if (rule == "minLength") return {"\"" + std::string(prop["minLength"].GetUint() - 1, 'a') + "\""};
  if (rule == "maxLength") return {"\"" + std::string(prop["maxLength"].GetUint() + 1, 'a') + "\""};
  if (rule == "enum") return {R"("not-a-valid-choice")"};
  if (rule == "minimum") return {std::to_string(prop["minimum"].GetInt64() - 1)};
  if (rule == "maximum") return {std::to_string(prop["maximum"].GetInt64() + 1)};
  return {};
}

}  // namespace

TEST_CASE("every rule of every shipped schema reports the field and the rule, without quoting secrets") {
  int rules_checked = 0;
  for (const auto &entry : std::filesystem::directory_iterator(CREDPLUG_SCHEMA_DIR)) {
    std::string file = entry.path().filename().string();
    std::string id = file.substr(0, file.find(".schema.json"));
    INFO("schema " << file);
    REQUIRE_MESSAGE(kValidExamples.count(id), "add a valid example credential for " << id);
    const std::string &example = kValidExamples.at(id);
    std::string text = read(entry.path());
    CompiledSchema schema(text);
    REQUIRE(schema.validate(example).ok());
    rapidjson::Document doc;
    doc.Parse(text.c_str());

    for (const auto &p : doc["properties"].GetObject()) {
      const std::string field = p.name.GetString();
      const bool secret = schema.secret_fields().count(field) > 0;
      for (const char *rule : {"type", "pattern", "minLength", "maxLength", "enum", "minimum", "maximum"}) {
        if (!p.value.HasMember(rule)) continue;
        INFO("field " << field << ", rule " << rule);
        bool shown = false;
        for (const auto &candidate : breakers(rule, p.value)) {
          rapidjson::Document bad;
          bad.Parse(candidate.c_str());
          REQUIRE_FALSE(bad.HasParseError());
          auto v = schema.validate(with_field(example, field, &bad));
          for (const auto &e : v.errors) {
            if (e.pointer != "/" + field || e.rule != rule) continue;
            shown = true;
            CHECK(e.message.find("'" + field + "'") != std::string::npos);
            if (secret && bad.IsString() && bad.GetStringLength() > 3)
              CHECK(e.message.find(bad.GetString()) == std::string::npos);
          }
          if (shown) break;
        }
        CHECK_MESSAGE(shown, "no value broke this rule with a message naming the field");
        ++rules_checked;
      }
    }
    for (const auto &r : doc["required"].GetArray()) {
      const std::string field = r.GetString();
      INFO("required field " << field);
      auto v = schema.validate(with_field(example, field, nullptr));
      bool named = false;
      for (const auto &e : v.errors)
        named = named || (e.pointer == "/" + field && e.rule == "required" &&
                          e.message.find("'" + field + "'") != std::string::npos);
      CHECK(named);
      ++rules_checked;
    }
  }
  CHECK(rules_checked > 50);
  MESSAGE("schema rules checked: " << rules_checked);
}
