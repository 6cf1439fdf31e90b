// When a server says to try again: its Retry-After header.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace credplug::host {

// A Retry-After header value (RFC 9110 §10.2.3): delay-seconds or an
// HTTP-date, as milliseconds from `now_unix_s` (0 for a date in the past).
// nullopt when it is neither.
std::optional<long> parse_retry_after(std::string_view value, int64_t now_unix_s);
std::optional<long> parse_retry_after(std::string_view value);  // from the wall clock's now

}  // namespace credplug::host
