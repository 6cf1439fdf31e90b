// SecretString: a std::string that wipes its bytes when it is destroyed,
// reassigned or cleared, so secrets do not linger in freed heap memory.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace credplug::kit {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  explicit SecretString(std::string_view value) : value_(value) {}
  SecretString(const char *data, size_t len) : value_(data, len) {}
  SecretString(const SecretString &other) : value_(other.value_) {}
  SecretString(SecretString &&other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  SecretString &operator=(const SecretString &other) {
    if (this != &other) {
      wipe();
      value_ = other.value_;
    }
    return *this;
  }
  SecretString &operator=(SecretString &&other) noexcept {
    if (this != &other) {
      wipe();
      // Freed first: std::string's move would hand this buffer to `other`,
      // or keep it for a short value, and a vector's shuffles would leave
      // long buffers behind in short secrets.
      std::string().swap(value_);
      value_ = std::move(other.value_);
      other.wipe();
    }
    return *this;
  }
  ~SecretString() { wipe(); }

  // Reveals the secret. Every call site is a place a secret leaves this type.
  const std::string &reveal() const { return value_; }
  std::string_view view() const { return value_; }
  const char *c_str() const { return value_.c_str(); }
  size_t size() const { return value_.size(); }
  bool empty() const { return value_.empty(); }
  void append(std::string_view more) {
    reserve_wiping(value_.size() + more.size());
    value_.append(more);
  }

  // Wipes the whole capacity (a string may have held a longer secret before).
  void wipe() noexcept {
    if (value_.capacity() > 0) OPENSSL_cleanse(value_.data(), value_.capacity());
    value_.clear();
  }

 private:
  // Grows without leaving a copy behind in the old buffer.
  void reserve_wiping(size_t n) {
    if (n <= value_.capacity()) return;
    std::string bigger;
    bigger.reserve(n * 2);
    bigger.assign(value_);
    wipe();
    value_.swap(bigger);
  }
  std::string value_;
};

// Wipes a plain std::string that held a secret.
inline void wipe(std::string &s) noexcept {
  if (s.capacity() > 0) OPENSSL_cleanse(s.data(), s.capacity());
  s.clear();
}

}  // namespace credplug::kit
