// What the frames a runner sends mean to the host: a call's service frames
// applied to its credplug_call exactly as the in-process services would
// apply them (so redaction, output checks and the egress policy are the same
// code in both modes), HttpSend answered, and the Loaded description read.
// A runner holds plugin code: every field is hostile, and anything
// malformed, too long or out of place throws runner::ProtocolError.
#pragma once

#include "plugin/runner_protocol.hpp"
#include "transport/plugin_transport.hpp"

#include <chrono>
#include <string>

namespace credplug::host {

// What one call's frames have done so far.
struct CallFrames {
  int http_requests = 0;  // at most kMaxHttpRequestsPerCall are sent
  int32_t status = 0;     // from Done
  uint64_t created = 0;   // from Done: the instance create() made
  // Time spent in its HTTPS requests: the one part of the host's work on
  // its frames that does not count toward the call's deadline.
  std::chrono::steady_clock::duration https_time{0};
};

// A call may make this many HTTPS requests (none needs more than 4).
constexpr int kMaxHttpRequestsPerCall = 64;

// Applies one frame of a running call to `call`. For HttpSend the host sends
// the request (through host_services()->http_send) and *http_answer is the
// HttpResult payload to send back. True for Done.
bool apply_call_frame(const runner::Frame &frame, credplug_call &call, CallFrames &state, std::string *http_answer);

// The plugin a Loaded frame describes (its schema text in `schema`), from
// the file at `path`.
PluginDescription parse_loaded(const runner::Frame &frame, const std::string &path, std::string &schema);

}  // namespace credplug::host
