// Runs body(i) for i in [0, n) on n threads released at the same moment, for
// tests and benchmarks of concurrent callers.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace credplug::testing {

template <class Body>
void on_threads(int n, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      body(i);
    });
  for (auto &t : threads) t.join();
}

}  // namespace credplug::testing
