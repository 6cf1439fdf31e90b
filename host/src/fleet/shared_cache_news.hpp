// Ends a shared-cache wait as soon as another process writes the token
// waited for, or gives its lease back, rather than at the waiter's next poll.
// The publish and release scripts announce the record's name on one Redis
// channel; each store has one subscriber connection (from its start,
// reconnected with backoff) that wakes this process's waiters on that name.
// Pub/sub loses what is said while disconnected, so waiters keep polling:
// news only ends a wait early, and a missing subscriber changes nothing else.
#pragma once

#include "fleet/redis_client.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace credplug::host {

class SharedCacheNews {
 public:
  static constexpr const char *kChannel = "credplug:v1:news";

  SharedCacheNews(RedisAddress address, long timeout_ms);
  ~SharedCacheNews();  // stops the subscriber
  SharedCacheNews(const SharedCacheNews &) = delete;
  SharedCacheNews &operator=(const SharedCacheNews &) = delete;

  // Interest in one record's news, from its creation on. Take it before
  // looking at the record, then wait() between looks.
  class Ticket {
   public:
    Ticket(SharedCacheNews &news, std::string name);
    ~Ticket();
    Ticket(const Ticket &) = delete;
    Ticket &operator=(const Ticket &) = delete;
    // True as soon as there is news since the ticket was taken or since the
    // last wait() that returned true; false after `timeout` without any.
    bool wait(std::chrono::milliseconds timeout);

   private:
    SharedCacheNews &news_;
    const std::string name_;
    uint64_t seen_;
  };

  bool subscribed() const { return subscribed_.load(); }

 private:
  struct Watch {
    int tickets = 0;
    uint64_t news = 0;
  };
  void run();
  void deliver(const std::string &name);

  const RedisAddress address_;
  const long timeout_ms_;
  int wake_fd_ = -1;  // an eventfd: written to stop the subscriber
  std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, Watch> watched_;  // only names someone waits on
  std::thread subscriber_;
  std::atomic<bool> subscribed_{false};
};

}  // namespace credplug::host
