#include "described/described_transport.hpp"

#include "bounded_json.hpp"
#include "described/provider_description.hpp"
#include "plugin/plugin_open.hpp"
#include "transport/plugin_call_marker.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/provider.hpp>
#include <credplug/kit/url.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <set>

namespace credplug::host {
namespace {

// The file's bytes, refusing a file larger than a description may be.
std::string read_bounded(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw LoadError("cannot read " + path);
  std::string text;
  char buffer[8192];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      ::close(fd);
      throw LoadError("cannot read " + path);
    }
    text.append(buffer, size_t(n));
    if (text.size() > kMaxProviderDescriptionBytes) {
      ::close(fd);
      throw LoadError("its description is larger than the " + std::to_string(kMaxProviderDescriptionBytes / 1024) +
                      " KiB a description may have");
    }
  }
  ::close(fd);
  return text;
}

// The schema's top-level property names.
std::set<std::string> top_level_fields(const std::string &schema_text) {
  rapidjson::Document doc;
  std::set<std::string> out;
  if (!bounded_json::parse(doc, schema_text).ok || !doc.IsObject()) return out;
  auto properties = doc.FindMember("properties");
  if (properties == doc.MemberEnd() || !properties->value.IsObject()) return out;
  for (const auto &p : properties->value.GetObject())
    out.insert(std::string(p.name.GetString(), p.name.GetStringLength()));
  return out;
}

// Each template names fields the schema defines, a secret's fields are
// secret, and what appears in messages (URLs) holds no secret.
void check_fields(const ProviderDescription &d, const CompiledSchema &schema) {
  const std::set<std::string> defined = top_level_fields(d.credential_schema);
  std::string list;
  for (const auto &f : defined) list += (list.empty() ? "" : ", ") + f;
  auto uses = d.auth.templates();
  if (d.test) uses.push_back({"test.url", &d.test->url, false});
  for (const auto &use : uses)
    for (const auto &field : use.text->fields()) {
      if (!defined.count(field))
        throw LoadError(use.where + " uses {" + field + "}, which credential_schema does not define (its properties: " +
                        (list.empty() ? "none" : list) + ")");
      const bool secret_field = schema.secret_fields().count(field) > 0;
      if (use.secret && !secret_field)
        throw LoadError(use.where + " makes a secret from {" + field + "}, which credential_schema does not mark " +
                        "\"writeOnly\": true; mark it, or the value shows wherever the credential does");
      const bool shown = use.where == "test.url" || use.where == "auth.token_url";
      if (shown && secret_field)
        throw LoadError(use.where + " uses the secret field {" + field +
                        "}; a URL shows in messages, so a secret may not be part of it");
    }
}

// One credential's values, read once by create(); immutable after, but for
// the last token (oauth2), which test() sends.
class DescribedInstance final : public PluginInstance {
 public:
  DescribedInstance(kit::JsonDocument credential, std::optional<kit::SigningKey> key)
      : credential(std::move(credential)), key(std::move(key)) {}
  const kit::JsonDocument credential;
  const std::optional<kit::SigningKey> key;  // private_key_jwt, parsed once

  void keep(const kit::SecretString &header_value) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_ = header_value;
  }
  kit::SecretString last() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }

 private:
  std::mutex mutex_;
  kit::SecretString last_;  // the last auth header value
};

class DescribedTransport final : public PluginTransport {
 public:
  DescribedTransport(ProviderDescription d, std::unique_ptr<CompiledSchema> schema, const std::string &path,
                     const FileIdentity &file)
      : d_(std::move(d)), schema_(std::move(schema)) {
    description_ = {d_.id,
                    d_.display_name,
                    d_.version,
                    path,
                    CREDPLUG_ABI_MAJOR,
                    CREDPLUG_ABI_MINOR,
                    d_.test.has_value(),
                    false,
                    true,  // an instance is read-only after create(): calls may overlap
                    !d_.auth.query.empty(),
                    false,  // connects no person's account
                    false,  // so revokes none
                    d_.auth.default_lifetime_s,
                    false,
                    "a described provider runs no plugin code: the host interprets its description",
                    file};
  }

  const PluginDescription &description() const override { return description_; }
  const CompiledSchema &schema() const override { return *schema_; }
  const char *isolation() const override { return "described"; }

