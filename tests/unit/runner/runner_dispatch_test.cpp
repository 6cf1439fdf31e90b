// The runner's thread pool over a real socket pair: a call queued while
// another waits on the network starts at once, whatever the shape of the
// pool. (Two calls read back to back once woke one idle thread between them,
// and the second waited behind the first's whole HTTPS round trip.) And a
// call that runs long gets a reader beside it (issue 23: not at once).
#include "runner_dispatch.hpp"
#include "runner_services.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using namespace credplug::runner;

namespace {

// What the calls did, for the test thread to wait on.
struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::set<uint32_t> ran;
  bool wait_for(uint32_t call) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(20), [&] { return ran.count(call) > 0; });
  }
  void mark(uint32_t call) {
    std::lock_guard<std::mutex> lock(mutex);
    ran.insert(call);
    changed.notify_all();
  }
};

bool wait_until(const std::function<bool()> &condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!condition())
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    else
      std::this_thread::yield();
  return true;
}

}  // namespace

TEST_CASE("runner dispatch: two calls read back to back while one waits on the network both start at once") {
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  const int host = fds[0], runner = fds[1];
  set_channel(runner);
  Seen seen;
  // Call 1 sends an HTTP request and waits for its answer; call 2 returns;
  // call 3 returns only once call 4 ran, which it cannot if call 4 waits
  // for call 3's thread.
  std::function<void(Frame &)> run = [&](Frame &frame) {
    if (frame.call == 1) {
      credplug_call call;
      call.id = 1;
      seen.mark(1);
      http_round_trip(call, "request");
    } else if (frame.call == 3) {
      seen.mark(3);
      seen.wait_for(4);
    } else if (frame.call == 5) {
      seen.mark(5);
      seen.wait_for(6);
    } else {
      seen.mark(frame.call);
    }
  };
  std::thread server([&] { serve_calls(runner, run); });
  FrameReader from_runner(host);

  REQUIRE(write_frame(host, Msg::Call, 1, "c1"));
  auto sent = from_runner.next();  // call 1's HttpSend: it waits on the network now
  REQUIRE(sent.has_value());
  CHECK(sent->type == Msg::HttpSend);
  REQUIRE(write_frame(host, Msg::Call, 2, "c2"));
  REQUIRE(seen.wait_for(2));
  // Settled: call 1 runs, and a thread reads: call 1's, with call 2's thread
  // idle (the shape that once lost call 4), or call 2's, with call 1's
  // waiting for its answer. Either must run calls 3 and 4 at once.
  REQUIRE(wait_until([] {
    const PoolShape shape = pool_shape();
    return shape.running == 1 && shape.reading;
  }));
  std::string both;
  append_frame(both, Msg::Call, 3, "c3");
  append_frame(both, Msg::Call, 4, "c4");
  REQUIRE(write_all(host, both));  // one write: read back to back
  CHECK(seen.wait_for(3));
  CHECK(seen.wait_for(4));  // never, while call 4 waited for call 3's thread

  REQUIRE(write_frame(host, Msg::HttpResult, 1, ""));

  // A call that computes on (call 5 returns only once call 6 ran) with no
  // thread waiting on the network: the thread that read it runs it, so
  // nobody reads until the guard hands the reading to another thread
  // (kReaderAfter). Without the guard call 6 is never read.
  REQUIRE(wait_until([] {
    const PoolShape shape = pool_shape();
    return shape.running == 0 && shape.reading;
  }));
  REQUIRE(write_frame(host, Msg::Call, 5, "c5"));
  REQUIRE(seen.wait_for(5));
  REQUIRE(write_frame(host, Msg::Call, 6, "c6"));
  CHECK(seen.wait_for(6));
  shutdown(host, SHUT_RDWR);  // the host goes: serve_calls() returns
  server.join();
  // Call 3's thread may still be leaving seen.wait_for(4): `seen` must
  // outlive it (it once did not, and the test crashed one run in 900).
  REQUIRE(wait_until([] { return pool_shape().running == 0; }));
  close(host);
  close(runner);
}
