// The form export (form_schema.hpp): what each draft-04 construct becomes.
#include "schema/form_schema.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <string>

using credplug::host::form_schema_json;

namespace {

rapidjson::Document form_of(const std::string &schema) {
  rapidjson::Document d;
  d.Parse(form_schema_json(schema).c_str());
  REQUIRE(d.IsObject());
  return d;
}

const char *kModes = R"({
  "$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "additionalProperties": false,
  "required": ["mode"],
  "properties": {
    "mode": {"title": "Mode", "description": "d", "type": "string", "enum": ["key", "login"]},
    "key": {"title": "Key", "description": "d", "type": "string", "writeOnly": true, "x-pattern-hint": "40 hex digits"},
    "user": {"title": "User", "description": "d", "type": "string", "examples": ["alice"]},
    "password": {"title": "Password", "description": "d", "type": "string", "writeOnly": true},
    "realm": {"title": "Realm", "description": "d", "type": "string", "default": "main"},
    "timeout": {"title": "T", "description": "d", "type": "integer", "minimum": 0, "exclusiveMinimum": true}
  },
  "oneOf": [
    {"title": "An API key", "properties": {"mode": {"enum": ["key"]}}, "required": ["key"]},
    {"title": "A login", "properties": {"mode": {"enum": ["login"]}, "realm": {}}, "required": ["user", "password"]}
  ]
})";

}  // namespace

TEST_CASE("form: modes become dependencies with their own fields, each field once") {
  auto d = form_of(kModes);
  const auto &schema = d["schema"];
  CHECK(std::string(schema["$schema"].GetString()) == "http://json-schema.org/draft-07/schema#");
  CHECK(!schema.HasMember("oneOf"));
  CHECK(!schema.HasMember("additionalProperties"));
  CHECK(schema["propertyNames"]["enum"].Size() == 6);  // the same fields allowed, said for draft-07
  const auto &common = schema["properties"];
  CHECK(common.HasMember("mode"));
  CHECK(common.HasMember("timeout"));
  CHECK(!common.HasMember("key"));
  CHECK(!common.HasMember("realm"));
  const auto &choices = common["mode"]["oneOf"];
  REQUIRE(choices.Size() == 2);
  CHECK(std::string(choices[1]["const"].GetString()) == "login");
  CHECK(std::string(choices[1]["title"].GetString()) == "A login");  // the branch's title labels the mode
  const auto &branches = schema["dependencies"]["mode"]["oneOf"];
  REQUIRE(branches.Size() == 2);
  CHECK(branches[0]["properties"].HasMember("key"));
  CHECK(branches[1]["properties"].HasMember("realm"));  // an optional field of that mode
  CHECK(branches[1]["properties"].HasMember("password"));
  CHECK(branches[1]["required"].Size() == 2);
  // draft-04's boolean exclusiveMinimum is draft-07's number.
  CHECK(common["timeout"]["exclusiveMinimum"].GetInt() == 0);
  CHECK(!common["timeout"].HasMember("minimum"));
}

TEST_CASE("form: the uiSchema: order, password widgets, placeholders, help; no x- keyword in the schema") {
  auto d = form_of(kModes);
  const auto &ui = d["uiSchema"];
  REQUIRE(ui["ui:order"].Size() == 7);
  CHECK(std::string(ui["ui:order"][0].GetString()) == "mode");
  CHECK(std::string(ui["ui:order"][6].GetString()) == "*");
  CHECK(std::string(ui["key"]["ui:widget"].GetString()) == "password");
  CHECK(std::string(ui["password"]["ui:widget"].GetString()) == "password");
  CHECK(std::string(ui["key"]["ui:help"].GetString()) == "Expected: 40 hex digits.");
  CHECK(std::string(ui["user"]["ui:placeholder"].GetString()) == "alice");
  CHECK(std::string(ui["realm"]["ui:placeholder"].GetString()) == "main");
  CHECK(form_schema_json(kModes).find("\"x-") == std::string::npos);
}

TEST_CASE("form: x-order, x-enum-titles and x-multiline") {
  auto d = form_of(R"({"type": "object", "additionalProperties": false, "x-order": ["b", "a"], "properties": {
    "a": {"title": "A", "description": "d", "type": "string", "enum": ["p", "q"], "x-enum-titles": {"p": "Pee"}},
    "b": {"title": "B", "description": "d", "type": "string", "writeOnly": true, "x-multiline": true}}})");
  CHECK(std::string(d["uiSchema"]["ui:order"][0].GetString()) == "b");
  const auto &a = d["schema"]["properties"]["a"];
  CHECK(!a.HasMember("enum"));
  CHECK(std::string(a["oneOf"][0]["title"].GetString()) == "Pee");
  CHECK(std::string(a["oneOf"][1]["title"].GetString()) == "q");  // no title: the value
  CHECK(std::string(d["uiSchema"]["b"]["ui:widget"].GetString()) == "textarea");
  CHECK(d["schema"]["additionalProperties"].IsFalse());  // untouched where there are no modes
}
