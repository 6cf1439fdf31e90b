// The credplug_host_api a plugin gets inside the runner: each service is a
// frame to the host (which redacts, checks and applies it exactly as for an
// in-process plugin), http_send waits for the host's answer, and the
// response accessors, now_ms and secure_zero stay local.
#pragma once

#include "plugin_helpers.hpp"
#include "runner_protocol.hpp"

#include <credplug/plugin.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

// One call the host asked for, as the plugin sees it. Used by the thread
// running the call, and by the thread that reads its HttpResult (under the
// dispatch's lock, runner_dispatch.cpp).
struct credplug_call {
  uint32_t id = 0;
  // Service frames not yet written: they need no answer, so they go with the
  // next frame that does (HttpSend, Done) in one system call.
  std::string pending;
  // Its thread's own (runner_dispatch.cpp), while it waits for an answer.
  std::condition_variable *answered = nullptr;
  std::optional<std::string> http_result;  // payload of the awaited HttpResult
  std::optional<std::string> state;        // the credential's state, for state() (wiped with the call)
  // What the minor-2 helpers returned to the plugin (wiped with the call).
  credplug::helpers::CallStrings helper_strings;
};

namespace credplug::runner {

// Frames go to this descriptor, one writer at a time.
void set_channel(int fd);
bool send_frame(Msg type, uint32_t call, std::string_view payload);
// Queues a frame of `call` (written at the latest with its next answerable
// frame; at once past 1 MiB).
void queue_frame(credplug_call &call, Msg type, std::string_view payload);
// Writes the call's queued frames and then this one. False when the host is gone.
bool send_with_queued(credplug_call &call, Msg type, std::string_view payload);
// Writes a whole frame from a signal handler (async-signal-safe), unless a
// frame is being written: then nothing. The channel stays taken: for the
// runner's last frame only.
void write_from_signal_handler(std::string_view frame) noexcept;
// Sends `line` as an error log outside any call (the host tags it with the
// plugin's id), then ends the runner with `status`: its watchdogs' way out.
[[noreturn]] void end_runner(const std::string &line, int status);

const credplug_host_api *runner_services();

}  // namespace credplug::runner
