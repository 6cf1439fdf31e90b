#include "base/fork_local.hpp"

#include <pthread.h>

namespace credplug::host {

std::atomic<uint64_t> g_fork_generation{0};

namespace {

// Registered when the library loads: before any Host exists, so before any
// fork that matters.
[[maybe_unused]] const bool g_registered = [] {
  return pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }) == 0;
}();

// What parents left, reachable from here: a list pushed to without a lock
// (a child may be forked while another thread pushes).
struct Kept {
  const void *object;
  Kept *next;
};
std::atomic<Kept *> g_kept{nullptr};

}  // namespace

void keep_inherited(const void *object) {
  auto *k = new Kept{object, g_kept.load(std::memory_order_relaxed)};
  while (!g_kept.compare_exchange_weak(k->next, k, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

}  // namespace credplug::host
