#include "schema/schema_checks.hpp"

#include "base/fork_local.hpp"
#include "schema/draft04_meta_schema.hpp"
#include "schema/rapidjson_schema.hpp"

#include <rapidjson/stringbuffer.h>

#include <cctype>
#include <memory>
#include <mutex>

namespace credplug::host {
namespace {

// Compiled once; a validation borrows nothing from it that it changes (the
// meta-schema has no `pattern`), but validations are serialised anyway: they
// happen once per plugin load.
struct MetaSchema {
  rapidjson::Document doc;
  std::unique_ptr<SchemaDocument> compiled;
  std::mutex mutex;
  MetaSchema() {
    doc.Parse(kDraft04MetaSchema);
    compiled = std::make_unique<SchemaDocument>(doc);
  }
};

MetaSchema &meta() {
  // Per process (a child of fork() compiles its own); never destroyed: used until exit.
  static auto *m = new ForkLocal<MetaSchema>([] { return std::make_unique<MetaSchema>(); });
  return m->get();
}

std::string pointer_text(const SchemaPointer &p) {
  rapidjson::StringBuffer sb;
  p.Stringify(sb);
  return sb.GetSize() ? std::string(sb.GetString(), sb.GetSize()) : "/";
}

std::string lower(std::string s) {
  for (auto &c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void walk(const rapidjson::Value &schema, const std::string &at,
          const std::function<void(const std::string &, const rapidjson::Value &, const std::string &)> &visit) {
  if (!schema.IsObject()) return;
  auto props = schema.FindMember("properties");
  if (props != schema.MemberEnd() && props->value.IsObject()) {
    for (const auto &p : props->value.GetObject()) {
      const std::string name(p.name.GetString(), p.name.GetStringLength());
      const std::string where = at + "/properties/" + name;
      visit(name, p.value, where);
      walk(p.value, where, visit);
    }
  }
  for (const char *key : {"oneOf", "anyOf", "allOf"}) {
    auto branch = schema.FindMember(key);
    if (branch != schema.MemberEnd() && branch->value.IsArray()) {
      int i = 0;
      for (const auto &b : branch->value.GetArray()) walk(b, at + "/" + key + "/" + std::to_string(i++), visit);
    }
  }
  for (const char *key : {"items", "not", "additionalProperties"}) {
    auto sub = schema.FindMember(key);
    if (sub != schema.MemberEnd()) walk(sub->value, at + "/" + key, visit);
  }
}

}  // namespace

std::optional<std::string> meta_schema_problem(const rapidjson::Value &schema) {
  MetaSchema &m = meta();
  std::lock_guard<std::mutex> lock(m.mutex);
  SchemaValidator validator(*m.compiled);
  if (schema.Accept(validator)) return std::nullopt;
  const std::string at = pointer_text(validator.GetInvalidDocumentPointer());
  const std::string rule = validator.GetInvalidSchemaKeyword();
  std::string why = "breaks draft-04's rule '" + rule + "'";
  if (at.size() > 5 && at.compare(at.size() - 5, 5, "/type") == 0)
    why = "is not a JSON type (array, boolean, integer, null, number, object, string, or a list of them)";
  else if (at == "/required" || (at.size() > 9 && at.compare(at.size() - 9, 9, "/required") == 0))
    why = "must be a list of property names (draft-04), not " + std::string(rule == "type" ? "a single value" : "that");
  return "the credential schema is not a valid JSON Schema draft-04: " + at + " " + why;
}

bool name_says_secret(const std::string &name) {
  // The last word: after the last '_' or '-', or the last capital in camelCase.
  size_t start = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '_' || c == '-')
      start = i + 1;
    else if (std::isupper(c) && i > 0 && std::islower(static_cast<unsigned char>(name[i - 1])))
      start = i;
  }
  const std::string last = lower(name.substr(start));
  for (const char *word :
       {"secret", "password", "passwd", "pwd", "passphrase", "passcode", "token", "key", "apikey", "pin", "credential",
        "credentials", "privatekey", "license", "licence", "signature", "cookie"})
    if (last == word) return true;
  // Wherever it stands: "private_key_pem", "password_sha1".
  const std::string whole = lower(name);
  for (const char *part : {"privatekey", "private_key", "private-key", "password", "passphrase"})
    if (whole.find(part) != std::string::npos) return true;
  return false;
}

void for_each_property(
    const rapidjson::Value &schema,
    const std::function<void(const std::string &, const rapidjson::Value &, const std::string &)> &visit) {
  walk(schema, "", visit);
}

bool declared_write_only(const rapidjson::Value &property) {
  if (!property.IsObject()) return false;
  auto wo = property.FindMember("writeOnly");
  return wo != property.MemberEnd() && wo->value.IsBool() && wo->value.GetBool();
}

bool declared_address(const rapidjson::Value &property) {
  if (!property.IsObject()) return false;
  auto marked = property.FindMember("x-credplug-address");
  if (marked != property.MemberEnd() && marked->value.IsBool() && marked->value.GetBool()) return true;
  auto format = property.FindMember("format");
  if (format == property.MemberEnd() || !format->value.IsString()) return false;
  const std::string_view f(format->value.GetString(), format->value.GetStringLength());
  return f == "hostname" || f == "uri";
}

UndeclaredSecrets undeclared_secrets(const rapidjson::Value &schema) {
  UndeclaredSecrets out;
  for_each_property(schema, [&](const std::string &name, const rapidjson::Value &property, const std::string &where) {
    if (property.IsObject() && name_says_secret(name) && !declared_write_only(property) &&
        out.names.insert(name).second)
      out.warnings.push_back("schema property '" + name + "' (" + where +
                             ") looks like a secret but lacks \"writeOnly\": true; it is treated as secret "
                             "(masked everywhere) — declare it writeOnly");
  });
  return out;
}

}  // namespace credplug::host

