#include "runner_process.hpp"

#include "host_services.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <thread>

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

}  // namespace

std::shared_ptr<RunnerProcess> RunnerProcess::start(const std::string &runner_path, const std::string &plugin_path) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::runtime_error(std::string("socketpair: ") + strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], runner::kChannelFd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  // A plugin's stderr is not the host's to show (it could print a secret);
  // CREDPLUG_RUNNER_STDERR=1 keeps it, for debugging a plugin.
  const char *keep_stderr = std::getenv("CREDPLUG_RUNNER_STDERR");
  if (keep_stderr == nullptr || std::string(keep_stderr) != "1")
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::string version = std::to_string(runner::kProtocolVersion);
  char *argv[] = {const_cast<char *>(runner_path.c_str()), const_cast<char *>("--protocol"), version.data(),
                  const_cast<char *>(plugin_path.c_str()), nullptr};
  char *envp[] = {nullptr};  // nothing of the host's environment reaches plugin code
  pid_t pid = -1;
  int rc = posix_spawn(&pid, runner_path.c_str(), &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    throw std::runtime_error("cannot start the plugin runner " + runner_path + ": " + strerror(rc));
  }

  std::shared_ptr<RunnerProcess> r(new RunnerProcess());
  r->pid_ = pid;
  r->fd_ = sv[0];
  r->started_ = std::chrono::steady_clock::now();
  r->calls_[0] = std::make_shared<RunnerInbox>();
  // The reader keeps the runner alive until the runner ends.
  std::thread([self = r] { self->read_loop(); }).detach();
  return r;
}

RunnerProcess::~RunnerProcess() {
  if (fd_ >= 0) close(fd_);
}

std::shared_ptr<RunnerInbox> RunnerProcess::open_call(uint32_t &id) {
  auto inbox = std::make_shared<RunnerInbox>();
  std::lock_guard<std::mutex> lock(mutex_);
  if (next_call_ == 0) next_call_ = 1;  // 0 is the process's own
  id = next_call_++;
  inbox->ended = ended_;
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

void RunnerProcess::stop(const std::string &reason) {
  // Under the lock that finish() reaps under: a pid is never signalled
  // after it was reaped (and perhaps reused).
  std::lock_guard<std::mutex> lock(mutex_);
  if (ended_) return;
  if (stop_reason_.empty()) stop_reason_ = reason;
  kill(pid_, SIGKILL);  // the reader sees the channel close and reaps it
}

bool RunnerProcess::ended() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

std::string RunnerProcess::end_reason() {
  std::unique_lock<std::mutex> lock(mutex_);
  reaped_.wait(lock, [this] { return ended_; });
  return end_reason_;
}

void RunnerProcess::read_loop() {
  std::string violation;
  for (;;) {
    std::optional<runner::Frame> frame;
    try {
      frame = runner::read_frame(fd_);
    } catch (const runner::ProtocolError &e) {
      violation = e.what();
      break;
    }
    if (!frame) break;
    if (frame->call == 0 && frame->type == runner::Msg::Log) {
      // init()'s logs: the process logger (redacted there is nothing to
      // redact with; shown escaped and cut like any plugin log).
      try {
        runner::Decoder d(frame->payload);
        int32_t level = int32_t(d.u32());
        std::string message(d.cstr());
        d.end();
        host_services()->log(nullptr, level, message.c_str());
        continue;
      } catch (const runner::ProtocolError &e) {
        violation = e.what();
        break;
      }
    }
    std::shared_ptr<RunnerInbox> inbox;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (auto it = calls_.find(frame->call); it != calls_.end()) inbox = it->second;
    }
    if (!inbox) {
      violation = "it sent a frame for call " + std::to_string(frame->call) + ", which is not running";
      break;
    }
    std::lock_guard<std::mutex> lock(inbox->mutex);
    inbox->frames.push_back(std::move(*frame));
    inbox->ready.notify_one();
  }
  finish(violation.empty() ? "" : "broke the runner protocol (" + violation + ")");
}

void RunnerProcess::finish(const std::string &violation) {
  std::map<uint32_t, std::shared_ptr<RunnerInbox>> calls;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!violation.empty() && stop_reason_.empty()) stop_reason_ = violation;
    // The channel closed or went bad: whatever the runner is doing, it is
    // done. It dies at once, so reaping under the lock is short.
    kill(pid_, SIGKILL);
    int status = 0;
    pid_t waited;
    do waited = waitpid(pid_, &status, 0);
    while (waited < 0 && errno == EINTR);
    // A runner stopped by the host says less by its SIGKILL than the reason.
    if (!stop_reason_.empty()) end_reason_ = stop_reason_;
    else if (waited == pid_) end_reason_ = describe(status);
    else end_reason_ = "ended (its exit status is unknown: SIGCHLD is ignored in this process)";
    ended_ = true;
    calls = calls_;
  }
  reaped_.notify_all();
  for (auto &[id, inbox] : calls) {
    std::lock_guard<std::mutex> lock(inbox->mutex);
    inbox->ended = true;
    inbox->ready.notify_all();
  }
}

}  // namespace credplug::host
