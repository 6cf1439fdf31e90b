// A cache clock that moves only when the test moves it, so timing tests
// never depend on how busy the machine is.
#pragma once

#include "cache/cache_clock.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace credplug::testing {

class FakeClock final : public host::CacheClock {
 public:
  static constexpr int64_t kMs = 1000000;
  int64_t now_ns() const override { return ns_.load(); }
  int64_t unix_ms() const override { return 1800000000000 + ns_.load() / kMs; }
  void advance_ms(int64_t ms) { ns_ += ms * kMs; }
  // The coarse reading lags now_ns() by `lag_ns`; the clock claims at most
  // `bound_ns` (read by a TokenCache when it is made).
  int64_t coarse_now_ns() const override { return ns_.load() - coarse_lag_ns_.load(); }
  int64_t coarse_max_lag_ns() const override { return coarse_bound_ns_.load(); }
  void set_coarse_lag(int64_t lag_ns, int64_t bound_ns) {
    coarse_lag_ns_ = lag_ns;
    coarse_bound_ns_ = bound_ns;
  }
  // Look again every real millisecond: a wait that would end later on this
  // clock ends then.
  void wait_until(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, int64_t deadline_ns,
                  const std::function<bool()> &done) const override {
    while (!done() && now_ns() < deadline_ns) cv.wait_for(lock, std::chrono::milliseconds(1));
  }

 private:
  std::atomic<int64_t> ns_{int64_t{1000} * 1000 * kMs};
  std::atomic<int64_t> coarse_lag_ns_{0}, coarse_bound_ns_{0};
};

}  // namespace credplug::testing