namespace credplug::host {

std::vector<std::string> convention_problems(const rapidjson::Value &schema) {
  std::vector<std::string> out;
  if (!schema.IsObject()) return {"the schema is not a JSON object"};
  auto text = [](const rapidjson::Value &v, const char *key) -> std::string {
    auto it = v.FindMember(key);
    return it != v.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                       : std::string();
  };
  if (text(schema, "$schema") != "http://json-schema.org/draft-04/schema#")
    out.push_back("/$schema: declare \"http://json-schema.org/draft-04/schema#\" (credplug validates draft-04)");
  // A property a oneOf/anyOf/allOf branch declares again (a discriminator's
  // "enum" per branch) is documented where the enclosing schema declares it.
  std::set<std::string> declared;
  for_each_property(
      schema, [&](const std::string &, const rapidjson::Value &, const std::string &where) { declared.insert(where); });
  auto redeclared = [&](const std::string &name, const std::string &where) {
    size_t branch = std::string::npos;
    for (const char *combinator : {"/oneOf/", "/anyOf/", "/allOf/"})
      if (size_t at = where.rfind(combinator); at != std::string::npos && (branch == std::string::npos || at > branch))
        branch = at;
    return branch != std::string::npos && declared.count(where.substr(0, branch) + "/properties/" + name) > 0;
  };
  for_each_property(schema, [&](const std::string &name, const rapidjson::Value &property, const std::string &where) {
    if (!property.IsObject() || redeclared(name, where)) return;
    if (text(property, "title").empty()) out.push_back(where + ": no \"title\" (the name a form shows for the field)");
    if (text(property, "description").empty())
      out.push_back(where + ": no \"description\" (what the value is and where the user finds it)");
    if (property.HasMember("pattern") && text(property, "x-pattern-hint").empty())
      out.push_back(where +
                    ": a \"pattern\" without \"x-pattern-hint\" (a value it refuses is explained by the hint, "
                    "not by the regular expression)");
  });
  for (const auto &warning : undeclared_secrets(schema).warnings) out.push_back(warning);
  return out;
}

}  // namespace credplug::host
