#include "transport/runner_process.hpp"

#include "base/fork_guarded_mutex.hpp"
#include "base/fork_local.hpp"
#include "plugin/errno_text.hpp"
#include "secrets/logger.hpp"
#include "secrets/output_rules.hpp"
#include "transport/host_services.hpp"
#include "transport/runner_zygote.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>

#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <algorithm>
#include <cerrno>
#include <set>
#include <stdexcept>

namespace credplug::host {
namespace {

std::string signal_name(int sig) {
  const char *abbrev = sigabbrev_np(sig);
  std::string name = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  if (sig == SIGSYS) name += ": a system call its sandbox forbids";
  if (sig == SIGXCPU) name += ": its CPU time limit";
  return name;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return "crashed (" + signal_name(WTERMSIG(status)) + ")";
  if (WIFEXITED(status)) return "exited (status " + std::to_string(WEXITSTATUS(status)) + ")";
  return "ended";
}

// This process is not dumpable while a runner that asked for it lives: the
// runner runs as this user, and the kernel lets a user open a dumpable
// process's /proc/<pid>/mem and environ (a constructor read another
// plugin's client secret there). The setting before the first is restored
// after the last.
//
// The channels of this process's runners are listed too: a child of fork()
// closes them at once, so it never reads or writes its parent's runners,
// and they see their channel close when the parent ends them.
struct Runners {
  ForkGuardedMutex mutex{ForkGuardedMutex::kRunners};
  int undumpable = 0;  // runners holding this process undumpable
  int dumpable_before = 1;
  std::set<int> channels;
};

Runners &runners() {
  static auto *r = new Runners();  // never destroyed: runners may end during exit
  return *r;
}

void hold_undumpable() {
  Runners &r = runners();
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  if (r.undumpable++ == 0) {
    r.dumpable_before = prctl(PR_GET_DUMPABLE);
    prctl(PR_SET_DUMPABLE, 0);
  }
}

void release_undumpable() {
  Runners &r = runners();
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  if (--r.undumpable == 0 && r.dumpable_before > 0) prctl(PR_SET_DUMPABLE, r.dumpable_before);
}

// In a child of fork(), which has no runner yet: alone, so unlocked (fork()
// held the lock over the copy, so the list is whole).
void forget_parents_runners() {
  Runners &r = runners();
  for (int fd : r.channels) close(fd);
  r.channels.clear();
  if (r.undumpable > 0) {
    r.undumpable = 0;
    if (r.dumpable_before > 0) prctl(PR_SET_DUMPABLE, r.dumpable_before);
  }
}

[[maybe_unused]] const bool g_registered = [] {
  runners();
  return pthread_atfork(nullptr, nullptr, forget_parents_runners) == 0;
}();

}  // namespace

// Opened and closed under the lock: fork() sees both ends listed or neither,
// and never a closed number that another thread may already reuse.
bool open_runner_channel(int sv[2], int type) {
  Runners &r = runners();
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) return false;
  r.channels.insert(sv[0]);
  r.channels.insert(sv[1]);
  return true;
}

void close_runner_channel(int fd) {
  Runners &r = runners();
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  close(fd);
  r.channels.erase(fd);
}

