// What an errno value means, in words: strerror() without its shared buffer
// (the host and the runner call it from many threads). Shared by the host
// and the runner, as everything in plugin/ is.
#pragma once

#include <cstring>
#include <string>

namespace credplug {

inline std::string errno_text(int error) {
  if (const char *text = strerrordesc_np(error)) return text;  // glibc: static text, no buffer
  return "error " + std::to_string(error);
}

}  // namespace credplug
