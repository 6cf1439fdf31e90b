// Described providers' files (described/provider_description.hpp) and their
// templates (template_text.hpp): what parses, and each mistake refused with
// the member named.
#include "described/provider_description.hpp"

#include <credplug/kit/failure.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace credplug;
using namespace credplug::host;

namespace {

std::string example(const std::string &id) {
  std::ifstream in(std::string(CREDPLUG_SOURCE_DIR) + "/examples/json-provider/credplug-" + id + ".provider.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string refusal(const std::string &text) {
  try {
    parse_provider_description(text);
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "(accepted)";
}

const std::string kSchema = R"("credential_schema": {"type": "object", "properties": {"key": {"type": "string"}}})";

std::string with_auth(const std::string &auth) {
  return R"({"credplug_provider": 1, "id": "x", "display_name": "X", "version": "1.0.0", )" + kSchema +
         R"(, "auth": )" + auth + "}";
}

}  // namespace

TEST_CASE("template text: holes, literal braces, and what a credential fills") {
  TemplateText t = TemplateText::parse("{base_url}/v1/{{literal}}?k={key}&again={key}");
  CHECK(t.given());
  CHECK(t.fields() == std::vector<std::string>{"base_url", "key"});
  CHECK(t.literal_prefix().empty());
  auto credential = kit::JsonDocument::parse_object(R"({"base_url": "https://a.example", "key": "k1"})");
  std::string missing;
  auto text = t.render(*credential, &missing);
  REQUIRE(text);
  CHECK(text->reveal() == "https://a.example/v1/{literal}?k=k1&again=k1");
  CHECK(TemplateText::parse("https://x/{n}/{b}")
            .render(*kit::JsonDocument::parse_object(R"({"n": 42, "b": true})"), nullptr)
            ->reveal() == "https://x/42/true");
  CHECK(TemplateText::parse("https://x/{id}").literal_prefix() == "https://x/");
  // Absent: nullopt and the field; an object: refused by name.
  CHECK_FALSE(t.render(*kit::JsonDocument::parse_object(R"({"key": "k"})"), &missing));
  CHECK(missing == "base_url");
  try {
    TemplateText::parse("{o}").render(*kit::JsonDocument::parse_object(R"({"o": {}})"), nullptr);
    FAIL("an object filled a template");
  } catch (const kit::Failure &f) {
    CHECK(f.code() == CREDPLUG_ERR_INVALID_CONFIG);
    CHECK(std::string(f.what()).find("field 'o' must be a string, an integer or a boolean") != std::string::npos);
  }
  for (const auto &c : std::vector<std::pair<std::string, std::string>>{{"{unclosed", "an unclosed '{' at byte 0"},
                                                                        {"a}b", "a '}' at byte 1 closes no '{'"},
                                                                        {"{}", "'{}' is not a field name"},
                                                                        {"{a b}", "'{a b}' is not a field name"}}) {
    const std::string &bad = c.first, &why = c.second;
    CAPTURE(bad);
    try {
      TemplateText::parse(bad);
      FAIL("accepted");
    } catch (const std::runtime_error &e) {
      CHECK(std::string(e.what()).find(why) != std::string::npos);
    }
  }
}

TEST_CASE("provider description: every shipped example parses as its kind") {
  const std::vector<std::pair<std::string, DescribedAuthKind>> examples = {
      {"keyed-api", DescribedAuthKind::ApiKey},
      {"query-key-api", DescribedAuthKind::ApiKey},
      {"basic-api", DescribedAuthKind::Basic},
      {"bearer-api", DescribedAuthKind::Bearer},
      {"oauth2-described", DescribedAuthKind::OAuth2ClientCredentials},
      {"oauth2-jwt-described", DescribedAuthKind::OAuth2ClientCredentials}};
  for (const auto &e : examples) {
    const std::string &id = e.first;
    const DescribedAuthKind kind = e.second;
    CAPTURE(id);
    ProviderDescription d = parse_provider_description(example(id));
    CHECK(d.id == id);
    CHECK(d.auth.kind == kind);
    CHECK(d.test.has_value());
  }
  ProviderDescription q = parse_provider_description(example("query-key-api"));
  CHECK(q.auth.query == "api_key");
  CHECK(q.auth.header.empty());
  ProviderDescription b = parse_provider_description(example("bearer-api"));
  CHECK(b.auth.header == "Authorization");
  CHECK(b.auth.scheme == "Bearer");
  ProviderDescription o = parse_provider_description(example("oauth2-described"));
  CHECK(o.auth.client_auth == kit::oauth2::ClientAuth::Basic);
  REQUIRE(o.auth.parameters.size() == 1);
  CHECK(o.auth.parameters[0].first == "audience");
  ProviderDescription j = parse_provider_description(example("oauth2-jwt-described"));
  CHECK(j.auth.client_auth == kit::oauth2::ClientAuth::PrivateKeyJwt);
  CHECK(j.auth.key_alg == kit::JwtAlg::ES256);
  // Secret uses are marked: their fields must be writeOnly (the loader checks).
  bool private_key_secret = false;
  for (const auto &use : j.auth.templates()) private_key_secret |= use.where == "auth.private_key" && use.secret;
  CHECK(private_key_secret);
}

TEST_CASE("provider description: each mistake is refused naming the member") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "the description must be a JSON object"},
      {"{", "not valid JSON"},
      {R"({"credplug_provider": 1})", "id is required"},
      {R"({"credplug_provider": 2, "id": "x"})", "credplug_provider must be 1"},
      {R"({"credplug_provider": 1, "id": "X Y", "display_name": "X", "version": "1"})", "id 'X Y' must be"},
      {R"({"credplug_provider": 1, "id": "x", "display_name": "X", "version": "1", "auth": {}})",
       "credential_schema is required"},
      {R"({"credplug_provider": 1, "id": "x", "display_name": "X", "version": "1", "colour": 1})",
       "unknown member colour (the top level has auth, credential_schema"},
      {with_auth(R"({"value": "{key}"})"), "auth.kind is required"},
      {with_auth(R"({"kind": "digest"})"), "auth.kind is 'digest'; expected one of"},
      {with_auth(R"({"kind": "api_key"})"), "auth.value is required"},
      {with_auth(R"({"kind": "api_key", "value": "{key}", "header": "X Key"})"),
       "auth.header 'X Key' is not a header name"},
      {with_auth(R"({"kind": "api_key", "value": "{key}", "query": "k", "header": "X-Key"})"),
       "auth.query and auth.header exclude each other"},
      {with_auth(R"({"kind": "api_key", "value": "{key}", "username": "u"})"),
       "auth.username does not apply to kind 'api_key'"},
      {with_auth(R"({"kind": "basic", "username": "{user}"})"), "auth.password is required"},
      {with_auth(R"({"kind": "bearer", "value": "{key", "header": "Authorization"})"), "auth.value: an unclosed '{'"},
      {with_auth(R"({"kind": "oauth2_client_credentials", "token_url": "http://a/token", "client_id": "c",
                     "client_secret": "{key}"})"),
       "auth.token_url must be an https:// URL"},
      {with_auth(R"({"kind": "oauth2_client_credentials", "token_url": "{u}", "client_id": "c",
                     "client_secret": "{key}", "client_auth": "private_key_jwt"})"),
       "auth.client_secret does not apply to kind 'oauth2_client_credentials with client_auth private_key_jwt'"},
      {with_auth(R"({"kind": "oauth2_client_credentials", "token_url": "{u}", "client_id": "c",
                     "client_secret": "{key}", "parameters": {"grant_type": "password"}})"),
       "auth.parameters.grant_type: the token request sets grant_type itself"},
      {with_auth(R"({"kind": "oauth2_client_credentials", "token_url": "{u}", "client_id": "c",
                     "client_secret": "{key}", "token_response": {"acess_token": "/t"}})"),
       "unknown member auth.token_response.acess_token"},
      {with_auth(R"({"kind": "oauth2_client_credentials", "token_url": "{u}", "client_id": "c",
                     "client_secret": "{key}", "default_lifetime_s": 0})"),
       "auth.default_lifetime_s must be an integer from 1 to 86400"},
      {with_auth(R"({"kind": "bearer", "value": "{key}"}, "test": {"url": "{u}", "method": "DELETE"})"),
       "test.method is 'DELETE'; expected one of GET, HEAD, POST"},
      {with_auth(R"({"kind": "bearer", "value": "{key}"}, "test": {"url": "{u}", "show": {"who": "name"}})"),
       "test.show.who must be a JSON pointer"},
  };
  for (const auto &c : cases) {
    const std::string &text = c.first, &expected = c.second;
    CAPTURE(text);
    const std::string why = refusal(text);
    CAPTURE(why);
    CHECK(why.find(expected) != std::string::npos);
  }
  CHECK(refusal(std::string(kMaxProviderDescriptionBytes + 1, ' ')).find("more than the 256 KiB") != std::string::npos);
  CHECK(is_provider_description_file("/a/credplug-x.provider.json"));
  CHECK_FALSE(is_provider_description_file("/a/credplug-x.so"));
}