int spawn_runner_program(const RunnerProgram &runner, const std::vector<std::string> &args, int channel, pid_t *pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, channel, runner::kChannelFd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  if (!runner.keep_stderr) posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char *> argv{const_cast<char *>(runner.path.c_str())};
  for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  char *envp[] = {nullptr};  // nothing of the host's environment reaches plugin code
  const int rc = posix_spawn(pid, runner.path.c_str(), &actions, &attr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc;
}

std::shared_ptr<RunnerProcess> RunnerProcess::start(const RunnerProgram &runner, const std::string &plugin_path) {
  const std::string &runner_path = runner.path;
  // Before the plugin's code exists: a spare runner has none until it is
  // told its file.
  if (!runner.keep_host_dumpable) hold_undumpable();
  pid_t pid = -1;
  int fd = -1;
  if (!take_spare_runner(runner, plugin_path, &pid, &fd)) {
    int sv[2];
    if (!open_runner_channel(sv, SOCK_STREAM)) {
      const int err = errno;
      if (!runner.keep_host_dumpable) release_undumpable();
      throw std::runtime_error(std::string("socketpair: ") + errno_text(err));
    }
    pid = start_from_zygote(runner, plugin_path, sv[1]);
    int rc = 0;
    if (pid <= 0) {
      std::vector<std::string> args{"--protocol", std::to_string(runner::kProtocolVersion)};
      if (!runner.namespaces) args.emplace_back("--no-namespaces");
      args.push_back(plugin_path);
      rc = spawn_runner_program(runner, args, sv[1], &pid);
    }
    close_runner_channel(sv[1]);
    if (rc != 0) {
      if (!runner.keep_host_dumpable) release_undumpable();
      close_runner_channel(sv[0]);
      throw std::runtime_error("cannot start the plugin runner " + runner_path + " (" + errno_text(rc) +
                               "); reinstall credplug, or run plugins you trust with --isolation in-process");
    }
    fd = sv[0];
  }

  std::shared_ptr<RunnerProcess> r(new RunnerProcess());
  r->pid_ = pid;
  r->fd_ = fd;
  r->reader_ = std::make_unique<runner::FrameReader>(fd);
  r->started_ = Clock::now();
  r->log_refilled_ = r->started_;
  r->label_ = "[" + displayable(plugin_path.substr(plugin_path.rfind('/') + 1), 128) + "] ";
  r->calls_[0] = std::make_shared<RunnerInbox>();
  r->keeps_host_undumpable_ = !runner.keep_host_dumpable;
  r->generation_ = fork_generation();
  return r;
}

RunnerProcess::~RunnerProcess() {
  if (generation_ != fork_generation()) return;  // the parent's: not this process's to end
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ended_) finish_locked("was closed");
  }
  if (fd_ >= 0) close_runner_channel(fd_);
  if (keeps_host_undumpable_) release_undumpable();  // reaped: it reads nothing more
}

void RunnerProcess::set_label(const std::string &label) {
  std::lock_guard<std::mutex> lock(mutex_);
  label_ = "[" + label + "] ";
}

std::shared_ptr<RunnerInbox> RunnerProcess::open_call(uint32_t &id) {
  auto inbox = std::make_shared<RunnerInbox>();
  std::lock_guard<std::mutex> lock(mutex_);
  if (next_call_ == 0) next_call_ = 1;  // 0 is the process's own
  id = next_call_++;
  calls_[id] = inbox;
  return inbox;
}

void RunnerProcess::close_call(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_.erase(id);
}

bool RunnerProcess::send(runner::Msg type, uint32_t call, std::string_view payload) {
  std::lock_guard<std::mutex> lock(write_mutex_);
  return runner::write_frame(fd_, type, call, payload);
}

bool RunnerProcess::post(std::string_view call_payload) {
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_) return false;
    if (next_call_ == 0) next_call_ = 1;
    id = next_call_++;
    posted_.insert(id);
  }
  return send(runner::Msg::Call, id, call_payload);
}

void RunnerProcess::stop(const std::string &reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!ended_) finish_locked(reason);
}

bool RunnerProcess::ended() {
  if (generation_ != fork_generation()) return true;  // the parent's: its channel is closed here
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ended_ && !reading_) {
    // Idle: did it die since the last call? (It hangs up the channel.)
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
      reading_ = true;  // route_locked() may let go of the lock
      try {             // its last words first: what it logged before it went
        bool timed_out = false;
        while (auto frame = reader_->next(Clock::now(), &timed_out)) route_locked(*frame, lock);
      } catch (const runner::ProtocolError &) {
      }
      reading_ = false;
      finish_locked("");
    }
  }
  const bool ended = ended_;
  unlock_and_wake(lock);
  return ended;
}

std::string RunnerProcess::end_reason() {
  std::lock_guard<std::mutex> lock(mutex_);
  return end_reason_;
}

