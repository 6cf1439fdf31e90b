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
#include <vector>

namespace credplug::host {

namespace fork_guarded {
// A place in a rank's ring of live mutexes, oldest to newest; each ring's
// sentinel is a bare Link (fork_guarded_mutex.cpp).
struct Link {
  Link *older = this, *newer = this;
};
}  // namespace fork_guarded

// Its base Link is its place in its rank's ring, under the rings' lock: a
// list inside the mutexes, so that each (two per open credential) costs no
// allocation of its own.
class ForkGuardedMutex : private fork_guarded::Link {
 public:
  // Lower ranks are locked first by fork(): a section under one may take
  // one of a higher rank.
  enum Rank : int { kInProcessPlugins = 1, kRunnerPlugins = 2, kRunners = 3, kRedactor = 4, kCredentialState = 5 };
  static constexpr int kRanks = 5;

  explicit ForkGuardedMutex(Rank rank);
  ~ForkGuardedMutex();
  ForkGuardedMutex(const ForkGuardedMutex &) = delete;
  ForkGuardedMutex &operator=(const ForkGuardedMutex &) = delete;

  // Every live one, in the order fork() locks them: by rank, then age.
  // For tests; takes the rings' lock.
  static std::vector<const ForkGuardedMutex *> fork_order();

  void lock() { mutex_.lock(); }
  void unlock() { mutex_.unlock(); }
  bool try_lock() { return mutex_.try_lock(); }

 private:
  // The atfork handlers (fork_guarded_mutex.cpp): every live one locked,
  // by rank then age, and unlocked in reverse.
  template <class F>
  static void each_in_fork_order(F f);  // the rings' lock held
  static void lock_all();
  static void unlock_all();
  static const bool registered_;  // pthread_atfork(lock_all, unlock_all, unlock_all)

  std::mutex mutex_;
};

}  // namespace credplug::host
