#include "schema/schema_validator.hpp"

#include "base/fork_local.hpp"
#include "bounded_json.hpp"
#include "net/egress_policy.hpp"
#include "schema/pattern_check.hpp"
#include "schema/rapidjson_schema.hpp"
#include "schema/ref_check.hpp"
#include "schema/schema_checks.hpp"
#include "secrets/json_wipe.hpp"
#include "secrets/output_rules.hpp"

#include <openssl/crypto.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace credplug::host {

// RapidJSON 1.1.0 keeps each `pattern`'s match state inside the compiled
// schema (GenericRegex::state0_, state1_, stateSet_), so one SchemaDocument
// must never validate on two threads at once. A validation borrows a
// compiled copy from this pool (compiling one when none is idle) and gives it
// back: copies are never shared, and the lock covers only the borrow and the
// return, never a validation. The regex engine stays RapidJSON's Thompson
// NFA: linear in the value's length.
//
// The copies are per process: a child of fork() does not take the lock
// from a thread it does not have.
struct CompiledSchema::Impl {
  rapidjson::Document schema_doc;
  struct Idle {
    std::mutex mutex;
    std::vector<std::unique_ptr<SchemaDocument>> copies;
  };
  ForkLocal<Idle> idle{[] { return std::make_unique<Idle>(); }};
  static constexpr size_t kMaxIdle = 16;  // copies kept for later validations

  class Lease {
   public:
    Lease(Idle &pool, std::unique_ptr<SchemaDocument> schema) : pool_(pool), schema_(std::move(schema)) {}
    ~Lease() {
      std::lock_guard<std::mutex> lock(pool_.mutex);
      if (pool_.copies.size() < kMaxIdle) pool_.copies.push_back(std::move(schema_));
    }
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    const SchemaDocument &operator*() const { return *schema_; }

   private:
    Idle &pool_;
    std::unique_ptr<SchemaDocument> schema_;
  };

  Lease borrow() {
    Idle &pool = idle.get();
    {
      std::lock_guard<std::mutex> lock(pool.mutex);
      if (!pool.copies.empty()) {
        auto schema = std::move(pool.copies.back());
        pool.copies.pop_back();
        return Lease(pool, std::move(schema));
      }
    }
    return Lease(pool, std::make_unique<SchemaDocument>(schema_doc));
  }
};

