// The time the token cache runs on: a monotonic clock for expiry, refresh
// windows and backoff, the wall clock for what it reports, and a way to wait
// on that time. Injected, so tests drive time instead of sleeping through it.
//
// The read path of a cached token asks a cheaper clock: coarse_now_ns(), the
// monotonic time as of the kernel's last clock tick (CLOCK_MONOTONIC_COARSE:
// 4 ns from the vDSO, against 26 ns for CLOCK_MONOTONIC on this project's
// kvm-clock machine). It is never ahead of now_ns() and at most
// coarse_max_lag_ns() behind it, so what is served while
// coarse_now_ns() + coarse_max_lag_ns() < deadline is served before the
// deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include <time.h>

namespace credplug::host {

class CacheClock {
 public:
  virtual ~CacheClock() = default;
  virtual int64_t now_ns() const = 0;   // monotonic
  virtual int64_t unix_ms() const = 0;  // wall clock
  // now_ns() or earlier, by at most coarse_max_lag_ns(); cheaper.
  virtual int64_t coarse_now_ns() const { return now_ns(); }
  virtual int64_t coarse_max_lag_ns() const { return 0; }
  // Waits on `cv` (`lock` held) until `done()` or until now_ns() >= deadline.
  virtual void wait_until(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, int64_t deadline_ns,
                          const std::function<bool()> &done) const = 0;
};

// std::chrono::steady_clock and system_clock; coarse: CLOCK_MONOTONIC_COARSE.
const CacheClock &system_cache_clock();

// The system clock's coarse reading, inline for the read path.
inline int64_t coarse_monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// How far the coarse clock may lag the precise one: the kernel updates it
// once per tick (clock_getres(): 1 to 10 ms by CONFIG_HZ), and when the CPU
// that keeps time stalls (a preempted virtual CPU), another takes the update
// over after 5 ticks (kernel/time/tick-sched.c, MAX_STALLED_JIFFIES). 16
// ticks, and never less than 64 ms, bounds both with room; a token's
// deadline is seconds away, so the precise clock decides only in its last
// 64 ms. 0 when the coarse clock is missing or coarser than 10 ms: then the
// read path asks the precise clock.
int64_t coarse_monotonic_max_lag_ns();

}  // namespace credplug::host
