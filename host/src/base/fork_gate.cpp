#include "base/fork_gate.hpp"

#include <pthread.h>

#include <atomic>
#include <thread>

namespace credplug::host {
namespace {

// Atomics only: a mutex or condition variable here would itself be a lock a
// child could inherit held. Both waits are short (a fork(), or one step of
// OpenSSL's work), so they yield rather than sleep.
std::atomic<int> g_inside{0};
std::atomic<bool> g_forking{false};

void prepare() {
  g_forking.store(true);
  while (g_inside.load() != 0) std::this_thread::yield();
}

void after() { g_forking.store(false); }

[[maybe_unused]] const bool g_registered = pthread_atfork(prepare, after, after) == 0;

}  // namespace

OpenSslSection::OpenSslSection() {
  for (;;) {
    while (g_forking.load()) std::this_thread::yield();
    g_inside.fetch_add(1);
    if (!g_forking.load()) return;  // prepare() will wait for us
    g_inside.fetch_sub(1);          // it began first: let it fork
  }
}

OpenSslSection::~OpenSslSection() { g_inside.fetch_sub(1); }

}  // namespace credplug::host
