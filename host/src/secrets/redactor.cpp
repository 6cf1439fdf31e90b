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

void Redactor::add_one(std::string_view value, uint64_t epoch) {
  if (value.size() < kMinLength) return;
  auto it = std::lower_bound(secrets_.begin(), secrets_.end(), value,
                             [](const Entry &e, std::string_view v) { return before(e.value.view(), v); });
  if (it == secrets_.end() || it->value.view() != value) {
    secrets_.insert(it, Entry{kit::SecretString(value), epoch});  // moves wipe what they leave
  } else if (it->epoch != 0 && (epoch == 0 || epoch > it->epoch)) {
    it->epoch = epoch;
  }
}

void Redactor::add(std::string_view value, uint64_t epoch) {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  add_one(value, epoch);
  kit::SecretString encoded(kit::url_encode(value));
  if (encoded.view() != value) add_one(encoded.view(), epoch);
  kit::SecretString escaped(json_escape(value));
  if (escaped.view() != value) add_one(escaped.view(), epoch);
  // As a JSON writer escapes it (newlines, control characters), unquoted.
  kit::SecretString quoted(kit::json_quote(value));
  std::string_view inner = quoted.view().substr(1, quoted.size() - 2);
  if (inner != value && inner != escaped.view()) add_one(inner, epoch);
  for (const auto &form : base64_forms(value)) add_one(form.view(), epoch);
  secrets_.shrink_to_fit();
}

void Redactor::retire_before(uint64_t epoch) {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  secrets_.erase(std::remove_if(secrets_.begin(), secrets_.end(),
                                [epoch](const Entry &e) { return e.epoch != 0 && e.epoch < epoch; }),
                 secrets_.end());  // SecretString wipes, moved or destroyed
  secrets_.shrink_to_fit();
}

size_t Redactor::size() const {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  return secrets_.size();
}

namespace {

template <class Entry>
std::string_view view_of(const Entry &e) {
  return e.value.view();
}
std::string_view view_of(std::string_view s) { return s; }

// `text` with each of `secrets` (longest first) replaced by the mask.
template <class Secrets>
std::string mask_all(std::string_view text, const Secrets &secrets) {
  std::string out(text);
  for (const auto &secret : secrets) {
    const std::string_view s = view_of(secret);
    size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), Redactor::kMask);
      pos += std::char_traits<char>::length(Redactor::kMask);
    }
  }
  return out;
}

}  // namespace

std::string Redactor::apply(std::string_view text) const {
  if (parent_ == nullptr) {
    std::lock_guard<ForkGuardedMutex> lock(mutex_);
    return mask_all(text, secrets_);
  }
  std::lock_guard<ForkGuardedMutex> parent_lock(parent_->mutex_);  // the older first, as fork() locks them
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  // One order over both sets: a secret of one that contains a secret of the
  // other is masked whole.
  std::vector<std::string_view> views;
  views.reserve(secrets_.size() + parent_->secrets_.size());
  for (const auto *set : {&secrets_, &parent_->secrets_})
    for (const auto &s : *set) views.push_back(s.value.view());
  std::sort(views.begin(), views.end(), before);
  return mask_all(text, views);
}

bool Redactor::empty() const {
  if (parent_ != nullptr && !parent_->empty()) return false;
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  return secrets_.empty();
}

}  // namespace credplug::host
