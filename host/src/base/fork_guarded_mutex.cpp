#include "base/fork_guarded_mutex.hpp"

#include <pthread.h>

namespace credplug::host {
namespace {

struct Guarded {
  std::mutex mutex;  // the rings; held from prepare to parent/child
  // Each rank's live mutexes, a ring through its sentinel (index: the rank).
  fork_guarded::Link rings[ForkGuardedMutex::kRanks + 1];
};

Guarded &guarded() {
  static auto *g = new Guarded();  // never destroyed: mutexes in statics outlive every destructor order
  return *g;
}

}  // namespace

template <class F>
void ForkGuardedMutex::each_in_fork_order(F f) {
  Guarded &g = guarded();  // its mutex held by the caller
  for (int rank = 1; rank <= kRanks; ++rank)
    for (Link *l = g.rings[rank].newer; l != &g.rings[rank]; l = l->newer) f(static_cast<ForkGuardedMutex *>(l));
}

void ForkGuardedMutex::lock_all() {
  Guarded &g = guarded();
  g.mutex.lock();
  each_in_fork_order([](ForkGuardedMutex *m) { m->lock(); });
}

void ForkGuardedMutex::unlock_all() {
  Guarded &g = guarded();
  for (int rank = kRanks; rank >= 1; --rank)
    for (Link *l = g.rings[rank].older; l != &g.rings[rank]; l = l->older) static_cast<ForkGuardedMutex *>(l)->unlock();
  g.mutex.unlock();
}

std::vector<const ForkGuardedMutex *> ForkGuardedMutex::fork_order() {
  Guarded &g = guarded();
  std::lock_guard<std::mutex> lock(g.mutex);
  std::vector<const ForkGuardedMutex *> out;
  each_in_fork_order([&](ForkGuardedMutex *m) { out.push_back(m); });
  return out;
}

const bool ForkGuardedMutex::registered_ = (guarded(), pthread_atfork(lock_all, unlock_all, unlock_all) == 0);

ForkGuardedMutex::ForkGuardedMutex(Rank rank) {
  Guarded &g = guarded();
  std::lock_guard<std::mutex> lock(g.mutex);
  Link &ring = g.rings[rank];  // the newest goes between the newest and the sentinel
  older = ring.older;
  newer = &ring;
  older->newer = this;
  ring.older = this;
}

ForkGuardedMutex::~ForkGuardedMutex() {
  Guarded &g = guarded();
  std::lock_guard<std::mutex> lock(g.mutex);
  older->newer = newer;
  newer->older = older;
}

}  // namespace credplug::host
