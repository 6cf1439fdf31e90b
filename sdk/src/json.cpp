#include <credplug/kit/json.hpp>

#include "bounded_json.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdlib>

namespace credplug::kit {

struct JsonDocument::Impl {
  rapidjson::Document doc;
};

namespace {

// Strings live in the document's allocator: wipe them in place before it
// frees them, so secrets from credentials and token responses do not linger.
void wipe_strings(rapidjson::Value &v) {
  if (v.IsString()) {
    OPENSSL_cleanse(const_cast<char *>(v.GetString()), v.GetStringLength());
  } else if (v.IsObject()) {
    for (auto &m : v.GetObject()) {
      wipe_strings(m.name);
      wipe_strings(m.value);
    }
  } else if (v.IsArray()) {
    for (auto &e : v.GetArray()) wipe_strings(e);
  }
}

const rapidjson::Value *find(const rapidjson::Document &doc, std::string_view pointer) {
  if (pointer.empty() || pointer[0] != '/') {  // a plain top-level key
    auto it = doc.FindMember(rapidjson::Value(pointer.data(), rapidjson::SizeType(pointer.size())));
    return it == doc.MemberEnd() ? nullptr : &it->value;
  }
  rapidjson::Pointer p(pointer.data(), pointer.size());
  return p.IsValid() ? p.Get(doc) : nullptr;
}

}  // namespace

std::string json_quote(std::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), rapidjson::SizeType(text.size()));
  std::string out(buffer.GetString(), buffer.GetSize());
  OPENSSL_cleanse(const_cast<char *>(buffer.GetString()), buffer.GetSize());
  return out;
}

JsonDocument::JsonDocument(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonDocument::JsonDocument(JsonDocument &&) noexcept = default;
JsonDocument &JsonDocument::operator=(JsonDocument &&) noexcept = default;
JsonDocument::~JsonDocument() {
  if (impl_) wipe_strings(impl_->doc);
}

std::optional<JsonDocument> JsonDocument::parse_object(std::string_view text, std::string *problem) {
  auto impl = std::make_unique<Impl>();
  bounded_json::Outcome outcome = bounded_json::parse(impl->doc, text);
  if (!outcome.ok) {
    if (problem) *problem = outcome.where(text);
    return std::nullopt;
  }
  if (!impl->doc.IsObject()) {
    if (problem) *problem = "not a JSON object";
    wipe_strings(impl->doc);
    return std::nullopt;
  }
  return JsonDocument(std::move(impl));
}

bool JsonDocument::has(std::string_view pointer) const { return find(impl_->doc, pointer) != nullptr; }

std::optional<std::string> JsonDocument::string(std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<int64_t> JsonDocument::integer(std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr) return std::nullopt;
  if (v->IsInt64()) return v->GetInt64();
  if (v->IsDouble()) {
    double d = v->GetDouble();
    if (d >= -9.2e18 && d <= 9.2e18) return int64_t(d);
    return std::nullopt;
  }
  if (v->IsString() && v->GetStringLength() > 0 && v->GetStringLength() < 20) {
    // Some servers send expires_in as "3600".
    char *end = nullptr;
    errno = 0;
    long long n = std::strtoll(v->GetString(), &end, 10);
    if (errno == 0 && end == v->GetString() + v->GetStringLength()) return int64_t(n);
  }
  return std::nullopt;
}

std::optional<bool> JsonDocument::boolean(std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::optional<double> JsonDocument::number(std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr || !v->IsNumber()) return std::nullopt;
  return v->GetDouble();
}

std::optional<std::vector<std::string>> JsonDocument::strings(std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr) return std::nullopt;
  if (v->IsString()) return std::vector<std::string>{std::string(v->GetString(), v->GetStringLength())};
  if (!v->IsArray()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto &e : v->GetArray()) {
    if (!e.IsString()) return std::nullopt;
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> JsonDocument::string_members(
    std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr || !v->IsObject()) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto &m : v->GetObject()) {
    if (!m.value.IsString()) return std::nullopt;
    out.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()),
                     std::string(m.value.GetString(), m.value.GetStringLength()));
  }
  return out;
}

std::optional<std::string> JsonDocument::raw(std::string_view pointer) const {
  const auto *v = find(impl_->doc, pointer);
  if (v == nullptr) return std::nullopt;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v->Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace credplug::kit
