// The time the token cache runs on: a monotonic clock for expiry, refresh
// windows and backoff, the wall clock for what it reports, and a way to wait
// on that time. Injected, so tests drive time instead of sleeping through it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace credplug::host {

class CacheClock {
 public:
  virtual ~CacheClock() = default;
  virtual int64_t now_ns() const = 0;   // monotonic
  virtual int64_t unix_ms() const = 0;  // wall clock
  // Waits on `cv` (`lock` held) until `done()` or until now_ns() >= deadline.
  virtual void wait_until(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, int64_t deadline_ns,
                          const std::function<bool()> &done) const = 0;
};

// std::chrono::steady_clock and system_clock.
const CacheClock &system_cache_clock();

}  // namespace credplug::host
