// A provider described without code: the file credplug-<id>.provider.json
// (docs/DESCRIBED_PROVIDERS.md), read and checked here. Every mistake is
// refused at load with a message naming the member ("auth.kind is 'api-key';
// expected one of api_key, basic, bearer, oauth2_client_credentials"), never
// applied as a default in silence.
#pragma once

#include "described/template_text.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/oauth2.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::host {

// The description's format version, "credplug_provider": 1.
constexpr int kProviderDescriptionFormat = 1;
// Larger than any description needs (a schema and a few templates).
constexpr size_t kMaxProviderDescriptionBytes = size_t{256} * 1024;
constexpr const char *kProviderDescriptionSuffix = ".provider.json";

enum class DescribedAuthKind { ApiKey, Basic, Bearer, OAuth2ClientCredentials };

// How the credential becomes what each request carries.
struct DescribedAuth {
  DescribedAuthKind kind = DescribedAuthKind::ApiKey;
  // api_key, bearer and oauth2: the header that carries the key or token,
  // with `scheme` before it ("" for the bare value); api_key may name a
  // query parameter instead (then `header` is empty).
  std::string header, scheme, query;
  TemplateText value;                 // api_key: the key; bearer: the token
  TemplateText username, password;    // basic
  TemplateText token_url, client_id;  // oauth2_client_credentials
  TemplateText client_secret;         // basic and post
  TemplateText private_key, key_id;   // private_key_jwt
  TemplateText assertion_audience;    // private_key_jwt: the assertion's aud when not the token URL (the issuer)
  TemplateText scope;                 // sent when its fields are present
  kit::oauth2::ClientAuth client_auth = kit::oauth2::ClientAuth::Basic;
  kit::JwtAlg key_alg = kit::JwtAlg::RS256;
  std::vector<std::pair<std::string, TemplateText>> parameters;  // more form parameters
  kit::oauth2::TokenFields token_fields;
  uint32_t default_lifetime_s = 0;  // when the token endpoint gives no expires_in; 0: the host's

  // Every template with where it is ("auth.value"), and whether what it
  // makes is a secret (then its fields must be secret fields too).
  struct Use {
    std::string where;
    const TemplateText *text;
    bool secret;
  };
  std::vector<Use> templates() const;
};

// The connection test: one request, any 2xx passes.
struct DescribedTest {
  std::string method = "GET";
  TemplateText url;
  // Shown by `credplug test`: label -> RFC 6901 pointer into the JSON answer.
  std::vector<std::pair<std::string, std::string>> show;
};

struct ProviderDescription {
  std::string id, display_name, version;
  std::string credential_schema;  // the schema object's text
  DescribedAuth auth;
  std::optional<DescribedTest> test;
};

// Throws std::runtime_error naming the member that is wrong. Checks the
// shape and values; that each template's fields are in the schema is the
// loader's (it has the compiled schema).
ProviderDescription parse_provider_description(std::string_view text);

// True for ".../credplug-<id>.provider.json" and any "*.provider.json".
bool is_provider_description_file(const std::string &path);

}  // namespace credplug::host
