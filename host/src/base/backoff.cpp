#include "base/backoff.hpp"

#include <algorithm>
#include <random>

namespace credplug::host {

long backoff_ms(int n, long initial_ms, long max_ms) {
  if (n < 1) return 0;
  long base = initial_ms;
  for (int i = 1; i < n && base < max_ms; ++i) base *= 2;
  return std::min(base, max_ms);
}

long jittered_backoff_ms(int n, long initial_ms, long max_ms) {
  const long base = backoff_ms(n, initial_ms, max_ms);
  if (base == 0) return 0;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return base - long(std::uniform_int_distribution<long>(0, base / 2)(rng));
}

}  // namespace credplug::host
