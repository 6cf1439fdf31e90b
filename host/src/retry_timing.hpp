// When to try a failed token request again: exponential backoff with jitter,
// and the server's Retry-After.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace credplug::host {

// The wait before attempt `failures + 1`: initial * 2^(failures-1), at most
// max, of which a random half is dropped ("equal jitter": waits still grow,
// and callers that failed together do not retry together).
long backoff_ms(int failures, long initial_ms, long max_ms);

// A Retry-After header value (RFC 9110 §10.2.3): delay-seconds or an
// HTTP-date, as milliseconds from `now_unix_s` (0 for a date in the past).
// nullopt when it is neither.
std::optional<long> parse_retry_after(std::string_view value, int64_t now_unix_s);
std::optional<long> parse_retry_after(std::string_view value);  // from the wall clock's now

}  // namespace credplug::host
