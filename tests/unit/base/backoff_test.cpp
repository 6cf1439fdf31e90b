// The one backoff rule, as each of its three users sees it.
#include "base/backoff.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace credplug::host;

TEST_CASE("backoff: doubles from the first wait to the cap; nothing before a failure") {
  CHECK(backoff_ms(0, 100, 30000) == 0);
  CHECK(backoff_ms(1, 100, 30000) == 100);
  CHECK(backoff_ms(2, 100, 30000) == 200);
  CHECK(backoff_ms(9, 100, 30000) == 25600);
  CHECK(backoff_ms(10, 100, 30000) == 30000);
  CHECK(backoff_ms(1000, 100, 30000) == 30000);  // no overflow however long the outage
}

TEST_CASE("backoff: the jittered wait keeps at least half of the plain one") {
  for (int failures = 1; failures <= 12; ++failures) {
    long base = std::min(200L << (failures - 1), 60000L);
    CHECK(backoff_ms(failures, 200, 60000) == base);
    for (int i = 0; i < 50; ++i) {
      long wait = jittered_backoff_ms(failures, 200, 60000);
      CHECK(wait >= base - base / 2);
      CHECK(wait <= base);
    }
  }
  CHECK(jittered_backoff_ms(0, 200, 60000) == 0);
}
