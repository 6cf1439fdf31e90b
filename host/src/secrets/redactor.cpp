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

void Redactor::add_one(std::string_view value) {
  if (value.size() < kMinLength) return;
  for (const auto &s : secrets_)
    if (s.view() == value) return;
  secrets_.emplace_back(value);
  // Longest first, so a secret containing another is masked whole.
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const kit::SecretString &a, const kit::SecretString &b) { return a.size() > b.size(); });
}

void Redactor::add(std::string_view value) {
  std::lock_guard<std::mutex> lock(mutex_);
  add_one(value);
  kit::SecretString encoded(kit::url_encode(value));
  if (encoded.view() != value) add_one(encoded.view());
  kit::SecretString escaped(json_escape(value));
  if (escaped.view() != value) add_one(escaped.view());
  // As a JSON writer escapes it (newlines, control characters), unquoted.
  kit::SecretString quoted(kit::json_quote(value));
  std::string_view inner = quoted.view().substr(1, quoted.size() - 2);
  if (inner != value && inner != escaped.view()) add_one(inner);
}

std::string Redactor::apply(std::string_view text) const {
  std::lock_guard<std::mutex> lock(mutex_);
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
  std::lock_guard<std::mutex> lock(mutex_);
  return secrets_.empty();
}

}  // namespace credplug::host
