#include "net/retry_after.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>

namespace credplug::host {

std::optional<long> parse_retry_after(std::string_view value) { return parse_retry_after(value, std::time(nullptr)); }

std::optional<long> parse_retry_after(std::string_view value, int64_t now_unix_s) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 64) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return 999999999L * 1000;  // absurdly far: the caller caps it
    return std::stol(std::string(value)) * 1000;
  }
  time_t at = curl_getdate(std::string(value).c_str(), nullptr);  // the HTTP-date forms
  if (at == -1) return std::nullopt;
  long delta = long(int64_t(at) - now_unix_s) * 1000;
  return std::max(0L, delta);
}

}  // namespace credplug::host
