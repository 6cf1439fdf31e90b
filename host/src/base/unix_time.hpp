// Wall-clock time as the providers count it: milliseconds since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace credplug::host {

inline int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace credplug::host
