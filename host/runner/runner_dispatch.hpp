// How the runner's threads share the channel (leader/follower): whichever
// thread is free reads, and a Call it reads it runs itself; a thread waiting
// in http_send() for its answer reads the channel itself when no other
// thread is. When calls come one at a time — the common case — one thread
// does everything and a round trip costs no hand-off between threads; calls
// that overlap get worker threads, made as needed and kept.
#pragma once

#include "runner_protocol.hpp"

#include <functional>

struct credplug_call;

namespace credplug::runner {

// Serves Call frames with `run` until the host closes the channel (or breaks
// the protocol). Returns true when it ended quiet: no call running or queued.
bool serve_calls(int fd, const std::function<void(Frame &)> &run);

// Sends `call`'s HttpSend frame (`payload`, with the frames queued before
// it) and waits for its HttpResult (into call.http_result). The call waits
// from before the frame leaves: another thread may read the answer first.
// False when the channel closed first.
bool http_round_trip(credplug_call &call, std::string_view payload);

// The pool's shape, for tests that need it settled: threads waiting for
// work (woken or not), calls running, and whether a thread reads.
struct PoolShape {
  int idle = 0, running = 0;
  bool reading = false;
};
PoolShape pool_shape();

}  // namespace credplug::runner
