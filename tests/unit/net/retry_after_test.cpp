// A server's Retry-After, read as the token cache's backoff uses it.
#include "net/retry_after.hpp"

#include <doctest/doctest.h>

using namespace credplug::host;

TEST_CASE("retry timing: Retry-After in seconds or as an HTTP-date, from a given now") {
  CHECK(parse_retry_after("30", 0) == 30000);
  CHECK(parse_retry_after(" 7 ", 0) == 7000);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 10) == 10000);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 10) == 0);  // in the past
  CHECK_FALSE(parse_retry_after("soon", 0).has_value());
  CHECK(parse_retry_after("99999999999", 0) > 24L * 3600 * 1000);  // absurd: capped by the cache
}
