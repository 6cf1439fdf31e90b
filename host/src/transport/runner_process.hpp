// One plugin runner process, as the host sees it: started as a copy of the
// zygote runner (runner_zygote.hpp), or with posix_spawn where none serves
// (an empty environment, /dev/null as 0-2, the channel as 3),
// its frames routed to the calls waiting for them, and its end — reaped, and
// described ("crashed (SIGSEGV)") for every call it took down.
//
// There is no reader thread: a caller waiting for a frame reads the channel
// itself when no other caller is (leader/follower), and hands frames meant for
// others to them. A round trip then costs no thread hand-off when one call is
// running, and never more than one.
#pragma once

#include "plugin/runner_protocol.hpp"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace credplug::host {

// The frames for one call (or, as call 0, for loading). Guarded by the
// RunnerProcess's mutex.
struct RunnerInbox {
  std::condition_variable ready;  // a frame, the reader's place, or the end
  std::deque<runner::Frame> frames;
  size_t queued_bytes = 0;  // of `frames`, bounded (kMaxQueuedBytesPerCall)
  size_t log_frames = 0;    // seen for this call: past the cap, dropped unqueued
};

// What frames may wait for one call while its thread is busy (in HTTPS, or
// applying an earlier frame): past either the runner is stopped for
// breaking the protocol. A plugin thread flooding another call's id
// otherwise grew the host without bound (2.5 GB in 19 s).
constexpr size_t kMaxQueuedBytesPerCall = size_t{80} << 20;  // one 64 MiB frame fits
constexpr size_t kMaxQueuedFramesPerCall = 4096;
// A runner's log lines outside calls (init(), its threads, destroy()):
// 100 a second, bursts of 1,000; the rest dropped, saying so once a burst.
constexpr double kOutOfCallLogLinesPerSecond = 100, kOutOfCallLogBurst = 1000;

// The program a runner is, and how it is started.
struct RunnerProgram {
  std::string path;  // credplug-plugin-runner
  // Keep the runner's stderr (CREDPLUG_RUNNER_STDERR=1, for debugging a
  // plugin); else /dev/null: a plugin's stderr is not the host's to show (it
  // could print a secret).
  bool keep_stderr = false;
  // Leave this process dumpable while the runner lives (by default it is
  // not: the runner, as the same user, could read /proc/<pid>/mem).
  bool keep_host_dumpable = false;
  // Start it in its namespaces, where the kernel allows them.
  bool namespaces = true;
  // Start it as a copy of a zygote runner (runner_zygote.hpp); false, or
  // where no zygote serves: with posix_spawn. Off by default here: a test's
  // stand-in runner is no zygote.
  bool zygote = false;
  // Keep a spare runner ready, copied from the zygote before its plugin is
  // known, and start each runner from it (runner_zygote.hpp).
  bool spare = false;
};

// Spawns `runner` with `args` after its path (an empty environment,
// /dev/null as 0-2 (2 kept with keep_stderr), `channel` as descriptor 3,
// signals unblocked and at their defaults). posix_spawn's result: 0, or an
// errno value.
int spawn_runner_program(const RunnerProgram &runner, const std::vector<std::string> &args, int channel, pid_t *pid);

// A socketpair (SOCK_CLOEXEC added to `type`) whose ends a child of fork()
// closes at once (it must never read or write its parent's runners). False,
// with errno, when it cannot be made.
bool open_runner_channel(int sv[2], int type);
// Closes an end opened by open_runner_channel().
void close_runner_channel(int fd);

class RunnerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `runner` for `plugin_path`. Throws std::runtime_error when the
  // process cannot be started.
  static std::shared_ptr<RunnerProcess> start(const RunnerProgram &runner, const std::string &plugin_path);
  // Ends the runner (the channel closes) and reaps it.
  ~RunnerProcess();

  Clock::time_point started() const { return started_; }

  // What its log lines outside calls are tagged with: the plugin's id once
  // it has loaded, its file's name before.
  void set_label(const std::string &label);

  // Call 0: the handshake and loading frames.
  std::shared_ptr<RunnerInbox> loading() { return calls_.at(0); }
  // A new call id and the inbox its frames will arrive in.
  std::shared_ptr<RunnerInbox> open_call(uint32_t &id);
  void close_call(uint32_t id);

  // False when the runner is gone.
  bool send(runner::Msg type, uint32_t call, std::string_view payload);

  // Sends a Call nobody waits for (destroy()): its Done is dropped, its logs
  // go to the process logger. False when the runner is gone.
  bool post(std::string_view call_payload);

  // The next frame for `inbox` (one of this runner's, from open_call() or
  // loading()); nullopt when the runner has ended (end_reason() says why)
  // or, with *timed_out set, at `deadline`.
  std::optional<runner::Frame> next(const std::shared_ptr<RunnerInbox> &inbox, Clock::time_point deadline,
                                    bool *timed_out);

  // Ends the runner (SIGKILL) and reaps it, giving `reason` as why to every
  // call it takes down.
  void stop(const std::string &reason);

  // Whether it has ended (a runner that died while no call was running is
  // noticed here: the channel hangs up).
  bool ended();
  // Why it ended: "crashed (SIGSEGV)", "exited (status 1)", "was stopped
  // by the sandbox", or the reason given to stop(). Empty while it runs.
  std::string end_reason();
  // What follows the reason and where it happened ("… during authenticate"):
  // for a sandbox stop, ": it called getcwd (system call 79), which plugins
  // may not make (see docs/SANDBOX.md)"; else empty.
  std::string end_detail();

 private:
  RunnerProcess() = default;
  std::optional<runner::Frame> next_locked(const std::shared_ptr<RunnerInbox> &inbox, Clock::time_point deadline,
                                           bool *timed_out, std::unique_lock<std::mutex> &lock);
  // Reaps the runner and wakes every call; `lock` holds mutex_.
  void finish_locked(const std::string &why);
  // Lets go of `lock`, then wakes the callers routed a frame or handed the
  // reading meanwhile. Woken under the lock, each found it taken and slept
  // again: two context switches for one hand-off (a third of the host's).
  void unlock_and_wake(std::unique_lock<std::mutex> &lock);
  // Has one caller waiting without a frame woken, to read in our place.
  void hand_over_reading_locked(const RunnerInbox *self);
  // Hands a frame to its call (or logs it, for call 0); false for a frame
  // no running call is waiting for. Throws runner::ProtocolError past a
  // call's queue bounds.
  bool route_locked(runner::Frame &frame, std::unique_lock<std::mutex> &lock);
  // A log line from outside any call, rate-limited; `lock` holds mutex_.
  void log_out_of_call_locked(runner::Frame &frame, std::unique_lock<std::mutex> &lock);

  pid_t pid_ = -1;
  int fd_ = -1;
  bool keeps_host_undumpable_ = false;
  uint64_t generation_ = 0;                      // fork_generation() where it was started
  std::unique_ptr<runner::FrameReader> reader_;  // used by the caller reading (reading_)
  Clock::time_point started_;
  std::mutex write_mutex_;
  std::mutex mutex_;  // guards what follows
  std::map<uint32_t, std::shared_ptr<RunnerInbox>> calls_;
  std::set<uint32_t> posted_;                          // calls sent with post(), not yet Done
  std::vector<std::shared_ptr<RunnerInbox>> waiting_;  // callers in next() with no frame yet
  std::vector<std::shared_ptr<RunnerInbox>> to_wake_;  // once the lock is let go (unlock_and_wake)
  uint32_t next_call_ = 1;
  std::string label_;  // "[id] " for its log lines outside calls
  double log_tokens_ = kOutOfCallLogBurst;
  Clock::time_point log_refilled_;
  bool log_dropping_ = false;  // said so for this burst
  bool reading_ = false;       // a caller is reading the channel
  bool ended_ = false;
  std::string end_reason_, end_detail_;
  std::string stopped_for_;  // the system call the sandbox stopped it for, as the runner named it
};

}  // namespace credplug::host
