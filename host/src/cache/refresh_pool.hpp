// RefreshPool: the few threads that run background token refreshes for all
// of a Host's credentials, so a token nearing expiry is renewed while callers
// keep using it. Threads start on first use.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace credplug::host {

class RefreshPool {
 public:
  explicit RefreshPool(int threads) : size_(threads < 1 ? 1 : threads) {}
  ~RefreshPool();  // runs what is queued, then joins
  RefreshPool(const RefreshPool &) = delete;
  RefreshPool &operator=(const RefreshPool &) = delete;

  // Queues `task`; it must not throw. Thread-safe.
  void submit(std::function<void()> task);

 private:
  void work();

  const int size_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int idle_ = 0;  // threads waiting for work
  bool stopping_ = false;
};

}  // namespace credplug::host
