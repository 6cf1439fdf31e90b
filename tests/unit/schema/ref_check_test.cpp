// A schema's $refs are followed before RapidJSON compiles it: a cycle would
// overflow the host's stack, and a $ref it cannot resolve would check
// nothing. Each is refused naming where it is; what schemas really do with
// $ref (definitions, recursion through properties) passes and is enforced.
#include "schema/ref_check.hpp"
#include "schema/schema_validator.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace credplug::host;

namespace {

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

std::string refusal(const std::string &schema) {
  try {
    CompiledSchema s(schema);
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("ref check: a $ref cycle is refused at load, naming the pointer, instead of overflowing the stack") {
  // Issue 18's schema: SIGSEGV in HandleRefSchema before the check.
  CHECK(contains(refusal(R"({"type":"object","properties":{"x":{"$ref":"#/properties/x"}}})"),
                 "the schema's $ref at /properties/x: '#/properties/x' leads back into its own chain of $refs"));
  CHECK(contains(refusal(R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},)"
                         R"("properties":{"x":{"$ref":"#/definitions/a"}}})"),
                 "(a cycle)"));
  CHECK(contains(refusal(R"({"$ref":"#"})"), "the schema's $ref at /: '#' leads back"));
  // A chain that ends, but too far away.
  std::string chain = R"({"definitions":{)";
  for (int i = 0; i < 40; ++i)
    chain += "\"d" + std::to_string(i) + R"(":{"$ref":"#/definitions/d)" + std::to_string(i + 1) + "\"},";
  chain += R"("d40":{"type":"string"}}})";
  CHECK(contains(refusal(chain), "a chain of more than 32 $refs starts here"));
}

TEST_CASE("ref check: a $ref RapidJSON would silently leave unresolved is refused") {
  CHECK(contains(refusal(R"({"properties":{"x":{"$ref":"https://example.com/s.json#/a"}}})"),
                 "at /properties/x: a reference to another document ('https://example.com/s.json#/a')"));
  CHECK(contains(refusal(R"({"properties":{"x":{"$ref":"#/nowhere"}}})"), "'#/nowhere' points at nothing"));
  CHECK(contains(refusal(R"({"properties":{"x":{"$ref":"#/properties/x/type"},"y":{"type":"string"}}})"),
                 "points at nothing"));
  CHECK(contains(refusal(R"({"definitions":{"s":"text"},"properties":{"x":{"$ref":"#/definitions/s"}}})"),
                 "is not a schema (an object)"));
  CHECK(contains(refusal(R"({"properties":{"x":{"$ref":7}}})"), "the schema's $ref at /properties/x is not a string"));
  CHECK(contains(refusal(R"({"properties":{"x":{"$ref":""}}})"), "an empty $ref"));
  CHECK(contains(refusal(R"({"properties":{"x":{"$ref":"#x"}}})"), "is not a JSON pointer"));
}

TEST_CASE("ref check: definitions and recursion through properties pass, and are enforced") {
  CompiledSchema defs(
      R"({"type":"object","definitions":{"url":{"type":"string","pattern":"^https://"}},)"
      R"("properties":{"base_url":{"$ref":"#/definitions/url"},"a~b/c":{"$ref":"#/definitions/url"}}})");
  CHECK(defs.validate(R"({"base_url":"https://x"})").ok());
  CHECK_FALSE(defs.validate(R"({"base_url":"http://x"})").ok());
  // A node whose child is a node: recursion through a property, not a chain.
  CompiledSchema tree(R"({"type":"object","properties":{"child":{"$ref":"#"},"name":{"type":"string"}}})");
  CHECK(tree.validate(R"({"name":"a","child":{"name":"b","child":{"name":"c"}}})").ok());
  CHECK_FALSE(tree.validate(R"({"name":"a","child":{"name":7}})").ok());
  // A chain of 31 ends in a schema: allowed.
  std::string chain = R"({"definitions":{)";
  for (int i = 0; i < 30; ++i)
    chain += "\"d" + std::to_string(i) + R"(":{"$ref":"#/definitions/d)" + std::to_string(i + 1) + "\"},";
  chain += R"("d30":{"type":"string"}},"properties":{"x":{"$ref":"#/definitions/d0"}}})";
  CHECK(refusal(chain).empty());
}

TEST_CASE("ref check: a oneOf branch merged for an explanation cannot make a cycle the schema did not have") {
  // /properties/x refers to a definition; the branch's x refers to /properties/x.
  // Merged, /properties/x would refer to itself.
  CompiledSchema s(R"({"type":"object","definitions":{"d":{"type":"integer"}},)"
                   R"("properties":{"kind":{"type":"string"},"x":{"$ref":"#/definitions/d"}},)"
                   R"("oneOf":[{"properties":{"kind":{"enum":["a"]},"x":{"$ref":"#/properties/x"}},"required":["y"]},)"
                   R"({"properties":{"kind":{"enum":["b"]}}}]})");
  auto v = s.validate(R"({"kind":"a","x":7})");
  CHECK_FALSE(v.ok());  // explained or not, it answers, and the process is alive
}
