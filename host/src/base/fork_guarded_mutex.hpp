// Fork safety, part two: data a child of fork() keeps (which plugins this
// process loaded, the secrets a credential's messages are masked with) is
// guarded by a mutex fork() waits for. pthread_atfork's prepare handler
// locks every live ForkGuardedMutex, by rank then age, and the parent and the
// child unlock them after: the child sees the data whole, never half
// changed by a thread it does not have. What has threads, sockets or
// requests in flight is per process instead (fork_local.hpp).
//
// For short sections only (fork() waits for them). A section holding one
// may lock another only of a higher rank, and never makes or destroys one.
#pragma once

#include <cstdint>
#include <mutex>

namespace credplug::host {

class ForkGuardedMutex {
 public:
  // Lower ranks are locked first by fork(): a section under one may take
  // one of a higher rank.
  enum Rank : int { kInProcessPlugins = 1, kRunnerPlugins = 2, kRunners = 3, kRedactor = 4, kCredentialState = 5 };

  explicit ForkGuardedMutex(Rank rank);
  ~ForkGuardedMutex();
  ForkGuardedMutex(const ForkGuardedMutex &) = delete;
  ForkGuardedMutex &operator=(const ForkGuardedMutex &) = delete;

  void lock() { mutex_.lock(); }
  void unlock() { mutex_.unlock(); }
  bool try_lock() { return mutex_.try_lock(); }

 private:
  std::mutex mutex_;
  const Rank rank_;
  uint64_t age_;  // its place among those of its rank
};

}  // namespace credplug::host
