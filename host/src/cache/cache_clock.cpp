#include "cache/cache_clock.hpp"

#include "base/unix_time.hpp"

namespace credplug::host {
namespace {

class SystemCacheClock final : public CacheClock {
 public:
  int64_t now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t unix_ms() const override { return unix_ms_now(); }
  void wait_until(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, int64_t deadline_ns,
                  const std::function<bool()> &done) const override {
    const std::chrono::steady_clock::time_point deadline{std::chrono::nanoseconds(deadline_ns)};
    cv.wait_until(lock, deadline, done);
  }
};

}  // namespace

const CacheClock &system_cache_clock() {
  static const SystemCacheClock clock;
  return clock;
}

}  // namespace credplug::host
