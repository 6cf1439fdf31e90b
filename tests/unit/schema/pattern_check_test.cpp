// A schema's patterns are read before RapidJSON compiles them: what would
// crash its compiler or be dropped by it is refused, naming the character;
// what reads the same in RapidJSON's engine and ECMA 262 passes.
#include "schema/pattern_check.hpp"
#include "schema/schema_validator.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace credplug::host;

namespace {

std::string problem(const std::string &pattern) { return pattern_problem(pattern).value_or(""); }

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("pattern check: what crashed RapidJSON's compiler is refused before it sees it") {
  // fuzz_plugin_schema's finding (a heap overflow in the host), and its kin.
  CHECK(contains(problem("a(^+)+$"), "'^' (an anchor only at the pattern's start or end) at character 3"));
  CHECK(contains(problem("()"), "an empty alternative or group at character 2"));
  CHECK(contains(problem("{2}"), "a quantifier '{' after nothing at character 1"));
  CHECK(contains(problem("a|*"), "a quantifier '*' after nothing at character 3"));
  CHECK(contains(problem("(?=a)"), "a quantifier '?' after nothing"));
  CHECK(contains(problem("a(|b)"), "an empty alternative or group"));
  CHECK(contains(problem("a|"), "an empty alternative or group"));
  CHECK(contains(problem("(a"), "a group that is not closed"));
  CHECK(contains(problem("a)"), "a ')' closes no group"));
  CHECK(contains(problem("[a"), "a '[' that is not closed"));
  CHECK(contains(problem("[]"), "an empty class []"));
  CHECK(contains(problem("a{0}"), "m 0 or below n"));
  CHECK(contains(problem("a{3,2}"), "m 0 or below n"));
  CHECK(contains(problem("a{x}"), "without a count"));
  CHECK(contains(problem("a+?"), "a quantifier after a quantifier"));
  CHECK(contains(problem("a$b"), "'$' (an anchor only"));
  CHECK(contains(problem(std::string(65, '(') + "a" + std::string(65, ')')), "nested deeper than 64"));
  CHECK(contains(problem(std::string(5000, 'a')), "longer than 4096 bytes"));
  CHECK(contains(problem(std::string("a\0b", 3)), "a NUL character"));
}

TEST_CASE("pattern check: a pattern whose repeats multiply past 10000 states is refused before it compiles") {
  // Issue 18: 10^8 states, 1.5 GB and 6.8 s of the host's time at load.
  CHECK(contains(problem("((((a{100}){100}){100}){100})"), "expands to more than 10000 states"));
  CHECK(contains(problem("(a{100}){101}"), "expands to more than 10000 states"));
  CHECK(contains(problem("a{10001}"), "expands to more than 10000 states"));
  CHECK(contains(problem("[a-z]{5000}[0-9]{5001}"), "expands to more than 10000 states"));
  CHECK(contains(problem("(a|b|c){4000}"), "expands to more than 10000 states"));
  // What real schemas repeat passes.
  CHECK(problem("(a{100}){99}").empty());
  CHECK(problem("^[a-z0-9-]{1,63}(\\.[a-z0-9-]{1,63}){0,20}$").empty());
  CHECK(problem("^[A-Za-z0-9+/]{1,4096}$").empty());
}

TEST_CASE("pattern check: escapes RapidJSON lacks are refused (it would drop the pattern and check nothing)") {
  CHECK(contains(problem("^https://[^\\s]+$"), "inside [...] (\\s, \\d and \\w are not"));
  CHECK(contains(problem("^\\d+$"), "an escape RapidJSON's engine does not know"));
  CHECK(contains(problem("a\\"), "an escape RapidJSON's engine does not know"));
  CHECK(contains(problem("a\\/b"), "an escape RapidJSON's engine does not know"));
}

TEST_CASE("pattern check: the patterns schemas use pass, escapes and classes included") {
  for (const char *ok :
       {"^https://[!-~]+$", "^[ !#-~]*$", "^(https://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$",
        "^/[A-Za-z0-9._~/%?&=-]*$", "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*/?$", "a|b|c", "(a|b)*c?",
        "a{2}", "a{2,}", "a{2,5}", "\\^\\$\\.\\(\\)\\[\\]\\{\\}\\|\\\\", "[\\]\\\\]", "[^a-z]", "x$", "^x", "a\\tb",
        "^[a-z0-9][a-z0-9_-]{0,63}$"}) {
    CAPTURE(ok);
    CHECK(problem(ok).empty());
  }
}

TEST_CASE("pattern check: a schema's bad pattern is refused where it is, before compiling; patternProperties too") {
  auto refusal = [](const std::string &schema) {
    try {
      CompiledSchema s(schema);
    } catch (const std::runtime_error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(refusal(R"({"type":"object","properties":{"k":{"type":"string","pattern":"a(^+)+$"}}})"),
                 "the schema's pattern 'a(^+)+$' at /properties/k/pattern: '^'"));
  CHECK(contains(refusal(R"j({"type":"object","oneOf":[{"properties":{"a/b":{"items":{"pattern":"()"}}}}]})j"),
                 "at /oneOf/0/properties/a~1b/items/pattern"));
  CHECK(contains(refusal(R"({"type":"object","patternProperties":{"x{":{"type":"string"}}})"),
                 "the schema's pattern 'x{' at /patternProperties/x{"));
  // RapidJSON compiles every object, an unknown keyword's and an enum's data
  // too (fuzz_plugin_schema's second finding hid one under "propevties").
  CHECK(
      contains(refusal(R"j({"type":"object","propevties":{"k":{"pattern":"a(^+)+$"}}})j"), "at /propevties/k/pattern"));
  CHECK(contains(refusal(R"j({"type":"object","enum":[{"pattern":"("}]})j"), "at /enum/0/pattern"));
  // A property named "pattern" is a schema, not a pattern.
  CHECK(refusal(R"j({"type":"object","properties":{"pattern":{"type":"string"}}})j").empty());
}

TEST_CASE("pattern check: every shipped and example schema's patterns pass, and are enforced") {
  for (const std::string file :
       {"schemas/ainua.schema.json", "schemas/avni.schema.json", "schemas/avonhealth.schema.json",
        "schemas/nexla.schema.json", "schemas/opencrvs.schema.json", "examples/c-plugin/oauth2-client-c.schema.json",
        "examples/cpp-plugin/oauth2-client-cpp.schema.json"}) {
    CAPTURE(file);
    std::ifstream in(std::string(CREDPLUG_SOURCE_DIR) + "/" + file);
    std::stringstream text;
    text << in.rdbuf();
    CHECK_NOTHROW(CompiledSchema{text.str()});
  }
  // The examples' URL pattern now checks something (with \s it checked nothing).
  std::ifstream in(std::string(CREDPLUG_SOURCE_DIR) + "/examples/c-plugin/oauth2-client-c.schema.json");
  std::stringstream text;
  text << in.rdbuf();
  CompiledSchema example(text.str());
  auto v =
      example.validate(R"({"token_url":"https://a b","client_id":"c","client_secret":"s","test_url":"https://x"})");
  CHECK_FALSE(v.ok());
}
