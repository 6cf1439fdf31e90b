#include "secrets/redactor.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <algorithm>

namespace credplug::host {
namespace {

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '/') out += "\\";  // some encoders escape '/'
    out += c;
  }
  return out;
}

}  // namespace

std::vector<kit::SecretString> base64_forms(std::string_view value) {
  std::vector<kit::SecretString> out;
  if (value.size() < Redactor::kMinBase64Length) return out;
  for (size_t before = 0; before < 3; ++before) {
    // `value` after `before` bytes: base64 character c holds bits
    // [6c, 6c + 6); those within [8 * before, 8 * (before + size)) are its.
    std::string bytes(before, '\0');
    bytes.append(value);
    kit::SecretString encoded(kit::base64_encode(bytes));
    const size_t first = (8 * before + 5) / 6, end = 8 * (before + value.size()) / 6;
    kit::SecretString standard(encoded.view().substr(first, end - first));
    std::string url_safe(standard.view());
    for (auto &c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
    if (url_safe != standard.view()) out.emplace_back(url_safe);
    out.push_back(std::move(standard));
    kit::wipe(url_safe);
    kit::wipe(bytes);
  }
  return out;
}

void Redactor::add_one(std::string_view value) {
  if (value.size() < kMinLength) return;
  secrets_.emplace(value);
}

void Redactor::add(std::string_view value) {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  add_one(value);
  kit::SecretString encoded(kit::url_encode(value));
  if (encoded.view() != value) add_one(encoded.view());
  kit::SecretString escaped(json_escape(value));
  if (escaped.view() != value) add_one(escaped.view());
  // As a JSON writer escapes it (newlines, control characters), unquoted.
  kit::SecretString quoted(kit::json_quote(value));
  std::string_view inner = quoted.view().substr(1, quoted.size() - 2);
  if (inner != value && inner != escaped.view()) add_one(inner);
  for (const auto &form : base64_forms(value)) add_one(form.view());
}

std::string Redactor::apply(std::string_view text) const {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  std::string out(text);
  for (const auto &secret : secrets_) {
    size_t pos = 0;
    while ((pos = out.find(secret.view(), pos)) != std::string::npos) {
      out.replace(pos, secret.size(), kMask);
      pos += std::char_traits<char>::length(kMask);
    }
  }
  return out;
}

bool Redactor::empty() const {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  return secrets_.empty();
}

}  // namespace credplug::host
