// ForkGuardedMutex keeps every live mutex in its rank's ring, oldest first,
// with no allocation of its own (issue 23): fork() locks them by rank, then
// age, and the child finds each unlocked.
#include "base/fork_guarded_mutex.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

using credplug::host::ForkGuardedMutex;

namespace {

// The order fork() locks `ours` in, the others' left out.
std::vector<const ForkGuardedMutex *> order_of(const std::vector<const ForkGuardedMutex *> &ours) {
  std::vector<const ForkGuardedMutex *> out;
  for (const ForkGuardedMutex *m : ForkGuardedMutex::fork_order())
    if (std::find(ours.begin(), ours.end(), m) != ours.end()) out.push_back(m);
  return out;
}

}  // namespace

TEST_CASE("fork-guarded mutexes: locked by rank then age, the dead unlinked wherever they were") {
  using M = ForkGuardedMutex;
  auto state1 = std::make_unique<M>(M::kCredentialState);
  auto redactor1 = std::make_unique<M>(M::kRedactor);
  auto plugins = std::make_unique<M>(M::kInProcessPlugins);
  auto redactor2 = std::make_unique<M>(M::kRedactor);
  auto redactor3 = std::make_unique<M>(M::kRedactor);
  auto state2 = std::make_unique<M>(M::kCredentialState);
  CHECK(order_of({state1.get(), redactor1.get(), plugins.get(), redactor2.get(), redactor3.get(), state2.get()}) ==
        std::vector<const M *>{plugins.get(), redactor1.get(), redactor2.get(), redactor3.get(), state1.get(),
                               state2.get()});

  // Their addresses, as numbers: a pointer to what is gone may not be used.
  const std::vector<uintptr_t> gone{reinterpret_cast<uintptr_t>(redactor2.get()),
                                    reinterpret_cast<uintptr_t>(state1.get()),
                                    reinterpret_cast<uintptr_t>(redactor3.get())};
  redactor2.reset();  // between two of its rank
  state1.reset();     // its rank's oldest
  redactor3.reset();  // its rank's newest
  for (const M *m : ForkGuardedMutex::fork_order())
    CHECK(std::find(gone.begin(), gone.end(), reinterpret_cast<uintptr_t>(m)) == gone.end());
  auto redactor4 = std::make_unique<M>(M::kRedactor);  // after the survivor of its rank
  CHECK(order_of({redactor1.get(), plugins.get(), state2.get(), redactor4.get()}) ==
        std::vector<const M *>{plugins.get(), redactor1.get(), redactor4.get(), state2.get()});

  // fork() locks each and unlocks each in both processes.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    bool all_free = true;
    for (M *m : {redactor1.get(), plugins.get(), state2.get(), redactor4.get()}) {
      if (m->try_lock())
        m->unlock();
      else
        all_free = false;
    }
    _exit(all_free ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  for (M *m : {redactor1.get(), plugins.get(), state2.get(), redactor4.get()}) {
    const bool free = m->try_lock();
    CHECK(free);
    if (free) m->unlock();
  }
}