  int32_t create(credplug_call &call, const SecretString &credential_json,
                 std::unique_ptr<PluginInstance> &out) override {
    return run(call, "create", [&](kit::Call &) {
      std::string problem;
      auto credential = kit::JsonDocument::parse_object(credential_json.view(), &problem);
      if (!credential) kit::fail(CREDPLUG_ERR_INVALID_CONFIG, "the credential is not a JSON object: " + problem);
      // Every value auth needs is there (an optional scope may be absent).
      for (const auto &use : d_.auth.templates()) {
        if (use.where == "auth.scope" || use.where == "auth.key_id" || use.where == "auth.assertion_audience" ||
            use.where.rfind("auth.parameters.", 0) == 0)
          continue;
        value(*credential, *use.text, use.where);
      }
      std::optional<kit::SigningKey> key;
      if (d_.auth.private_key.given()) {
        const auto &fields = d_.auth.private_key.fields();
        key = kit::SigningKey::load(d_.auth.key_alg, value(*credential, d_.auth.private_key, "auth.private_key").view(),
                                    nullptr, fields.empty() ? "auth.private_key" : fields.front());
      }
      out = std::make_unique<DescribedInstance>(std::move(*credential), std::move(key));
    });
  }

  int32_t invoke(PluginOp op, PluginInstance &instance, credplug_call &call) override {
    auto &inst = static_cast<DescribedInstance &>(instance);
    return run(call, op_name(op), [&](kit::Call &c) {
      switch (op) {
        case PluginOp::Authenticate:
        case PluginOp::Refresh:
          return authenticate(inst, c);
        case PluginOp::Test:
          return test(inst, c);
        case PluginOp::Sign:
          return c.query(d_.auth.query, value(inst.credential, d_.auth.value, "auth.value").view(), true);
        case PluginOp::Authorize:
        case PluginOp::Revoke:
          kit::fail(CREDPLUG_ERR_PLUGIN, "a described provider connects no person's account");
      }
    });
  }

 private:
  // Runs `body` as a plugin call: a kit::Failure becomes the call's error.
  template <class Body>
  int32_t run(credplug_call &call, const char *op, Body &&body) {
    static const int32_t kit_ready = kit::detail::init(host_services());
    if (kit_ready != CREDPLUG_OK) return CREDPLUG_ERR_PLUGIN;
    PluginCallMarker marker(d_.id.c_str(), op);
    return kit::detail::guarded(&call, body);
  }

  // A template's text, or INVALID_CONFIG naming the field it lacks.
  static kit::SecretString value(const kit::JsonDocument &credential, const TemplateText &text,
                                 const std::string &where) {
    std::string missing;
    auto rendered = text.render(credential, &missing);
    if (!rendered)
      kit::fail(CREDPLUG_ERR_INVALID_CONFIG, "the credential has no '" + missing + "', which " + where + " needs");
    return std::move(*rendered);
  }

  static std::optional<kit::SecretString> optional_value(const kit::JsonDocument &credential,
                                                         const TemplateText &text) {
    return text.given() ? text.render(credential, nullptr) : std::nullopt;
  }

  kit::SecretString header_value(const kit::SecretString &credential_part) const {
    if (d_.auth.scheme.empty()) return credential_part;
    kit::SecretString out(d_.auth.scheme + " ");
    out.append(credential_part.view());
    return out;
  }

