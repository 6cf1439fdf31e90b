#include "transport/runner_zygote.hpp"

#include "base/fork_local.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace credplug::host {
namespace {

// A zygote that does not answer within this is ended (it is not plugin
// code; this bounds a stopped or starved one).
constexpr int kAnswerWithinMs = 10000;

struct Zygote {
  std::mutex mutex;  // one request at a time; guards what follows
  pid_t pid = -1;
  int control = -1;
  bool answered = false;  // it has started a runner
  bool refused = false;   // it ended before its first answer: runners are spawned instead
};

struct Zygotes {
  std::mutex mutex;  // guards the map, not the zygotes
  std::map<std::string, std::unique_ptr<Zygote>> by_program;
};

// Per process: a child of fork() must not ask its parent's zygote (the
// runner would be its parent's child), and its inherited socket is closed
// with the runners' channels (open_runner_channel).
ForkLocal<Zygotes> &zygotes() {
  static auto *z = new ForkLocal<Zygotes>([] { return std::make_unique<Zygotes>(); });  // never destroyed
  return *z;
}

std::string key_of(const RunnerProgram &program) { return program.path + (program.keep_stderr ? "\n1" : "\n0"); }

Zygote &zygote_for(const RunnerProgram &program) {
  Zygotes &all = zygotes().get();
  std::lock_guard<std::mutex> lock(all.mutex);
  auto &slot = all.by_program[key_of(program)];
  if (!slot) slot = std::make_unique<Zygote>();
  return *slot;
}

bool spawn_zygote(const RunnerProgram &program, Zygote &z) {
  int sv[2];
  if (!open_runner_channel(sv, SOCK_SEQPACKET)) return false;
  pid_t pid = -1;
  // Room for each copy's command line (host/runner/zygote.hpp): a path of
  // up to PATH_MAX, and the rest.
  const int rc = spawn_runner_program(
      program, {"--protocol", std::to_string(runner::kProtocolVersion), "--zygote", std::string(4096 + 64, ' ')}, sv[1],
      &pid);
  close_runner_channel(sv[1]);
  if (rc != 0) {
    close_runner_channel(sv[0]);
    return false;
  }
  z.pid = pid;
  z.control = sv[0];
  return true;
}

// The zygote, spawned if it has none; false, for good, where it cannot be.
bool have_zygote(const RunnerProgram &program, Zygote &z) {
  if (z.control >= 0) return true;
  if (!z.refused && spawn_zygote(program, z)) return true;
  z.refused = true;
  return false;
}

void end_zygote(Zygote &z) {
  close_runner_channel(z.control);
  kill(z.pid, SIGKILL);
  while (waitpid(z.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  z.pid = -1;
  z.control = -1;
}

// One request: the runner's pid; 0 when the zygote answered that it could
// not (clone() refused: it stays); -1 when it is gone or broke the protocol.
pid_t ask(Zygote &z, const std::string &plugin_path, bool namespaces, int channel) {
  std::string request(1, namespaces ? '\1' : '\0');
  request += plugin_path;
  iovec iov{request.data(), request.size()};
  alignas(cmsghdr) char control_bytes[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_bytes;
  msg.msg_controllen = sizeof control_bytes;
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &channel, sizeof channel);
  ssize_t sent;
  do sent = sendmsg(z.control, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent != ssize_t(request.size())) return -1;
  pollfd p{z.control, POLLIN, 0};
  int ready;
  do ready = poll(&p, 1, kAnswerWithinMs);
  while (ready < 0 && errno == EINTR);
  if (ready <= 0) return -1;
  int32_t answer = 0;
  ssize_t got;
  do got = recv(z.control, &answer, sizeof answer, 0);
  while (got < 0 && errno == EINTR);
  if (got != ssize_t(sizeof answer)) return -1;
  if (answer <= 0) return 0;
  // It must be this process's child (CLONE_PARENT): else this process could
  // neither wait for it nor be sure whom it signals.
  siginfo_t info{};
  if (waitid(P_PID, id_t(answer), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
  return pid_t(answer);
}

}  // namespace

pid_t start_from_zygote(const RunnerProgram &program, const std::string &plugin_path, int channel) {
  if (!program.zygote || plugin_path.empty() || plugin_path[0] != '/') return -1;
  Zygote &z = zygote_for(program);
  std::lock_guard<std::mutex> lock(z.mutex);
  for (int attempt = 0; attempt < 2 && have_zygote(program, z); ++attempt) {
    const pid_t pid = ask(z, plugin_path, program.namespaces, channel);
    if (pid > 0) {
      z.answered = true;
      return pid;
    }
    if (pid == 0) break;  // clone() refused: a spawn is tried, the zygote stays
    // Gone or confused: ended, and started again once, unless it never
    // answered at all (it will not: this runner file has no zygote).
    end_zygote(z);
    if (!z.answered) z.refused = true;
  }
  return -1;
}

void prestart_zygote(const RunnerProgram &program) {
  if (!program.zygote) return;
  Zygote &z = zygote_for(program);
  std::lock_guard<std::mutex> lock(z.mutex);
  have_zygote(program, z);
}

}  // namespace credplug::host
