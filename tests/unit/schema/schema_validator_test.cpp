#include "schema/schema_validator.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using credplug::host::CompiledSchema;

namespace {

const char *kSchema = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object", "additionalProperties": false,
  "required": ["url", "client_id", "client_secret"],
  "properties": {
    "url": {"title": "Base URL", "description": "The server.", "type": "string",
            "pattern": "^https://[a-z0-9.-]+$", "x-pattern-hint": "an https:// URL without a path"},
    "client_id": {"title": "Client ID", "description": "The id.", "type": "string", "minLength": 1, "maxLength": 8},
    "client_secret": {"title": "Client secret", "description": "The secret.", "type": "string", "writeOnly": true,
                      "minLength": 12, "pattern": "^[a-z-]+$"},
    "style": {"title": "Style", "description": "Client auth.", "enum": ["basic", "post"]},
    "lifetime": {"title": "Lifetime", "description": "Seconds.", "type": "integer", "minimum": 60, "maximum": 86400}
  }
})";

std::string messages(const CompiledSchema &s, const std::string &json) {
  std::string out;
  for (const auto &e : s.validate(json).errors) out += e.pointer + " [" + e.rule + "] " + e.message + "\n";
  return out;
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a valid credential passes") {
  CompiledSchema s(kSchema);
  CHECK(s.validate(R"({"url":"https://a.b","client_id":"id","client_secret":"abcdefghijkl"})").ok());
}

TEST_CASE("every broken field is reported at once, by name, rule and expectation") {
  CompiledSchema s(kSchema);
  std::string m = messages(s, R"({"url":"http://a.b","client_id":"","style":"jwt","lifetime":5,"clientid":"x"})");
  CHECK(contains(m,
                 "/url [pattern] 'url' (Base URL) does not have the expected form: an https:// URL without a path; got "
                 "\"http://a.b\""));
  CHECK(contains(m, "/client_id [minLength] 'client_id' (Client ID) must not be empty"));
  CHECK(contains(m, "/style [enum] 'style' (Style) must be one of \"basic\", \"post\"; got \"jwt\""));
  CHECK(contains(m, "/lifetime [minimum] 'lifetime' (Lifetime) must be at least 60; got 5"));
  CHECK(contains(
      m, "/clientid [additionalProperties] 'clientid' is not a field of this credential — did you mean 'client_id'?"));
  CHECK(contains(m, "/client_secret [required] 'client_secret' (Client secret) is required but missing — The secret."));
  // A field that is present but invalid is not also reported as missing.
  CHECK_FALSE(contains(m, "'client_id' (Client ID) is required"));
}

TEST_CASE("other rules: type, maxLength, maximum") {
  CompiledSchema s(kSchema);
  std::string m = messages(s, R"({"url":5,"client_id":"123456789","client_secret":"abcdefghijkl","lifetime":99999})");
  CHECK(contains(m, "/url [type] 'url' (Base URL) must be a string, not an integer"));
  CHECK(contains(m, "/client_id [maxLength] 'client_id' (Client ID) must be at most 8 characters long, not 9"));
  CHECK(contains(m, "/lifetime [maximum] 'lifetime' (Lifetime) must be at most 86400; got 99999"));
}

TEST_CASE("a secret field's value is never quoted in a message") {
  CompiledSchema s(kSchema);
  const std::string canary = "CANARY_SECRET_VALUE_42";
  std::string m = messages(s, R"({"url":"https://a.b","client_id":"id","client_secret":")" + canary + "\"}");
  CHECK(contains(m, "/client_secret [pattern]"));
  CHECK_FALSE(contains(m, canary));
  std::string short_one = messages(s, R"({"url":"https://a.b","client_id":"id","client_secret":"short"})");
  CHECK(contains(short_one, "at least 12 characters long, not 5"));
  CHECK_FALSE(contains(short_one, "short\""));
}

TEST_CASE("broken JSON is reported by position, never by content") {
  CompiledSchema s(kSchema);
  std::string m = messages(s, "{\n  \"client_secret\": \"CANARY_SECRET_VALUE_42\" oops }");
  CHECK(contains(m, "not valid JSON"));
  CHECK(contains(m, "line 2"));
  CHECK_FALSE(contains(m, "CANARY"));
  CHECK(contains(messages(s, "[1,2]"), "must be a JSON object, not an array"));
}

TEST_CASE("secret fields and values are found for the redactor") {
  CompiledSchema s(kSchema);
  CHECK(s.secret_fields() == std::set<std::string>{"client_secret"});
  auto values = s.secret_values(R"({"url":"https://a.b","client_secret":"abcdefghijkl"})");
  REQUIRE(values.size() == 1);
  CHECK(values[0].reveal() == "abcdefghijkl");
}

TEST_CASE("a 1 MB value against a pattern does not overflow the stack (internal regex engine)") {
  // With std::regex this recurses once per character and crashes.
  CompiledSchema s(kSchema);
  std::string huge(1 << 20, 'a');
  auto v = s.validate(R"({"url":"https://)" + huge + R"(","client_id":"id","client_secret":"abcdefghijkl"})");
  CHECK(v.ok());
  auto bad = s.validate(R"({"url":"https://)" + huge + R"(/","client_id":"id","client_secret":"abcdefghijkl"})");
  CHECK_FALSE(bad.ok());
}

TEST_CASE("a schema that is not JSON is refused with a reason") {
  CHECK_THROWS_WITH_AS(CompiledSchema("{oops"), doctest::Contains("not valid JSON"), std::runtime_error);
  CHECK_THROWS_WITH_AS(CompiledSchema("[]"), doctest::Contains("not a JSON object"), std::runtime_error);
}
