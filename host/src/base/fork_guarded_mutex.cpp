#include "base/fork_guarded_mutex.hpp"

#include <pthread.h>

#include <map>
#include <utility>

namespace credplug::host {
namespace {

struct Guarded {
  std::mutex mutex;  // the map; held from prepare to parent/child
  std::map<std::pair<int, uint64_t>, ForkGuardedMutex *> live;
  uint64_t made = 0;
};

Guarded &guarded() {
  static auto *g = new Guarded();  // never destroyed: mutexes in statics outlive every destructor order
  return *g;
}

void prepare() {
  Guarded &g = guarded();
  g.mutex.lock();
  for (auto &[key, m] : g.live) m->lock();
}

void after() {
  Guarded &g = guarded();
  for (auto it = g.live.rbegin(); it != g.live.rend(); ++it) it->second->unlock();
  g.mutex.unlock();
}

[[maybe_unused]] const bool g_registered = [] {
  guarded();
  return pthread_atfork(prepare, after, after) == 0;
}();

}  // namespace

ForkGuardedMutex::ForkGuardedMutex(Rank rank) : rank_(rank) {
  Guarded &g = guarded();
  std::lock_guard<std::mutex> lock(g.mutex);
  age_ = ++g.made;
  g.live.emplace(std::make_pair(int(rank_), age_), this);
}

ForkGuardedMutex::~ForkGuardedMutex() {
  Guarded &g = guarded();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.live.erase(std::make_pair(int(rank_), age_));
}

}  // namespace credplug::host
