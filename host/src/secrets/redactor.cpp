#include "secrets/redactor.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <algorithm>
#include <iterator>
#include <vector>

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

void Redactor::add(std::string_view value, uint64_t epoch) {
  // The value and its forms, made before the lock is taken; each copied
  // to its size (an encoder's string grew by doubling: kept, its slack
  // would stay with the credential).
  std::vector<kit::SecretString> forms;
  forms.emplace_back(value);
  kit::SecretString encoded(kit::url_encode(value));
  if (encoded.view() != value) forms.emplace_back(encoded.view());
  kit::SecretString escaped(json_escape(value));
  if (escaped.view() != value) forms.emplace_back(escaped.view());
  // As a JSON writer escapes it (newlines, control characters), unquoted.
  kit::SecretString quoted(kit::json_quote(value));
  std::string_view inner = quoted.view().substr(1, quoted.size() - 2);
  if (inner != value && inner != escaped.view()) forms.emplace_back(inner);
  for (auto &form : base64_forms(value)) forms.push_back(std::move(form));  // made to size

  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  std::vector<Entry> fresh;
  for (auto &form : forms) {
    if (form.size() < kMinLength) continue;
    if (const Entry *known = secrets_.find(form.view())) {
      if (known->epoch != 0 && (epoch == 0 || epoch > known->epoch)) known->epoch = epoch;
    } else if (std::none_of(fresh.begin(), fresh.end(),
                            [&](const Entry &e) { return e.value.view() == form.view(); })) {
      fresh.push_back(Entry{std::move(form), epoch});
    }
  }
  if (!fresh.empty()) secrets_.insert(std::move(fresh));
}

void Redactor::retire_before(uint64_t epoch) {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  secrets_.retire_before(epoch);
}

size_t Redactor::size() const {
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  return secrets_.size();
}

const Redactor::Entry *Redactor::Store::find(std::string_view value) const {
  if (large_) {
    auto it = large_->find(value);
    return it == large_->end() ? nullptr : &*it;
  }
  auto it = std::lower_bound(small_.begin(), small_.end(), value, Before{});
  return it == small_.end() || it->value.view() != value ? nullptr : &*it;
}

void Redactor::Store::insert(std::vector<Entry> fresh) {
  if (!large_ && small_.size() + fresh.size() > kSmall) {  // from now on a set
    large_ = std::make_unique<std::set<Entry, Before>>();
    for (auto &e : small_) large_->insert(std::move(e));
    std::vector<Entry>().swap(small_);  // SecretString wipes, moved or destroyed
  }
  if (large_) {
    for (auto &e : fresh) large_->insert(std::move(e));
    return;
  }
  for (auto &e : fresh) small_.insert(std::upper_bound(small_.begin(), small_.end(), e, Before{}), std::move(e));
  small_.shrink_to_fit();
}

void Redactor::Store::retire_before(uint64_t epoch) {
  auto old = [epoch](const Entry &e) { return e.epoch != 0 && e.epoch < epoch; };
  if (large_) {
    for (auto it = large_->begin(); it != large_->end();) it = old(*it) ? large_->erase(it) : std::next(it);
    return;
  }
  small_.erase(std::remove_if(small_.begin(), small_.end(), old), small_.end());  // SecretString wipes
  small_.shrink_to_fit();
}

namespace {

// Every `secret` in `out` replaced by the mask (secrets longest first).
void mask(std::string &out, std::string_view secret) {
  size_t pos = 0;
  while ((pos = out.find(secret, pos)) != std::string::npos) {
    out.replace(pos, secret.size(), Redactor::kMask);
    pos += std::char_traits<char>::length(Redactor::kMask);
  }
}

}  // namespace

std::string Redactor::apply(std::string_view text) const {
  std::string out(text);
  if (parent_ == nullptr) {
    std::lock_guard<ForkGuardedMutex> lock(mutex_);
    secrets_.each([&](const Entry &e) { mask(out, e.value.view()); });
    return out;
  }
  std::lock_guard<ForkGuardedMutex> parent_lock(parent_->mutex_);  // the older first, as fork() locks them
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  // One order over both sets: a secret of one that contains a secret of the
  // other is masked whole.
  std::vector<std::string_view> views;
  views.reserve(secrets_.size() + parent_->secrets_.size());
  for (const Store *store : {&secrets_, &parent_->secrets_})
    store->each([&](const Entry &e) { views.push_back(e.value.view()); });
  std::sort(views.begin(), views.end(), before);
  for (std::string_view secret : views) mask(out, secret);
  return out;
}

bool Redactor::empty() const {
  if (parent_ != nullptr && !parent_->empty()) return false;
  std::lock_guard<ForkGuardedMutex> lock(mutex_);
  return secrets_.size() == 0;
}

}  // namespace credplug::host
