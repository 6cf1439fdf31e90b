#include "base/fork_gate.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstdlib>

#include <atomic>
#include <thread>

namespace credplug::host {
namespace {

// Atomics only: a mutex or condition variable here would itself be a lock a
// child could inherit held. Both waits are short (a fork(), or one step of
// OpenSSL's work), so they yield rather than sleep.
std::atomic<int> g_inside{0};
std::atomic<bool> g_forking{false};
std::atomic<bool> g_exiting{false};
std::atomic<std::thread::id> g_exit_thread{};

void prepare() {
  g_forking.store(true);
  while (g_inside.load() != 0) std::this_thread::yield();
}

void after() { g_forking.store(false); }

[[maybe_unused]] const bool g_registered = pthread_atfork(prepare, after, after) == 0;

// The process is ending and OpenSSL's state is about to go: only the thread
// running exit() (its other handlers, destructors) still enters a section.
bool closed_to_this_thread() { return g_exiting.load() && g_exit_thread.load() != std::this_thread::get_id(); }

[[noreturn]] void wait_for_the_end() {
  for (;;) pause();  // _exit() after the handlers ends this thread with the rest
}

void close_sections() {
  g_exit_thread.store(std::this_thread::get_id());
  g_exiting.store(true);
  while (g_inside.load() != 0) std::this_thread::yield();
}

}  // namespace

void close_openssl_at_exit() {
  static const bool registered = std::atexit(close_sections) == 0;
  (void)registered;
}

OpenSslSection::OpenSslSection() {
  for (;;) {
    while (g_forking.load()) std::this_thread::yield();
    if (closed_to_this_thread()) wait_for_the_end();
    g_inside.fetch_add(1);
    if (!g_forking.load() && !closed_to_this_thread()) return;  // prepare() or close_sections() waits for us
    g_inside.fetch_sub(1);                                      // it began first: let it go on
  }
}

OpenSslSection::~OpenSslSection() { g_inside.fetch_sub(1); }

}  // namespace credplug::host
