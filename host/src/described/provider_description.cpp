#include "described/provider_description.hpp"

#include "bounded_json.hpp"
#include "plugin/plugin_paths.hpp"
#include "secrets/output_rules.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace credplug::host {
namespace {

[[noreturn]] void refuse(const std::string &message) { throw std::runtime_error(message); }

std::string list_of(const std::set<std::string> &names) {
  std::string out;
  for (const auto &n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// One object of the description, read member by member: each member is
// taken at most once, and any left over is named as unknown.
class Members {
 public:
  Members(const rapidjson::Value &object, std::string where, std::set<std::string> allowed)
      : object_(object), where_(std::move(where)), allowed_(std::move(allowed)) {
    if (!object.IsObject()) refuse(name_of("") + " must be an object");
    for (const auto &m : object.GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (!allowed_.count(name))
        refuse("unknown member " + name_of(name) + " (" + (where_.empty() ? "the top level" : where_) + " has " +
               list_of(allowed_) + ")");
    }
  }

  std::string name_of(const std::string &member) const {
    return where_.empty() ? member : member.empty() ? where_ : where_ + "." + member;
  }

  const rapidjson::Value *get(const char *member) const {
    auto it = object_.FindMember(member);
    return it == object_.MemberEnd() ? nullptr : &it->value;
  }

  std::optional<std::string> string(const char *member) const {
    const auto *v = get(member);
    if (v == nullptr) return std::nullopt;
    if (!v->IsString()) refuse(name_of(member) + " must be a string");
    return std::string(v->GetString(), v->GetStringLength());
  }

  std::string required_string(const char *member) const {
    auto s = string(member);
    if (!s || s->empty()) refuse(name_of(member) + " is required (a non-empty string)");
    return *s;
  }

  std::string one_of(const char *member, const std::string &fallback, const std::set<std::string> &values) const {
    std::string s = string(member).value_or(fallback);
    if (!values.count(s)) refuse(name_of(member) + " is '" + s + "'; expected one of " + list_of(values));
    return s;
  }

  TemplateText text(const char *member) const {
    auto s = string(member);
    if (!s) return {};
    try {
      return TemplateText::parse(*s);
    } catch (const std::exception &e) {
      refuse(name_of(member) + ": " + e.what());
    }
  }

  TemplateText required_text(const char *member) const {
    TemplateText t = text(member);
    if (!t.given()) refuse(name_of(member) + " is required");
    return t;
  }

  std::optional<int64_t> integer(const char *member, int64_t low, int64_t high) const {
    const auto *v = get(member);
    if (v == nullptr) return std::nullopt;
    if (!v->IsInt64() || v->GetInt64() < low || v->GetInt64() > high)
      refuse(name_of(member) + " must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
    return v->GetInt64();
  }

  // A member the kind does not use: refused rather than ignored.
  void not_for(const char *member, const std::string &kind) const {
    if (get(member) != nullptr) refuse(name_of(member) + " does not apply to kind '" + kind + "'");
  }

 private:
  const rapidjson::Value &object_;
  std::string where_;
  std::set<std::string> allowed_;
};

// An RFC 9110 token (a header name, an auth scheme) of at most 128 bytes.
bool http_token(const std::string &s) { return s.size() <= 128 && is_http_token(s); }

std::string header_name(const Members &m, const char *member, const std::string &fallback) {
  std::string h = m.string(member).value_or(fallback);
  if (!http_token(h)) refuse(m.name_of(member) + " '" + h + "' is not a header name (RFC 9110 token characters)");
  return h;
}

std::string scheme_of(const Members &m, const std::string &fallback) {
  std::string s = m.string("scheme").value_or(fallback);
  if (!s.empty() && !http_token(s))
    refuse(m.name_of("scheme") + " '" + s + "' is not an auth scheme (\"Bearer\", \"Token\", or \"\")");
  return s;
}

// An https:// template, unless its host comes from the credential.
void https_only(const Members &m, const char *member, const TemplateText &url) {
  const std::string prefix = url.literal_prefix(), https = "https://";
  const bool ok = prefix.size() >= https.size() ? prefix.compare(0, https.size(), https) == 0
                                                : https.compare(0, prefix.size(), prefix) == 0;
  if (!ok) refuse(m.name_of(member) + " must be an https:// URL (or start with a field that holds one)");
}

std::string json_text(const rapidjson::Value &v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

DescribedAuth read_auth(const rapidjson::Value &value) {
  static const std::set<std::string> kMembers = {"kind",
                                                 "header",
                                                 "scheme",
                                                 "query",
                                                 "value",
                                                 "username",
                                                 "password",
                                                 "token_url",
                                                 "client_id",
                                                 "client_secret",
                                                 "client_auth",
                                                 "private_key",
                                                 "key_alg",
                                                 "key_id",
                                                 "scope",
                                                 "parameters",
                                                 "token_response",
                                                 "default_lifetime_s",
                                                 "assertion_audience"};
  Members m(value, "auth", kMembers);
  DescribedAuth a;
  m.required_string("kind");
  const std::string kind = m.one_of("kind", "", {"api_key", "basic", "bearer", "oauth2_client_credentials"});
  auto only = [&](const std::set<std::string> &used) {
    for (const auto &member : kMembers)
      if (member != "kind" && !used.count(member)) m.not_for(member.c_str(), kind);
  };
  if (kind == "api_key") {
    only({"header", "scheme", "query", "value"});
    a.kind = DescribedAuthKind::ApiKey;
    a.value = m.required_text("value");
    if (m.get("query") != nullptr) {
      if (m.get("header") != nullptr || m.get("scheme") != nullptr)
        refuse("auth.query and auth.header exclude each other: the key goes in one place");
      a.query = m.required_string("query");
    } else {
      a.header = header_name(m, "header", "");
      a.scheme = scheme_of(m, "");
    }
  } else if (kind == "basic") {
    only({"username", "password"});
    a.kind = DescribedAuthKind::Basic;
    a.username = m.required_text("username");
    a.password = m.required_text("password");
    a.header = "Authorization";
    a.scheme = "Basic";
  } else if (kind == "bearer") {
    only({"header", "scheme", "value"});
    a.kind = DescribedAuthKind::Bearer;
    a.value = m.required_text("value");
    a.header = header_name(m, "header", "Authorization");
    a.scheme = scheme_of(m, "Bearer");
  } else {
    only({"token_url", "client_id", "client_secret", "client_auth", "private_key", "key_alg", "key_id",
          "assertion_audience", "scope", "parameters", "token_response", "default_lifetime_s", "header", "scheme"});
    a.kind = DescribedAuthKind::OAuth2ClientCredentials;
    a.token_url = m.required_text("token_url");
    https_only(m, "token_url", a.token_url);
    a.client_id = m.required_text("client_id");
    a.client_auth =
        *kit::oauth2::client_auth_from_string(m.one_of("client_auth", "basic", {"basic", "post", "private_key_jwt"}));
    if (a.client_auth == kit::oauth2::ClientAuth::PrivateKeyJwt) {
      m.not_for("client_secret", "oauth2_client_credentials with client_auth private_key_jwt");
      a.private_key = m.required_text("private_key");
      a.key_alg = *kit::jwt_alg_from_string(m.one_of("key_alg", "RS256", {"RS256", "PS256", "ES256", "EdDSA"}));
      a.key_id = m.text("key_id");
      a.assertion_audience = m.text("assertion_audience");
    } else {
      for (const char *member : {"private_key", "key_alg", "key_id", "assertion_audience"})
        m.not_for(member, "oauth2_client_credentials with client_auth basic or post");
      a.client_secret = m.required_text("client_secret");
    }
    a.scope = m.text("scope");
    if (const auto *p = m.get("parameters")) {
      if (!p->IsObject()) refuse("auth.parameters must be an object of form parameter names and templates");
      for (const auto &member : p->GetObject()) {
        const std::string name(member.name.GetString(), member.name.GetStringLength());
        static const std::set<std::string> kReserved = {"grant_type", "client_id",        "client_secret",
                                                        "scope",      "client_assertion", "client_assertion_type"};
        if (name.empty() || kReserved.count(name))
          refuse("auth.parameters." + name + ": the token request sets " +
                 (name.empty() ? "no unnamed parameter" : name) + " itself");
        if (!member.value.IsString()) refuse("auth.parameters." + name + " must be a string (a template)");
        try {
          a.parameters.emplace_back(
              name, TemplateText::parse(std::string_view(member.value.GetString(), member.value.GetStringLength())));
        } catch (const std::exception &e) {
          refuse("auth.parameters." + name + ": " + e.what());
        }
      }
    }
    if (const auto *r = m.get("token_response")) {
      Members response(*r, "auth.token_response", {"access_token", "expires_in", "token_type"});
      a.token_fields.access_token = response.string("access_token").value_or(a.token_fields.access_token);
      a.token_fields.expires_in = response.string("expires_in").value_or(a.token_fields.expires_in);
      a.token_fields.token_type = response.string("token_type").value_or(a.token_fields.token_type);
    }
    a.default_lifetime_s = uint32_t(m.integer("default_lifetime_s", 1, 86400).value_or(0));
    a.header = header_name(m, "header", "Authorization");
    a.scheme = scheme_of(m, "Bearer");
  }
  return a;
}

DescribedTest read_test(const rapidjson::Value &value) {
  Members m(value, "test", {"method", "url", "show"});
  DescribedTest t;
  t.method = m.one_of("method", "GET", {"GET", "HEAD", "POST"});
  t.url = m.required_text("url");
  https_only(m, "url", t.url);
  if (const auto *show = m.get("show")) {
    if (!show->IsObject() || show->MemberCount() > 16)
      refuse("test.show must be an object of at most 16 labels and JSON pointers");
    for (const auto &member : show->GetObject()) {
      const std::string label(member.name.GetString(), member.name.GetStringLength());
      if (!member.value.IsString() || member.value.GetStringLength() == 0 || member.value.GetString()[0] != '/')
        refuse("test.show." + label + " must be a JSON pointer into the answer (\"/user/email\")");
      if (label.empty() || label.size() > 64)
        refuse("test.show has a label that is empty or longer than 64 characters");
      t.show.emplace_back(label, std::string(member.value.GetString(), member.value.GetStringLength()));
    }
  }
  return t;
}

}  // namespace

std::vector<DescribedAuth::Use> DescribedAuth::templates() const {
  std::vector<Use> uses = {{"auth.value", &value, true},
                           {"auth.username", &username, false},
                           {"auth.password", &password, true},
                           {"auth.token_url", &token_url, false},
                           {"auth.client_id", &client_id, false},
                           {"auth.client_secret", &client_secret, true},
                           {"auth.private_key", &private_key, true},
                           {"auth.key_id", &key_id, false},
                           {"auth.assertion_audience", &assertion_audience, false},
                           {"auth.scope", &scope, false}};
  for (const auto &[name, text] : parameters) uses.push_back({"auth.parameters." + name, &text, false});
  uses.erase(std::remove_if(uses.begin(), uses.end(), [](const Use &u) { return !u.text->given(); }), uses.end());
  return uses;
}

ProviderDescription parse_provider_description(std::string_view text) {
  if (text.size() > kMaxProviderDescriptionBytes)
    refuse("the description is " + std::to_string(text.size()) + " bytes, more than the " +
           std::to_string(kMaxProviderDescriptionBytes / 1024) + " KiB a description may have");
  rapidjson::Document doc;
  if (auto parsed = bounded_json::parse(doc, text); !parsed.ok) refuse("not valid JSON: " + parsed.where(text));
  if (!doc.IsObject()) refuse("the description must be a JSON object");
  Members top(doc, "", {"credplug_provider", "id", "display_name", "version", "credential_schema", "auth", "test"});
  if (top.integer("credplug_provider", 1, 1000) != kProviderDescriptionFormat)
    refuse("credplug_provider must be " + std::to_string(kProviderDescriptionFormat) +
           " (the format this host reads; a newer one needs a newer credplug)");
  ProviderDescription d;
  d.id = top.required_string("id");
  if (!valid_plugin_id(d.id)) refuse("id '" + d.id + "' must be 1-64 characters of a-z, 0-9, '_' and '-'");
  d.display_name = top.required_string("display_name");
  d.version = top.required_string("version");
  const auto *schema = top.get("credential_schema");
  if (schema == nullptr || !schema->IsObject()) refuse("credential_schema is required (a JSON Schema draft-04 object)");
  d.credential_schema = json_text(*schema);
  const auto *auth = top.get("auth");
  if (auth == nullptr) refuse("auth is required (an object with a kind)");
  d.auth = read_auth(*auth);
  if (const auto *test = top.get("test")) d.test = read_test(*test);
  return d;
}

bool is_provider_description_file(const std::string &path) {
  const std::string suffix = kProviderDescriptionSuffix;
  return path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace credplug::host
