// Failure: how provider code reports an error. Throw it anywhere inside a
// provider; the kit catches it at the C boundary and hands code and message
// to the host's set_error(). Messages must never contain a secret.
#pragma once

#include <credplug/plugin.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace credplug::kit {

class Failure : public std::runtime_error {
 public:
  Failure(int32_t code, const std::string &message) : std::runtime_error(message), code_(code) {}
  int32_t code() const noexcept { return code_; }

 private:
  int32_t code_;
};

[[noreturn]] inline void fail(int32_t code, const std::string &message) { throw Failure(code, message); }

}  // namespace credplug::kit
