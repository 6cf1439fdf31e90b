#include "cache/cache_clock.hpp"

#include "base/unix_time.hpp"

#include <algorithm>

namespace credplug::host {
namespace {

class SystemCacheClock final : public CacheClock {
 public:
  int64_t now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t unix_ms() const override { return unix_ms_now(); }
  int64_t coarse_now_ns() const override { return lag_ns_ > 0 ? coarse_monotonic_ns() : now_ns(); }
  int64_t coarse_max_lag_ns() const override { return lag_ns_; }
  void wait_until(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, int64_t deadline_ns,
                  const std::function<bool()> &done) const override {
    const std::chrono::steady_clock::time_point deadline{std::chrono::nanoseconds(deadline_ns)};
    cv.wait_until(lock, deadline, done);
  }

 private:
  const int64_t lag_ns_ = coarse_monotonic_max_lag_ns();
};

}  // namespace

int64_t coarse_monotonic_max_lag_ns() {
  static const int64_t lag = [] {
    // libstdc++'s steady_clock is CLOCK_MONOTONIC: the coarse clock's own base.
    timespec res{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0 || res.tv_sec != 0 || res.tv_nsec <= 0 ||
        res.tv_nsec > 10000000)
      return int64_t{0};
    return std::max<int64_t>(64000000, 16 * int64_t(res.tv_nsec));
  }();
  return lag;
}

const CacheClock &system_cache_clock() {
  static const SystemCacheClock clock;
  return clock;
}

}  // namespace credplug::host
