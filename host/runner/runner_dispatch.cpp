#include "runner_dispatch.hpp"

#include "runner_services.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace credplug::runner {
namespace {

using Clock = std::chrono::steady_clock;

// A call that computes this long with no thread reading gets a reader (a
// worker woken or started), so other calls are not left unread behind it.
// Shorter calls — nearly all — finish and read on themselves: no thread is
// woken for them.
constexpr std::chrono::microseconds kReaderAfter{500};
// The reading guard checks every kReaderAfter while calls have begun within
// this; after that it sleeps until the next call.
constexpr std::chrono::milliseconds kGuardLinger{20};

struct Dispatch {
  std::mutex mutex;
  FrameReader *reader = nullptr;
  const std::function<void(Frame &)> *run = nullptr;
  bool reading = false;  // a thread is in reader->next()
  bool closed = false;
  std::deque<Frame> calls;                      // Call frames for a worker
  std::map<uint32_t, credplug_call *> waiters;  // threads in await_http_result()
  int idle = 0, running = 0;
  std::condition_variable work;  // idle workers
  // The reading guard (reader_guard_loop): since when calls have run with
  // no thread reading, and when the last call began.
  std::optional<Clock::time_point> unread_since;
  Clock::time_point last_call_began;
  bool guard_started = false, guard_sleeping = false;
  std::condition_variable guard;
  // Threads to wake once the lock is let go (unlock_and_wake): woken under
  // it, each found it taken and slept again, two context switches for one
  // hand-off. So a thread waits on a condition variable of its own, which
  // outlives the call it waits for (a waker may come after it has left).
  std::vector<std::condition_variable *> to_wake;
  std::deque<std::condition_variable> thread_wakes;  // one per thread, kept (deque: never moved)
};

Dispatch &d() {
  static auto *dispatch = new Dispatch();  // used by threads that outlive main()
  return *dispatch;
}

// This thread's condition variable; `lock` holds the dispatch's mutex.
std::condition_variable &own_wake(std::unique_lock<std::mutex> &) {
  thread_local std::condition_variable *mine = nullptr;
  if (mine == nullptr) mine = &d().thread_wakes.emplace_back();
  return *mine;
}

void unlock_and_wake(std::unique_lock<std::mutex> &lock) {
  std::vector<std::condition_variable *> woken;
  woken.swap(d().to_wake);
  lock.unlock();
  for (std::condition_variable *cv : woken) cv->notify_one();
}

// Before a wait: true when threads were woken (the lock was let go, so
// what the wait was for may have changed).
bool woke_others(std::unique_lock<std::mutex> &lock) {
  if (d().to_wake.empty()) return false;
  unlock_and_wake(lock);
  lock.lock();
  return true;
}

void pool_loop();

// Lets a thread waiting for an answer read in our place; false when there
// is none.
bool hand_over_reading(std::unique_lock<std::mutex> &) {
  Dispatch &s = d();
  if (s.reading) return true;
  for (auto &[id, call] : s.waiters)
    if (!call->http_result) {
      s.to_wake.push_back(call->answered);
      return true;
    }
  return false;
}

// Makes sure `wanted` threads are idle or coming: wakes an idle one, or
// starts one. A woken thread counts as idle until it takes a queued call,
// so idle threads are enough only when they outnumber the calls that will
// take them (with `s.idle > 0` alone, two calls read back to back woke one
// thread, and the second waited behind the first's whole HTTPS round trip:
// a create() queued behind a token request the server held for 30 s).
void wake_or_start_worker(std::unique_lock<std::mutex> &, size_t wanted) {
  Dispatch &s = d();
  if (size_t(s.idle) >= wanted)
    s.to_wake.push_back(&s.work);
  else
    std::thread(pool_loop).detach();
}

void close_channel(std::unique_lock<std::mutex> &) {
  Dispatch &s = d();
  s.closed = true;
  for (auto &[id, call] : s.waiters) s.to_wake.push_back(call->answered);
  s.work.notify_all();
  s.guard.notify_all();
}

// Gets a reader for calls that run long with no thread reading (see
// kReaderAfter). It sleeps in the kernel only once calls stop coming.
void reader_guard_loop() {
  Dispatch &s = d();
  std::unique_lock<std::mutex> lock(s.mutex);
  while (!s.closed) {
    if (woke_others(lock)) continue;
    const auto now = Clock::now();
    if (s.unread_since && !s.reading && s.running > 0) {
      const auto due = *s.unread_since + kReaderAfter;
      if (now < due) {
        s.guard.wait_until(lock, due);
        continue;
      }
      s.unread_since.reset();
      if (!hand_over_reading(lock)) wake_or_start_worker(lock, s.calls.size() + 1);
    } else if (now - s.last_call_began < kGuardLinger) {
      s.guard.wait_for(lock, kReaderAfter);
    } else {
      s.guard_sleeping = true;
      s.guard.wait(lock);
      s.guard_sleeping = false;
    }
  }
}

// Reads one frame, holding the reader's place. A Call comes back to be run
// by this thread when `may_run` (else a worker gets it); an HttpResult goes
// to its waiter. Returns nothing otherwise.
std::optional<Frame> read_one(std::unique_lock<std::mutex> &lock, bool may_run) {
  Dispatch &s = d();
  s.reading = true;
  s.unread_since.reset();
  // A thread that has just run the only call polls a while before it
  // sleeps: a host sending calls one after another finds it awake. Not
  // while other calls run (they need the CPU more), nor for a thread
  // waiting on an HTTPS request the host is making (it takes longer).
  s.reader->set_spin(may_run && s.running == 0 ? spin_before_sleep() : std::chrono::nanoseconds(0));
  unlock_and_wake(lock);
  std::optional<Frame> frame;
  try {
    frame = s.reader->next();
  } catch (const ProtocolError &) {
    frame.reset();
  }
  lock.lock();
  s.reading = false;
  if (!frame) {
    close_channel(lock);
    return std::nullopt;
  }
  if (frame->type == Msg::Call) {
    if (may_run) return frame;
    s.calls.push_back(std::move(*frame));
    wake_or_start_worker(lock, s.calls.size());  // a thread for each queued call
    return std::nullopt;
  }
  auto it = s.waiters.find(frame->call);
  if (frame->type != Msg::HttpResult || it == s.waiters.end()) {
    close_channel(lock);  // the host broke the protocol: nothing more is asked
    return std::nullopt;
  }
  it->second->http_result = std::move(frame->payload);
  s.to_wake.push_back(it->second->answered);
  return std::nullopt;
}

void run(std::unique_lock<std::mutex> &lock, Frame &frame) {
  Dispatch &s = d();
  ++s.running;
  // Someone must read while this call runs: a call that runs long (plugin
  // code computing, a loop) otherwise left every other call of the runner
  // unread until it returned. Not at once: the guard gets a reader once the
  // call has run kReaderAfter with none (waking a thread per call cost more
  // than the rest of a round trip).
  const auto now = Clock::now();
  s.last_call_began = now;
  if (!s.reading && !s.unread_since) s.unread_since = now;
  if (!s.guard_started) {
    s.guard_started = true;
    std::thread(reader_guard_loop).detach();
  } else if (s.guard_sleeping) {
    s.guard.notify_one();
  }
  unlock_and_wake(lock);
  (*s.run)(frame);
  lock.lock();
  --s.running;
}

// A worker (or the main thread): runs queued calls, else reads, else waits.
void pool_loop() {
  Dispatch &s = d();
  std::unique_lock<std::mutex> lock(s.mutex);
  while (!s.closed) {
    if (!s.calls.empty()) {
      Frame frame = std::move(s.calls.front());
      s.calls.pop_front();
      run(lock, frame);
    } else if (!s.reading) {
      if (auto frame = read_one(lock, true)) run(lock, *frame);
    } else if (!woke_others(lock)) {
      ++s.idle;
      s.work.wait(lock);
      --s.idle;
    }
  }
  unlock_and_wake(lock);
}

}  // namespace