namespace {

using rapidjson::Value;

std::string pointer_text(const SchemaPointer &p) {
  rapidjson::StringBuffer sb;
  p.Stringify(sb);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string json_text(const Value &v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

const char *type_name(const Value &v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsInt64() || v.IsUint64()) return "an integer";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

std::string expected_types(const Value &type) {
  auto one = [](const Value &t) -> std::string {
    std::string s = t.IsString() ? t.GetString() : "?";
    if (s == "integer" || s == "object" || s == "array") return "an " + s;
    return "a " + s;
  };
  if (type.IsString()) return one(type);
  std::string out;
  if (type.IsArray())
    for (const auto &t : type.GetArray()) out += (out.empty() ? "" : " or ") + one(t);
  return out;
}

size_t edit_distance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cur = row[j];
      row[j] =
          std::min({row[j] + 1, row[j - 1] + 1, prev + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

const Value *member(const Value &obj, const char *name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string string_member(const Value &obj, const char *name) {
  const Value *v = member(obj, name);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

// The field's name for messages: its last pointer token.
std::string field_name(const std::string &pointer) {
  if (pointer.empty()) return "the credential";
  return pointer.substr(pointer.rfind('/') + 1);
}

// "Client ID (client_id)" when the schema gives a title.
std::string describe_field(const Value *field_schema, const std::string &name) {
  std::string title = field_schema ? string_member(*field_schema, "title") : "";
  return title.empty() ? "'" + name + "'" : "'" + name + "' (" + title + ")";
}

std::vector<FieldError> explain(const Value &root_schema, const Value &doc, const SchemaPointer &schema_ptr,
                                const std::string &keyword, const SchemaPointer &doc_ptr,
                                const std::set<std::string> &secrets, const Redactor *redactor);

// A JSON pointer's tokens, unescaped (~1 is '/', ~0 is '~').
std::vector<std::string> pointer_tokens(const std::string &pointer) {
  std::vector<std::string> tokens;
  for (size_t at = 0; at < pointer.size() && pointer[at] == '/';) {
    size_t end = pointer.find('/', at + 1);
    std::string raw = pointer.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1), token;
    for (size_t i = 0; i < raw.size(); ++i)
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1'))
        token += raw[++i] == '1' ? '/' : '~';
      else
        token += raw[i];
    tokens.push_back(std::move(token));
    if (end == std::string::npos) break;
    at = end;
  }
  return tokens;
}

// The schema of the field at `pointer`: through "properties", and the
// first oneOf/anyOf/allOf branch that declares it; nullptr when none does.
const Value *field_schema_at(const Value &root, const std::string &pointer) {
  const Value *at = &root;
  for (const std::string &token : pointer_tokens(pointer)) {
    const Value *next = nullptr;
    if (const Value *props = member(*at, "properties"); props && props->IsObject())
      next = member(*props, token.c_str());
    for (const char *combiner : {"oneOf", "anyOf", "allOf"})
      if (const Value *branches = member(*at, combiner); next == nullptr && branches && branches->IsArray())
        for (const auto &b : branches->GetArray())
          if (const Value *props = member(b, "properties"); next == nullptr && props && props->IsObject())
            next = member(*props, token.c_str());
    if (next == nullptr || !next->IsObject()) return nullptr;
    at = next;
  }
  return at;
}

// Validates `value` against the one branch of `schema`'s oneOf/anyOf whose
// single-value enum property matches it. The branch is merged into a copy of
// the schema (same properties, titles and descriptions; the branch's required
// list and pinned property), so messages read as for any other field.
std::vector<FieldError> explain_chosen_branch(const Value &schema, const std::string &keyword, const Value &value,
                                              const std::string &pointer, const std::set<std::string> &secrets,
                                              const Redactor *redactor) {
  const Value *branches = member(schema, keyword.c_str());
  if (!branches || !branches->IsArray()) return {};
  for (const auto &branch : branches->GetArray()) {
    const Value *pinned = member(branch, "properties");
    if (!pinned || !pinned->IsObject()) continue;
    bool chosen = false;
    for (const auto &p : pinned->GetObject()) {
      const Value *e = member(p.value, "enum");
      auto have = value.FindMember(p.name);
      if (e && e->IsArray() && e->Size() == 1 && have != value.MemberEnd() && have->value == (*e)[0]) chosen = true;
    }
    if (!chosen) continue;
    rapidjson::Document merged;
    merged.CopyFrom(schema, merged.GetAllocator());
    merged.RemoveMember(keyword.c_str());
    for (auto &m : const_cast<Value &>(branch).GetObject()) {
      if (m.name == "properties") {
        auto &props = merged["properties"];
        for (auto &p : m.value.GetObject()) {
          Value name(p.name, merged.GetAllocator()), copy(p.value, merged.GetAllocator());
          auto existing = props.FindMember(name);
          if (existing != props.MemberEnd()) {
            for (auto &rule : copy.GetObject()) {
              Value rn(rule.name, merged.GetAllocator()), rv(rule.value, merged.GetAllocator());
              existing->value.RemoveMember(rn);
              existing->value.AddMember(rn, rv, merged.GetAllocator());
            }
          } else {
            props.AddMember(name, copy, merged.GetAllocator());
          }
        }
      } else if (m.name != "title" && m.name != "description") {
        Value name(m.name, merged.GetAllocator()), copy(m.value, merged.GetAllocator());
        merged.RemoveMember(name);
        merged.AddMember(name, copy, merged.GetAllocator());
      }
    }
    // Merging can make a $ref chain the schema did not have: checked again.
    if (schema_ref_problem(merged)) return {};
    SchemaDocument branch_schema(merged);
    SchemaValidator validator(branch_schema);
    if (value.Accept(validator)) return {};
    auto errors = explain(merged, value, validator.GetInvalidSchemaPointer(), validator.GetInvalidSchemaKeyword(),
                          validator.GetInvalidDocumentPointer(), secrets, redactor);
    for (auto &e : errors) e.pointer = pointer + e.pointer;
    return errors;
  }
  return {};
}

// Builds the messages for RapidJSON's first error. Values of secret fields
// are never quoted.
std::vector<FieldError> explain(const Value &root_schema, const Value &doc, const SchemaPointer &schema_ptr,
                                const std::string &keyword, const SchemaPointer &doc_ptr,
                                const std::set<std::string> &secrets, const Redactor *redactor) {
  const Value *schema = schema_ptr.Get(const_cast<Value &>(root_schema));
  const Value *value = doc_ptr.Get(const_cast<Value &>(doc));
  std::string pointer = pointer_text(doc_ptr);
  std::string name = field_name(pointer);
  std::string who = pointer.empty() ? "the credential" : describe_field(schema, name);
  bool secret = secrets.count(name) > 0;
  auto shown = [&](const Value &v) -> std::string {
    if (secret) return "";
    std::string text = json_text(v);
    if (redactor) text = redactor->apply(text);  // before shortening: a cut secret is no longer found
    if (text.size() > 80) text = displayable(text, 80);
    return "; got " + text;
  };
  std::vector<FieldError> out;
  auto add = [&](std::string ptr, std::string message) {
    out.push_back({std::move(ptr), keyword, std::move(message), "", ""});  // field, title: filled by validate()
  };

  if (keyword == "required" && schema && value && value->IsObject()) {
    const Value *required = member(*schema, "required");
    const Value *props = member(*schema, "properties");
    if (required && required->IsArray())
      for (const auto &r : required->GetArray()) {
        if (!r.IsString() || value->HasMember(r)) continue;
        std::string field = r.GetString();
        const Value *fs = props ? member(*props, field.c_str()) : nullptr;
        std::string desc = fs ? string_member(*fs, "description") : "";
        add(pointer + "/" + field,
            describe_field(fs, field) + " is required but missing" + (desc.empty() ? "" : " — " + desc));
      }
    if (!out.empty()) return out;
  }
  if (keyword == "additionalProperties" && schema) {
    std::vector<std::string> allowed;
    if (const Value *props = member(*schema, "properties"); props && props->IsObject())
      for (const auto &p : props->GetObject()) allowed.emplace_back(p.name.GetString());
    std::string best;
    size_t best_d = 4;
    for (const auto &a : allowed)
      if (size_t d = edit_distance(name, a); d < best_d) best_d = d, best = a;
    std::string list;
    for (const auto &a : allowed) list += (list.empty() ? "" : ", ") + a;
    add(pointer, "'" + name + "' is not a field of this credential" +
                     (best.empty() ? "" : " — did you mean '" + best + "'?") + ". Allowed fields: " + list);
    return out;
  }
  if (keyword == "type" && schema && value) {
    const Value *type = member(*schema, "type");
    add(pointer, who + " must be " + (type ? expected_types(*type) : "of another type") + ", not " + type_name(*value));
    return out;
  }
  if (keyword == "pattern" && schema && value) {
    std::string hint = string_member(*schema, "x-pattern-hint");
    add(pointer, who + " does not have the expected form: " +
                     (hint.empty() ? "it must match the pattern " + string_member(*schema, "pattern") : hint) +
                     shown(*value));
    return out;
  }
  if ((keyword == "minLength" || keyword == "maxLength") && schema && value && value->IsString()) {
    const Value *limit = member(*schema, keyword.c_str());
    uint64_t n = limit && limit->IsUint64() ? limit->GetUint64() : 0;
    if (keyword == "minLength" && n == 1)
      add(pointer, who + " must not be empty");
    else
      add(pointer, who + " must be " + (keyword == "minLength" ? "at least " : "at most ") + std::to_string(n) +
                       " characters long, not " + std::to_string(value->GetStringLength()));
    return out;
  }
  if (keyword == "enum" && schema) {
    std::string list;
    if (const Value *e = member(*schema, "enum"); e && e->IsArray())
      for (const auto &v : e->GetArray()) list += (list.empty() ? "" : ", ") + json_text(v);
    add(pointer, who + " must be one of " + list + (value ? shown(*value) : ""));
    return out;
  }
  if ((keyword == "minimum" || keyword == "maximum") && schema && value) {
    const Value *limit = member(*schema, keyword.c_str());
    const Value *excl = member(*schema, keyword == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum");
    bool exclusive = excl && excl->IsBool() && excl->GetBool();
    std::string bound = limit ? json_text(*limit) : "?";
    std::string rel =
        keyword == "minimum" ? (exclusive ? "greater than " : "at least ") : (exclusive ? "less than " : "at most ");
    add(pointer, who + " must be " + rel + bound + shown(*value));
    return out;
  }
  if ((keyword == "oneOf" || keyword == "anyOf") && schema && value && value->IsObject()) {
    // A discriminated union (each branch pins one property to one enum
    // value, as "token_flow" does): explain the branch the credential chose.
    if (auto chosen = explain_chosen_branch(*schema, keyword, *value, pointer, secrets, redactor); !chosen.empty())
      return chosen;
  }
  if ((keyword == "oneOf" || keyword == "anyOf") && schema) {
    std::string forms;
    if (const Value *branches = member(*schema, keyword.c_str()); branches && branches->IsArray())
      for (const auto &b : branches->GetArray()) {
        std::string t = string_member(b, "title");
        if (!t.empty()) forms += (forms.empty() ? "" : "; ") + t;
      }
    add(pointer, who +
                     (keyword == "oneOf" ? " must match exactly one of the allowed forms"
                                         : " matches none of the allowed forms") +
                     (forms.empty() ? "" : ": " + forms));
    return out;
  }
  if (keyword == "format") {
    add(pointer, who + " is not a valid " + (schema ? string_member(*schema, "format") : std::string("value")));
    return out;
  }
  add(pointer, who + " breaks the schema rule '" + keyword + "'");
  return out;
}

}  // namespace

CompiledSchema::CompiledSchema(std::string_view schema_text) : impl_(std::make_unique<Impl>()), text_(schema_text) {
  if (auto parsed = bounded_json::parse(impl_->schema_doc, text_); !parsed.ok)
    throw std::runtime_error("the credential schema is not valid JSON: " + parsed.where(text_));
  if (!impl_->schema_doc.IsObject()) throw std::runtime_error("the credential schema is not a JSON object");
  // Before RapidJSON compiles a pattern or follows a $ref: it trusts them
  // (pattern_check.hpp, ref_check.hpp).
  if (auto problem = schema_pattern_problem(impl_->schema_doc)) throw std::runtime_error(*problem);
  if (auto problem = schema_ref_problem(impl_->schema_doc)) throw std::runtime_error(*problem);
  impl_->idle.get().copies.push_back(std::make_unique<SchemaDocument>(impl_->schema_doc));
  if (auto problem = meta_schema_problem(impl_->schema_doc)) throw std::runtime_error(*problem);
  for_each_property(impl_->schema_doc, [this](const std::string &name, const Value &property, const std::string &) {
    if (declared_write_only(property)) secret_fields_.insert(name);
    if (declared_address(property)) address_fields_.insert(name);
  });
  // A field whose name says secret is one, writeOnly or not; the author is told.
  UndeclaredSecrets undeclared = undeclared_secrets(impl_->schema_doc);
  secret_fields_.insert(undeclared.names.begin(), undeclared.names.end());
  warnings_ = std::move(undeclared.warnings);
  // The origins the plugin reaches whatever the credential says.
  if (auto it = impl_->schema_doc.FindMember("x-credplug-egress"); it != impl_->schema_doc.MemberEnd()) {
    if (!it->value.IsArray()) throw std::runtime_error("the schema's x-credplug-egress is not a list of origins");
    for (const auto &e : it->value.GetArray()) {
      if (!e.IsString()) throw std::runtime_error("the schema's x-credplug-egress holds something other than a string");
      if (auto problem = egress_pattern_problem(e.GetString())) throw std::runtime_error("the schema's " + *problem);
      egress_.emplace_back(e.GetString(), e.GetStringLength());
    }
  }
}

CompiledSchema::~CompiledSchema() = default;

Validation CompiledSchema::validate(std::string_view credential_json, const Redactor *redactor) const {
  Validation result;
  WipingDocument credential;
  if (auto parsed = bounded_json::parse(credential.doc, credential_json); !parsed.ok) {
    // Position only: the text around it may be a secret.
    result.errors.push_back({"", "json", "the credential is not valid JSON: " + parsed.where(credential_json), "", ""});
    return result;
  }
  if (!credential.doc.IsObject()) {
    result.errors.push_back(
        {"", "type", std::string("the credential must be a JSON object, not ") + type_name(credential.doc), "", ""});
    return result;
  }
  // RapidJSON 1.1.0 stops at the first error. To report every field at
  // once, drop the offending field and validate again; "required" is checked
  // only after all present fields passed, so a dropped field is never
  // reported as missing (explain() is told which ones were dropped).
  std::set<std::string> reported;
  auto schema = impl_->borrow();
  for (int round = 0; round < 64; ++round) {
    SchemaValidator validator(*schema);
    if (credential.doc.Accept(validator)) break;
    auto errors =
        explain(impl_->schema_doc, credential.doc, validator.GetInvalidSchemaPointer(),
                validator.GetInvalidSchemaKeyword(), validator.GetInvalidDocumentPointer(), secret_fields_, redactor);
    bool progressed = false;
    for (auto &e : errors)
      if (reported.insert(e.pointer).second) {
        if (auto tokens = pointer_tokens(e.pointer); !tokens.empty()) e.field = tokens.back();
        if (const Value *field = e.pointer.empty() ? nullptr : field_schema_at(impl_->schema_doc, e.pointer))
          e.title = string_member(*field, "title");
        result.errors.push_back(std::move(e));
        progressed = true;
      }
    SchemaPointer where = validator.GetInvalidDocumentPointer();
    Value *bad = where.Get(credential.doc);
    if (!progressed || where.GetTokenCount() == 0 || bad == nullptr) break;
    wipe_json_strings(*bad);
    if (!where.Erase(credential.doc)) break;
  }
  return result;
}

std::vector<kit::SecretString> CompiledSchema::secret_values(std::string_view credential_json) const {
  std::vector<kit::SecretString> out;
  WipingDocument credential;
  if (!bounded_json::parse(credential.doc, credential_json).ok) return out;
  // Walk the whole document: a secret field name anywhere counts.
  std::vector<const Value *> stack{&credential.doc};
  while (!stack.empty()) {
    const Value *v = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (const auto &m : v->GetObject()) {
        if (m.value.IsString() && secret_fields_.count(m.name.GetString()))
          out.emplace_back(m.value.GetString(), m.value.GetStringLength());
        stack.push_back(&m.value);
      }
    } else if (v->IsArray()) {
      for (const auto &e : v->GetArray()) stack.push_back(&e);
    }
  }
  return out;
}

}  // namespace credplug::host