std::string RunnerProcess::end_detail() {
  std::lock_guard<std::mutex> lock(mutex_);
  return end_detail_;
}

void RunnerProcess::finish_locked(const std::string &why) {
  if (ended_) return;
  // Whatever it is doing, it is done; it dies at once, so reaping under the
  // lock is short, and no pid is signalled after it was reaped.
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t waited;
  do waited = waitpid(pid_, &status, 0);
  while (waited < 0 && errno == EINTR);
  // A runner stopped by the host says less by its SIGKILL than the reason.
  if (!why.empty()) {
    end_reason_ = why;
  } else if (!stopped_for_.empty()) {  // its last frame said why it ends
    end_reason_ = "was stopped by the sandbox";
    end_detail_ = ": it called " + stopped_for_ + ", which plugins may not make (see docs/SANDBOX.md)";
  } else if (waited == pid_) {
    end_reason_ = describe(status);
  } else {
    end_reason_ = "ended (its exit status is unknown: SIGCHLD is ignored in this process)";
  }
  ended_ = true;
  // The channel stays open until the destructor: a reader may be in read().
  for (auto &[id, inbox] : calls_) inbox->ready.notify_all();
}

void RunnerProcess::unlock_and_wake(std::unique_lock<std::mutex> &lock) {
  std::vector<std::shared_ptr<RunnerInbox>> woken;
  woken.swap(to_wake_);
  lock.unlock();
  for (const auto &inbox : woken) inbox->ready.notify_one();
}

void RunnerProcess::hand_over_reading_locked(const RunnerInbox *self) {
  for (const auto &other : waiting_)
    if (other.get() != self && other->frames.empty()) {
      to_wake_.push_back(other);
      return;
    }
}

bool RunnerProcess::route_locked(runner::Frame &frame, std::unique_lock<std::mutex> &lock) {
  if (frame.call == 0 && frame.type == runner::Msg::Stopped) {  // the sandbox ends it: its last frame
    runner::Decoder d(frame.payload);
    const uint32_t number = d.u32();
    const std::string name = displayable(d.str(), 64);
    stopped_for_ = (name.empty() ? "system call " + std::to_string(number)
                                 : name + " (system call " + std::to_string(number) + ")");
    return true;
  }
  const bool posted = posted_.count(frame.call) != 0;
  if (posted && frame.type != runner::Msg::Log) {
    if (frame.type == runner::Msg::HttpSend) return false;  // destroy() has no call to send with
    if (frame.type == runner::Msg::Done) posted_.erase(frame.call);
    return true;  // what a destroy() outputs goes nowhere
  }
  if ((frame.call == 0 || posted) && frame.type == runner::Msg::Log) {
    log_out_of_call_locked(frame, lock);
    return true;
  }
  auto it = calls_.find(frame.call);
  if (it == calls_.end()) return false;
  RunnerInbox &inbox = *it->second;
  // Past the call's log cap the host drops its lines anyway (host_services:
  // one more is queued, for it to say so): dropped here, never queued.
  if (frame.type == runner::Msg::Log && ++inbox.log_frames > kMaxLogLinesPerCall + 1) return true;
  inbox.queued_bytes += frame.payload.size();
  if (inbox.queued_bytes > kMaxQueuedBytesPerCall || inbox.frames.size() >= kMaxQueuedFramesPerCall)
    throw runner::ProtocolError("it queued more than " + std::to_string(kMaxQueuedFramesPerCall) + " frames or " +
                                std::to_string(kMaxQueuedBytesPerCall >> 20) + " MiB for call " +
                                std::to_string(frame.call) + " while the host was busy with it");
  inbox.frames.push_back(std::move(frame));
  to_wake_.push_back(it->second);
  return true;
}

