// Redactor: the set of secret values known for one credential (schema
// secret fields, tokens, derived values a plugin declared) and the one
// function every message passes through before it is shown or logged.
#pragma once

#include "base/fork_guarded_mutex.hpp"

#include <credplug/kit/secret.hpp>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

class Redactor {
 public:
  Redactor() = default;
  // One call's redactor: it masks what `parent` knows and what the call
  // adds, and what the call adds goes with it. For values made per request
  // (a request's signature): kept in the credential's, each signed request
  // would grow it, and every later message's masking, without end.
  // `parent` must outlive it (and be older: the two are locked parent first,
  // as fork() locks them).
  explicit Redactor(const Redactor *parent) : parent_(parent) {}
  Redactor(const Redactor &) = delete;
  Redactor &operator=(const Redactor &) = delete;

  static constexpr const char *kMask = "[REDACTED]";
  // Values shorter than this are not searched for inside other text (a
  // 2-character secret would mask half the alphabet); they are still never
  // printed as a field value.
  static constexpr size_t kMinLength = 4;

  // Values this long or longer are also searched for inside base64 text.
  static constexpr size_t kMinBase64Length = 8;

  // Adds `value` and the forms it takes in transit: URL-encoded,
  // JSON-escaped, and (kMinBase64Length and longer) inside standard or
  // URL-safe base64, padded or not, wherever in the encoded bytes it starts
  // (base64_forms()). Thread-safe; O(log n) in the values known.
  // `epoch` 0: kept as long as the redactor. n > 0: a value the n-th token
  // request brought (a token, a rotated refresh token), dropped by
  // retire_before() once later tokens replaced it; added again (or kept
  // forever), it stays.
  void add(std::string_view value, uint64_t epoch = 0);
  // Drops the values only token requests before `epoch` brought: a
  // credential whose token is renewed for months would otherwise keep every
  // token it ever had (7.5 KB each with its forms) and mask each message
  // against all of them.
  void retire_before(uint64_t epoch);
  size_t size() const;  // the values (and forms) known, the parent's not counted
  // Every known secret in `text` replaced by kMask (the parent's too,
  // longest first across both). Thread-safe.
  std::string apply(std::string_view text) const;
  bool empty() const;

 private:
  struct Entry {
    kit::SecretString value;
    mutable uint64_t epoch;  // 0: kept; else the newest token request that brought it
  };
  // Longest first, so a secret containing another is masked whole.
  static bool before(std::string_view a, std::string_view b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  }
  struct Before {
    using is_transparent = void;
    bool operator()(const Entry &a, const Entry &b) const { return before(a.value.view(), b.value.view()); }
    bool operator()(const Entry &a, std::string_view b) const { return before(a.value.view(), b); }
    bool operator()(std::string_view a, const Entry &b) const { return before(a, b.value.view()); }
  };
  // The values, in before()'s order, each once: a vector while there are a
  // credential's handful (its capacity its size: a set's node per value was
  // most of an open credential's memory, issue 23), a set past kSmall (a
  // vector's insertion moves every entry, each move a wipe: a hostile
  // plugin's hundreds of add_secret() values would cost quadratic time).
  class Store {
   public:
    static constexpr size_t kSmall = 64;
    const Entry *find(std::string_view value) const;
    void insert(std::vector<Entry> fresh);  // none known yet
    void retire_before(uint64_t epoch);
    size_t size() const { return large_ ? large_->size() : small_.size(); }
    template <class F>
    void each(F f) const {
      if (large_) {
        for (const auto &e : *large_) f(e);
      } else {
        for (const auto &e : small_) f(e);
      }
    }

   private:
    std::vector<Entry> small_;
    std::unique_ptr<std::set<Entry, Before>> large_;  // once past kSmall, every value (small_ empty)
  };
  const Redactor *const parent_ = nullptr;
  // A child of fork() keeps the secrets: fork() waits for a change under way.
  mutable ForkGuardedMutex mutex_{ForkGuardedMutex::kRedactor};
  Store secrets_;
};

// What base64 text always holds when `value`'s bytes are in what it
// encodes, at each of the three alignments (the bytes before it, modulo 3)
// and in both alphabets: the characters whose six bits all come from
// `value` (so padding, and whatever comes before and after, never changes
// them). Empty below Redactor::kMinBase64Length.
std::vector<kit::SecretString> base64_forms(std::string_view value);

}  // namespace credplug::host
