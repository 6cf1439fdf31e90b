// Fork safety, part one: state a child of fork() must not inherit.
//
// A process that holds Hosts and credentials may fork (a pre-fork server:
// gunicorn --preload, uwsgi). The child has one thread; every other thread
// of the parent is gone, with whatever it held: a mutex, a token request in
// flight, a frame half-read from a runner's socket. So what has a lock, a
// thread, a socket or a request in flight is kept per process: the child
// makes its own on first use, and never touches the parent's (which stays
// allocated, never destroyed: its destructor would lock, join or signal
// what is not the child's). Data the child keeps instead is guarded by a
// ForkGuardedMutex (fork_guarded_mutex.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace credplug::host {

// Which process this is, as fork() sees it: 0 in the process that loaded
// credplug, a new value in each child of fork() (pthread_atfork). One
// relaxed load. A child made by a raw clone() or syscall(SYS_fork) is not
// seen: it must exec, as after vfork().
extern std::atomic<uint64_t> g_fork_generation;  // fork_local.cpp
inline uint64_t fork_generation() { return g_fork_generation.load(std::memory_order_relaxed); }

// Keeps a parent's object reachable, never freed (so leak checkers do not
// report it in a child that exits normally).
void keep_inherited(const void *object);

// A T per process: the one made here, or the parent's, never both. get()
// makes this process's T on first use with `make` (which may throw: then
// nothing is kept, and the next get() tries again). Thread-safe; two
// threads making the first at once keep one and destroy the other.
// `Make` may be a small callable type of the owner's instead of a
// std::function, and may return a T itself instead of a std::unique_ptr<T>
// (made in place, beside the process's mark: one allocation, not two),
// where many are kept (one per open credential).
template <class T, class Make = std::function<std::unique_ptr<T>()>>
class ForkLocal {
  using Made = std::invoke_result_t<const Make &>;
  static_assert(std::is_same_v<Made, T> || std::is_same_v<Made, std::unique_ptr<T>>);
  static T &of(T &value) { return value; }
  static T &of(const std::unique_ptr<T> &value) { return *value; }

 public:
  explicit ForkLocal(Make make) : make_(std::move(make)) {}
  // With this process's T already made.
  ForkLocal(Make make, std::unique_ptr<T> first) : make_(std::move(make)) {
    if (first) slot_.store(new Slot{fork_generation(), std::move(first)});
  }
  ~ForkLocal() {
    Slot *s = slot_.load(std::memory_order_acquire);
    if (s != nullptr && s->generation == fork_generation()) delete s;  // else the parent's: kept
  }
  ForkLocal(const ForkLocal &) = delete;
  ForkLocal &operator=(const ForkLocal &) = delete;

  T &get() {
    const uint64_t here = fork_generation();
    Slot *s = slot_.load(std::memory_order_acquire);
    if (s != nullptr && s->generation == here) return of(s->value);
    auto *made = new Slot{here, make_()};
    while (!slot_.compare_exchange_weak(s, made, std::memory_order_acq_rel, std::memory_order_acquire)) {
      if (s != nullptr && s->generation == here) {  // another thread of this process made it first
        delete made;
        return of(s->value);
      }
    }
    if (s != nullptr) keep_inherited(s);  // the parent's: never freed
    return of(made->value);
  }

  // This process's T, or nullptr when none was made here yet.
  T *made_here() const {
    Slot *s = slot_.load(std::memory_order_acquire);
    return s != nullptr && s->generation == fork_generation() ? &of(s->value) : nullptr;
  }

 private:
  struct Slot {
    uint64_t generation;
    Made value;
  };
  const Make make_;
  std::atomic<Slot *> slot_{nullptr};
};

}  // namespace credplug::host