void RunnerProcess::log_out_of_call_locked(runner::Frame &frame, std::unique_lock<std::mutex> &lock) {
  runner::Decoder d(frame.payload);
  const auto level = int32_t(d.u32());
  std::string message(d.cstr());
  d.end();
  const auto now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - log_refilled_).count();
  log_tokens_ = std::min(kOutOfCallLogBurst, log_tokens_ + seconds * kOutOfCallLogLinesPerSecond);
  log_refilled_ = now;
  std::string line;
  int32_t shown_level = level;
  if (log_tokens_ >= 1) {
    log_tokens_ -= 1;
    log_dropping_ = false;
    line = label_ + displayable(message, kMaxLogLineBytes);
  } else if (!log_dropping_) {
    log_dropping_ = true;
    shown_level = CREDPLUG_LOG_WARN;
    line = label_ + "logs more than 100 lines a second outside its calls; lines are dropped until it slows down";
  }
  if (line.empty()) return;
  // Outside the lock: the sink is the embedder's code.
  lock.unlock();
  if (const Logger *l = process_logger()) l->write(shown_level, line);
  lock.lock();
}

std::optional<runner::Frame> RunnerProcess::next(const std::shared_ptr<RunnerInbox> &inbox, Clock::time_point deadline,
                                                 bool *timed_out) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<runner::Frame> frame = next_locked(inbox, deadline, timed_out, lock);
  unlock_and_wake(lock);
  return frame;
}

std::optional<runner::Frame> RunnerProcess::next_locked(const std::shared_ptr<RunnerInbox> &waiter,
                                                        Clock::time_point deadline, bool *timed_out,
                                                        std::unique_lock<std::mutex> &lock) {
  *timed_out = false;
  RunnerInbox &inbox = *waiter;
  waiting_.push_back(waiter);
  struct Leave {
    std::vector<std::shared_ptr<RunnerInbox>> &waiting;
    RunnerInbox *self;
    ~Leave() {
      waiting.erase(std::find_if(waiting.begin(), waiting.end(), [&](const auto &w) { return w.get() == self; }));
    }
  } leave{waiting_, &inbox};
  for (;;) {
    if (!inbox.frames.empty()) {
      runner::Frame frame = std::move(inbox.frames.front());
      inbox.frames.pop_front();
      inbox.queued_bytes -= frame.payload.size();
      return frame;
    }
    if (ended_) return std::nullopt;
    if (!reading_) {
      // Read in everyone's place until a frame for this call arrives. The
      // only call waiting polls a while first (its answer is often µs
      // away); with several, the CPU is better left to the others.
      reading_ = true;
      reader_->set_spin(waiting_.size() == 1 ? runner::spin_before_sleep() : std::chrono::nanoseconds(0));
      unlock_and_wake(lock);
      std::optional<runner::Frame> frame;
      std::string violation;
      bool timeout = false;
      try {
        frame = reader_->next(deadline, &timeout);
      } catch (const runner::ProtocolError &e) {
        violation = std::string("broke the runner protocol (") + e.what() + ")";
      }
      lock.lock();
      reading_ = false;
      if (timeout) {
        hand_over_reading_locked(&inbox);
        *timed_out = true;
        return std::nullopt;
      }
      if (frame) {
        try {
          if (!route_locked(*frame, lock))
            violation = "broke the runner protocol (it sent a frame for call " + std::to_string(frame->call) +
                        ", which is not running)";
        } catch (const runner::ProtocolError &e) {
          violation = std::string("broke the runner protocol (") + e.what() + ")";
        }
        if (violation.empty()) {
          if (inbox.frames.empty()) continue;  // not ours: read on
          hand_over_reading_locked(&inbox);
          continue;  // ours: taken at the top
        }
      }
      finish_locked(violation);  // end of stream, or a violation
      continue;
    }
    if (!to_wake_.empty()) {  // not while holding the lock they need
      unlock_and_wake(lock);
      lock.lock();
      continue;
    }
    if (inbox.ready.wait_until(lock, deadline) == std::cv_status::timeout && inbox.frames.empty() && !ended_) {
      *timed_out = true;
      return std::nullopt;
    }
  }
}

}  // namespace credplug::host
