// One plugin runner process, as the host sees it: started with
// posix_spawn (an empty environment, /dev/null as 0-2, the channel as 3),
// a reader thread that routes its frames to the calls waiting for them, and
// its end — reaped, and described ("crashed (SIGSEGV)") for every call it
// took down.
#pragma once

#include "runner_protocol.hpp"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace credplug::host {

// The frames for one call (or, as call 0, for loading), and whether the
// runner has ended.
struct RunnerInbox {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<runner::Frame> frames;
  bool ended = false;
};

class RunnerProcess : public std::enable_shared_from_this<RunnerProcess> {
 public:
  // Starts `runner_path` for `plugin_path`. Throws std::runtime_error when
  // the process cannot be started.
  static std::shared_ptr<RunnerProcess> start(const std::string &runner_path, const std::string &plugin_path);
  ~RunnerProcess();

  pid_t pid() const { return pid_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  // Call 0: the handshake and loading frames.
  std::shared_ptr<RunnerInbox> loading() { return calls_.at(0); }
  // A new call id and the inbox its frames will arrive in.
  std::shared_ptr<RunnerInbox> open_call(uint32_t &id);
  void close_call(uint32_t id);

  // False when the runner is gone.
  bool send(runner::Msg type, uint32_t call, std::string_view payload);

  // Ends the runner (SIGKILL), remembering why for every call it takes down.
  void stop(const std::string &reason);

  bool ended() const;
  // Why it ended: "crashed (SIGSEGV)", "exited (status 1)", or the reason
  // given to stop(). Waits until the runner has been reaped.
  std::string end_reason();

 private:
  RunnerProcess() = default;
  void read_loop();
  void finish(const std::string &reason);

  pid_t pid_ = -1;
  int fd_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::mutex write_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable reaped_;
  std::map<uint32_t, std::shared_ptr<RunnerInbox>> calls_;
  uint32_t next_call_ = 1;
  bool ended_ = false;
  std::string stop_reason_, end_reason_;
};

}  // namespace credplug::host
