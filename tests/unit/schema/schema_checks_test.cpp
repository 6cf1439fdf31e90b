// Plugin schemas are checked when they load: draft-04 validity (the JSON
// pointer of the problem), and secret-named fields without writeOnly are
// treated as secret and warned about.
#include "schema/schema_checks.hpp"
#include "schema/schema_validator.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

using namespace credplug::host;

namespace {

std::string load_error(const std::string &schema) {
  try {
    CompiledSchema s(schema);
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("schema checks: an invalid draft-04 schema is refused with the JSON pointer of the problem") {
  CHECK(contains(load_error(R"({"type":"object","properties":{"base_url":{"type":"strin"}}})"),
                 "not a valid JSON Schema draft-04: /properties/base_url/type is not a JSON type"));
  CHECK(contains(load_error(R"({"type":"object","required":"base_url"})"),
                 "not a valid JSON Schema draft-04: /required must be a list of property names"));
  CHECK(contains(load_error(R"({"type":"object","properties":{"n":{"type":"integer","minimum":"5"}}})"),
                 "/properties/n/minimum breaks draft-04's rule 'type'"));
  CHECK(contains(load_error(R"({"type":"object","properties":{"n":{"type":"integer","exclusiveMinimum":true}}})"),
                 "/properties/n"));
  CHECK(load_error(R"({"type":"object","properties":{"a":{"type":["string","null"]}},"required":["a"]})").empty());
}

TEST_CASE("schema checks: which property names say secret") {
  for (const char *name : {"client_secret",
                           "password",
                           "api_key",
                           "apiKey",
                           "user_secret_key",
                           "refreshToken",
                           "access_token",
                           "service_key",
                           "private_key",
                           "passphrase",
                           "pin",
                           "SECRET",
                           "license",
                           "licenseKey",
                           "signing_secret",
                           "private_key_pem",
                           "privateKeyPem",
                           "client_key_passphrase",
                           "session_cookie",
                           "hmac_signature",
                           "passcode",
                           "password_sha1"})
    CHECK_MESSAGE(name_says_secret(name), name);
  for (const char *name : {"token_url", "token_flow", "key_id", "client_id", "keycloak_realm", "base_url", "tokenizer",
                           "monkey", "secretary", "auth_url"})
    CHECK_MESSAGE(!name_says_secret(name), name);
}

TEST_CASE("schema checks: a secret-named field without writeOnly is treated as secret and warned about") {
  CompiledSchema s(R"({"type":"object","properties":{
      "client_id":{"type":"string"},
      "client_secret":{"type":"string"},
      "nested":{"type":"object","properties":{"api_key":{"type":"string","writeOnly":true}}}}})");
  CHECK(s.secret_fields().count("client_secret"));
  CHECK(s.secret_fields().count("api_key"));
  CHECK_FALSE(s.secret_fields().count("client_id"));
  REQUIRE(s.warnings().size() == 1);
  CHECK(contains(s.warnings()[0],
                 "schema property 'client_secret' (/properties/client_secret) looks like a secret "
                 "but lacks \"writeOnly\": true"));
  auto values = s.secret_values(R"({"client_id":"id-1","client_secret":"s3cr3t-value"})");
  REQUIRE(values.size() == 1);
  CHECK(values[0].view() == "s3cr3t-value");
}

TEST_CASE("schema checks: every shipped schema is valid draft-04 and declares its secrets") {
  int checked = 0;
  for (const auto &entry : std::filesystem::directory_iterator(CREDPLUG_SCHEMA_DIR)) {
    std::ifstream in(entry.path());
    std::string text(std::istreambuf_iterator<char>(in), {});
    CAPTURE(entry.path().string());
    CompiledSchema s(text);
    CHECK(s.warnings().empty());
    ++checked;
  }
  CHECK(checked == 7);
}