  void authenticate(DescribedInstance &inst, kit::Call &c) {
    const DescribedAuth &a = d_.auth;
    switch (a.kind) {
      case DescribedAuthKind::ApiKey:
      case DescribedAuthKind::Bearer: {
        kit::SecretString key = value(inst.credential, a.value, "auth.value");
        c.add_secret(key.view());
        if (a.query.empty()) emit(inst, c, header_value(key));  // else sign() adds it to each URL
        return c.never_expires();
      }
      case DescribedAuthKind::Basic: {
        kit::SecretString user = value(inst.credential, a.username, "auth.username");
        kit::SecretString password = value(inst.credential, a.password, "auth.password");
        // RFC 7617 §2: a user-id with a colon cannot be told from the password.
        if (user.view().find(':') != std::string_view::npos)
          kit::fail(CREDPLUG_ERR_INVALID_CONFIG, "the user name holds a ':', which Basic authentication cannot carry");
        kit::SecretString pair(user.view());
        pair.append(":");
        pair.append(password.view());
        kit::SecretString encoded(kit::base64_encode(pair.view()));
        c.add_secret(encoded.view());
        emit(inst, c, header_value(encoded));
        return c.never_expires();
      }
      case DescribedAuthKind::OAuth2ClientCredentials:
        break;
    }
    kit::oauth2::ClientCredentialsRequest request;
    request.token_url = value(inst.credential, a.token_url, "auth.token_url").reveal();
    request.client_id = value(inst.credential, a.client_id, "auth.client_id").reveal();
    request.client_auth = a.client_auth;
    if (inst.key) {
      request.assertion_key = &*inst.key;
      if (auto kid = optional_value(inst.credential, a.key_id)) request.key_id = kid->reveal();
      if (auto aud = optional_value(inst.credential, a.assertion_audience)) request.assertion_audience = aud->reveal();
    } else {
      request.client_secret = value(inst.credential, a.client_secret, "auth.client_secret");
    }
    if (auto scope = optional_value(inst.credential, a.scope)) request.scope = scope->reveal();
    for (const auto &[name, text] : a.parameters)
      if (auto v = optional_value(inst.credential, text)) request.parameters.emplace_back(name, v->reveal());
    request.fields = a.token_fields;
    request.endpoint_name = d_.display_name + " token endpoint";
    kit::oauth2::Token token = kit::oauth2::request_client_credentials(c, request);
    emit(inst, c, header_value(token.access_token));
    if (token.expires_in) c.expires_at(c.now_seconds() + *token.expires_in);
  }

  void emit(DescribedInstance &inst, kit::Call &c, const kit::SecretString &header) const {
    c.header(d_.auth.header, header.view(), true);
    inst.keep(header);
  }

  void test(DescribedInstance &inst, kit::Call &c) {
    const DescribedTest &t = *d_.test;
    kit::HttpRequest request;
    request.method = t.method;
    request.url = value(inst.credential, t.url, "test.url").reveal();
    const std::string shown = t.method + " " + request.url;
    request.header("Accept", "application/json");
    if (!d_.auth.query.empty()) {
      kit::SecretString key = value(inst.credential, d_.auth.value, "auth.value");
      request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + kit::url_encode(d_.auth.query) + "=" +
                     kit::url_encode(key.view());
    } else {
      kit::SecretString header = inst.last();
      if (header.empty()) {  // the token came from a cache: ask for one of this instance's own
        authenticate(inst, c);
        header = inst.last();
      }
      request.headers.emplace_back(d_.auth.header, header);
    }
    kit::HttpResponse response = c.send(request);
    const std::vector<std::string> &url_fields = t.url.fields();
    kit::expect_success(
        response, {d_.display_name, shown, url_fields.empty() ? "test.url" : url_fields.front(), "is the URL right?",
                   d_.auth.kind == DescribedAuthKind::Basic    ? "the user name and password"
                   : d_.auth.kind == DescribedAuthKind::ApiKey ? "the key"
                                                               : "the token"});
    if (t.show.empty()) return;
    auto answer = kit::JsonDocument::parse_object(response.body());
    if (!answer) return;
    for (const auto &[label, pointer] : t.show)
      if (auto text = answer->string(pointer))
        c.output(label, *text);
      else if (auto raw = answer->raw(pointer))
        c.output(label, *raw);
  }

  const ProviderDescription d_;
  std::unique_ptr<CompiledSchema> schema_;
  PluginDescription description_;
};

}  // namespace

std::shared_ptr<PluginTransport> load_described(const std::string &path) {
  const FileIdentity file = identity_of(path);
  ProviderDescription d;
  try {
    d = parse_provider_description(read_bounded(path));
  } catch (const LoadError &) {
    throw;
  } catch (const std::exception &e) {
    throw LoadError(std::string("its description is wrong: ") + e.what());
  }
  std::unique_ptr<CompiledSchema> schema;
  try {
    schema = std::make_unique<CompiledSchema>(d.credential_schema);
  } catch (const std::exception &e) {
    throw LoadError("provider '" + d.id + "': credential_schema: " + e.what());
  }
  try {
    check_fields(d, *schema);
  } catch (const LoadError &e) {
    throw LoadError("provider '" + d.id + "': " + e.what());
  }
  return std::make_shared<DescribedTransport>(std::move(d), std::move(schema), path, file);
}

}  // namespace credplug::host
