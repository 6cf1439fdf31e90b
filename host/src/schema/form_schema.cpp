// The form export: a draft-04 credential schema rewritten for form builders
// (form_schema.hpp says what becomes what).
#include "schema/form_schema.hpp"

#include <credplug/types.hpp>

#include <bounded_json.hpp>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <set>
#include <string>
#include <vector>

namespace credplug::host {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using Allocator = Document::AllocatorType;

constexpr const char *kDraft07 = "http://json-schema.org/draft-07/schema#";

bool is_extension(const Value &name) {
  return name.GetStringLength() >= 2 && std::strncmp(name.GetString(), "x-", 2) == 0;
}

const Value *member(const Value &object, const char *name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

Value text(const std::string &s, Allocator &a) {
  return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Draft-04 to draft-07 in place, everywhere: "x-" keywords dropped,
// boolean exclusiveMinimum/Maximum turned into numbers, "id" into "$id".
void to_draft07(Value &v, Allocator &a) {
  if (v.IsArray()) {
    for (auto &item : v.GetArray()) to_draft07(item, a);
    return;
  }
  if (!v.IsObject()) return;
  for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
    if (is_extension(it->name))
      it = v.EraseMember(it);
    else
      ++it;
  }
  for (const char *bound : {"Minimum", "Maximum"}) {
    const std::string exclusive = std::string("exclusive") + bound;
    std::string plain = bound;
    plain[0] = static_cast<char>(std::tolower(plain[0]));
    auto flag = v.FindMember(exclusive.c_str());
    if (flag == v.MemberEnd() || !flag->value.IsBool()) continue;
    const bool on = flag->value.GetBool();
    v.EraseMember(flag);
    auto limit = v.FindMember(plain.c_str());
    if (on && limit != v.MemberEnd()) {
      Value number(limit->value, a);
      v.EraseMember(limit);
      v.AddMember(text(exclusive, a), number, a);
    }
  }
  if (auto id = v.FindMember("id"); id != v.MemberEnd() && id->value.IsString()) id->name.SetString("$id", a);
  // "properties" maps names to schemas: a property named like a keyword
  // ("id") stays; its schema is converted.
  for (auto &m : v.GetObject())
    if (std::strcmp(m.name.GetString(), "properties") == 0 && m.value.IsObject()) {
      for (auto &p : m.value.GetObject()) to_draft07(p.value, a);
    } else {
      to_draft07(m.value, a);
    }
}

// An enum as a labelled choice: oneOf [{"const", "title"}].
void label_enum(Value &property, const Value &values, const std::vector<std::string> &labels, Allocator &a) {
  Value choices(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < values.Size(); ++i) {
    Value choice(rapidjson::kObjectType);
    choice.AddMember("const", Value(values[i], a), a);
    choice.AddMember("title", text(labels[i], a), a);
    choices.PushBack(choice, a);
  }
  property.EraseMember("enum");
  property.AddMember("oneOf", choices, a);
}

// The labels an "x-enum-titles" object gives an enum's values (the value
// itself where it gives none).
std::vector<std::string> enum_labels(const Value &source, const Value &values) {
  std::vector<std::string> labels;
  const Value *titles = member(source, "x-enum-titles");
  for (const auto &v : values.GetArray()) {
    std::string value = v.IsString() ? v.GetString() : std::string();
    const Value *title = titles && v.IsString() ? member(*titles, v.GetString()) : nullptr;
    labels.push_back(title && title->IsString() ? title->GetString() : value);
  }
  return labels;
}

// The property every top-level oneOf branch fixes to one value: the mode.
std::string discriminator(const Value &schema) {
  const Value *branches = member(schema, "oneOf");
  const Value *properties = member(schema, "properties");
  if (!branches || !branches->IsArray() || branches->Empty() || !properties) return {};
  for (const auto &p : properties->GetObject()) {
    bool fixes = true;
    for (const auto &b : branches->GetArray()) {
      const Value *own = member(b, "properties");
      const Value *fixed = own ? member(*own, p.name.GetString()) : nullptr;
      const Value *values = fixed ? member(*fixed, "enum") : nullptr;
      fixes = fixes && ((values && values->IsArray() && values->Size() == 1) || (fixed && member(*fixed, "const")));
    }
    if (fixes) return p.name.GetString();
  }
  return {};
}

// The fields a branch brings (named in its "properties" or "required"), but the mode.
std::vector<std::string> branch_fields(const Value &branch, const std::string &mode) {
  std::vector<std::string> fields;
  auto add = [&](const std::string &f) {
    if (f != mode && std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
  };
  if (const Value *own = member(branch, "properties"))
    for (const auto &p : own->GetObject()) add(p.name.GetString());
  if (const Value *required = member(branch, "required"); required && required->IsArray())
    for (const auto &r : required->GetArray())
      if (r.IsString()) add(r.GetString());
  return fields;
}

// Modes as "dependencies" on the mode's property (react-jsonschema-form's
// way to show one mode's fields: no second selector, no field twice).
void modes_to_dependencies(const Value &source, Value &schema, Allocator &a) {
  const std::string mode = discriminator(source);
  if (mode.empty()) return;
  const Value &branches = *member(source, "oneOf");
  Value &properties = schema["properties"];
  std::set<std::string> mode_fields;
  Value cases(rapidjson::kArrayType);
  Value values(rapidjson::kArrayType);
  std::vector<std::string> labels;
  for (const auto &b : branches.GetArray()) {
    const Value &fixed = *member(*member(b, "properties"), mode.c_str());
    const Value &value = member(fixed, "const") ? *member(fixed, "const") : fixed["enum"][0];
    values.PushBack(Value(value, a), a);
    const Value *title = member(b, "title");
    labels.push_back(title && title->IsString() ? title->GetString() : value.IsString() ? value.GetString() : "");
    Value one(rapidjson::kObjectType);
    Value own(rapidjson::kObjectType);
    Value pin(rapidjson::kObjectType);
    Value pinned(rapidjson::kArrayType);
    pinned.PushBack(Value(value, a), a);
    pin.AddMember("enum", pinned, a);
    own.AddMember(text(mode, a), pin, a);
    for (const std::string &f : branch_fields(b, mode)) {
      mode_fields.insert(f);
      if (auto it = properties.FindMember(f.c_str()); it != properties.MemberEnd())
        own.AddMember(text(f, a), Value(it->value, a), a);
    }
    one.AddMember("properties", own, a);
    if (const Value *required = member(b, "required")) one.AddMember("required", Value(*required, a), a);
    cases.PushBack(one, a);
  }
  for (const std::string &f : mode_fields) properties.EraseMember(f.c_str());
  if (auto required = schema.FindMember("required"); required != schema.MemberEnd() && required->value.IsArray()) {
    Value kept(rapidjson::kArrayType);
    for (const auto &r : required->value.GetArray())
      if (!r.IsString() || mode_fields.count(r.GetString()) == 0) kept.PushBack(Value(r, a), a);
    required->value = kept;
  }
  // The mode's own labels win over the branch titles.
  const Value &mode_source = (*member(source, "properties"))[mode.c_str()];
  if (member(mode_source, "x-enum-titles")) labels = enum_labels(mode_source, values);
  Value &mode_property = properties[mode.c_str()];
  mode_property.EraseMember("oneOf");  // the plain labels given above: the branches' titles are better
  label_enum(mode_property, values, labels, a);
  Value by_mode(rapidjson::kObjectType);
  Value one_of(rapidjson::kObjectType);
  one_of.AddMember("oneOf", cases, a);
  by_mode.AddMember(text(mode, a), one_of, a);
  schema.EraseMember("oneOf");
  schema.AddMember("dependencies", by_mode, a);
}

// The uiSchema entry of one field, from its source schema (null when none).
Value field_ui(const Value &field, Allocator &a) {
  Value ui(rapidjson::kObjectType);
  const Value *write_only = member(field, "writeOnly");
  const Value *multiline = member(field, "x-multiline");
  if (multiline && multiline->IsBool() && multiline->GetBool()) {
    ui.AddMember("ui:widget", "textarea", a);
    Value options(rapidjson::kObjectType);
    options.AddMember("rows", 6, a);
    ui.AddMember("ui:options", options, a);
  } else if (write_only && write_only->IsBool() && write_only->GetBool()) {
    ui.AddMember("ui:widget", "password", a);
  }
  if (write_only && write_only->IsBool() && write_only->GetBool()) ui.AddMember("ui:autocomplete", "new-password", a);
  const Value *examples = member(field, "examples");
  const Value *fallback = member(field, "default");
  const Value *placeholder = examples && examples->IsArray() && !examples->Empty() ? &(*examples)[0] : fallback;
  if (placeholder && placeholder->IsString() && placeholder->GetStringLength() > 0 && !member(field, "enum"))
    ui.AddMember("ui:placeholder", Value(*placeholder, a), a);
  std::string help;
  if (const Value *hint = member(field, "x-pattern-hint"); hint && hint->IsString())
    help = std::string("Expected: ") + hint->GetString() + ".";
  if (const Value *url = member(field, "x-help-url"); url && url->IsString())
    help += std::string(help.empty() ? "" : " ") + "Where to find it: " + url->GetString();
  if (!help.empty()) ui.AddMember("ui:help", text(help, a), a);
  return ui;
}

}  // namespace

std::string form_schema_json(std::string_view schema_text) {
  Document source;
  if (!bounded_json::parse(source, schema_text).ok || !source.IsObject() || !member(source, "properties") ||
      !source["properties"].IsObject())
    throw Error(ErrorKind::Plugin, "the plugin's schema is not an object schema with properties");
  Document out;
  out.SetObject();
  Allocator &a = out.GetAllocator();
  Value schema(source, a);
  to_draft07(schema, a);
  if (auto it = schema.FindMember("$schema"); it != schema.MemberEnd())
    it->value.SetString(kDraft07, a);
  else
    schema.AddMember("$schema", rapidjson::StringRef(kDraft07), a);

  const Value &fields = source["properties"];
  for (const auto &f : fields.GetObject()) {
    const Value *values = member(f.value, "enum");
    if (values && values->IsArray() && !values->Empty())
      label_enum(schema["properties"][f.name.GetString()], *values, enum_labels(f.value, *values), a);
  }
  modes_to_dependencies(source, schema, a);
  // draft-07's additionalProperties sees only the top level's properties,
  // not a mode's: "no other field" is said by the names instead.
  if (auto extra = schema.FindMember("additionalProperties");
      extra != schema.MemberEnd() && extra->value.IsFalse() && schema.HasMember("dependencies")) {
    Value names(rapidjson::kArrayType);
    for (const auto &f : fields.GetObject()) names.PushBack(Value(f.name, a), a);
    Value known(rapidjson::kObjectType);
    known.AddMember("enum", names, a);
    schema.EraseMember(extra);
    schema.AddMember("propertyNames", known, a);
  }

  Value ui(rapidjson::kObjectType);
  Value order(rapidjson::kArrayType);
  const Value *x_order = member(source, "x-order");
  if (x_order && x_order->IsArray()) {
    for (const auto &name : x_order->GetArray())
      if (name.IsString()) order.PushBack(Value(name, a), a);
  } else {
    for (const auto &f : fields.GetObject()) order.PushBack(Value(f.name, a), a);
  }
  order.PushBack("*", a);  // anything not named goes last, never an error
  ui.AddMember("ui:order", order, a);
  for (const auto &f : fields.GetObject()) {
    Value entry = field_ui(f.value, a);
    if (entry.MemberCount() > 0) ui.AddMember(Value(f.name, a), entry, a);
  }
  out.AddMember("schema", schema, a);
  out.AddMember("uiSchema", ui, a);

  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  out.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace credplug::host