bool serve_calls(int fd, const std::function<void(Frame &)> &run_call) {
  static FrameReader *reader = new FrameReader(fd);  // outlives workers still running
  Dispatch &s = d();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.reader = reader;
    s.run = &run_call;
  }
  pool_loop();
  std::unique_lock<std::mutex> lock(s.mutex);
  const bool quiet = s.running == 0 && s.calls.empty();
  unlock_and_wake(lock);
  return quiet;
}

bool http_round_trip(credplug_call &call, std::string_view payload) {
  Dispatch &s = d();
  std::unique_lock<std::mutex> lock(s.mutex);
  call.http_result.reset();
  call.answered = &own_wake(lock);
  s.waiters[call.id] = &call;
  unlock_and_wake(lock);
  const bool sent = send_with_queued(call, Msg::HttpSend, payload);
  lock.lock();
  while (sent && !call.http_result && !s.closed) {
    if (!s.reading)
      read_one(lock, false);
    else if (!woke_others(lock))
      call.answered->wait(lock);
  }
  s.waiters.erase(call.id);
  hand_over_reading(lock);
  const bool answered = call.http_result.has_value();
  unlock_and_wake(lock);
  return answered;
}

PoolShape pool_shape() {
  Dispatch &s = d();
  std::lock_guard<std::mutex> lock(s.mutex);
  return PoolShape{s.idle, s.running, s.reading};
}

}  // namespace credplug::runner
