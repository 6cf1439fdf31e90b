// A member name as one JSON pointer token (RFC 6901: '~' as "~0", '/' as
// "~1"), for messages that say where in a schema something is.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace credplug::host {

inline std::string json_pointer_token(const rapidjson::Value &name) {
  std::string out;
  for (char c : std::string_view(name.GetString(), name.GetStringLength()))
    out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

}  // namespace credplug::host
