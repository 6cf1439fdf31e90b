#include "transport/runner_zygote.hpp"

#include "base/fork_local.hpp"
#include "plugin/runner_protocol.hpp"

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
#include <optional>

namespace credplug::host {
namespace {

// A zygote that does not answer within this is ended (it is not plugin
// code; this bounds a stopped or starved one).
constexpr int kAnswerWithinMs = 10000;

// A spare runner asked of the zygote (zygote.hpp): its pid is read from
// the zygote's answer only when it is needed, so that asking costs a send.
struct Spare {
  int channel = -1;  // this process's end
  pid_t pid = -1;    // -1: the zygote's answer is not read yet
  bool namespaces = true;
};

struct Zygote {
  std::mutex mutex;  // one request at a time; guards what follows
  pid_t pid = -1;
  int control = -1;
  bool answered = false;  // it has started a runner
  bool refused = false;   // it ended before its first answer: runners are spawned instead
  std::optional<Spare> spare;
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

void reap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void drop_spare(Zygote &z) {
  if (!z.spare) return;
  close_runner_channel(z.spare->channel);
  if (z.spare->pid > 0) reap(z.spare->pid);
  z.spare.reset();
}

// Ends a zygote that is gone or confused. One that never answered is not
// asked again (it will not: a runner file without the zygote, a
// ThreadSanitizer build); the next request spawns the runner instead.
void end_zygote(Zygote &z) {
  close_runner_channel(z.control);
  reap(z.pid);
  z.pid = -1;
  z.control = -1;
  if (!z.answered) z.refused = true;
}

// The answer to the oldest request: the runner's pid; 0 when the zygote
// answered that it could not (clone() refused: it stays); -1 when it is gone
// or broke the protocol.
pid_t read_answer(Zygote &z) {
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

// The spare's pid, read where it was not yet (answers come in the order
// of the requests). False when there is no spare any more; a zygote that
// did not answer is ended.
bool spare_answered(Zygote &z) {
  if (!z.spare) return false;
  if (z.spare->pid > 0) return true;
  const pid_t pid = read_answer(z);
  if (pid > 0) {
    z.spare->pid = pid;
    z.answered = true;
    return true;
  }
  drop_spare(z);
  if (pid < 0) end_zygote(z);
  return false;
}

// One request: the runner's pid, as read_answer().
pid_t ask(Zygote &z, const std::string &plugin_path, bool namespaces, int channel) {
  spare_answered(z);  // its answer comes first
  if (z.control < 0) return -1;
  if (!send_zygote_request(z.control, namespaces ? runner::kZygoteNamespaces : 0, plugin_path, channel)) return -1;
  return read_answer(z);
}

// Asks for a spare where there is none; `z.mutex` held. A zygote found
// gone is started again once (as start_from_zygote() does), so that a
// load served by the last spare still leaves a zygote for the next.
void ask_for_spare(const RunnerProgram &program, Zygote &z) {
  // One spare, of the namespace setting asked last: one of the other
  // setting (runners_without_namespaces) is ended (its answer read first,
  // so that answers stay in order), else the loads asking for this setting
  // would never get a spare.
  if (program.spare && z.spare && z.spare->namespaces != program.namespaces && spare_answered(z)) drop_spare(z);
  for (int attempt = 0; attempt < 2 && program.spare && !z.spare && have_zygote(program, z); ++attempt) {
    int sv[2];
    if (!open_runner_channel(sv, SOCK_STREAM)) return;
    const uint8_t flags = runner::kZygoteSpare | (program.namespaces ? runner::kZygoteNamespaces : 0);
    const bool sent = send_zygote_request(z.control, flags, "", sv[1]);
    close_runner_channel(sv[1]);
    if (sent) {
      z.spare = Spare{sv[0], -1, program.namespaces};
      return;
    }
    close_runner_channel(sv[0]);
    end_zygote(z);
  }
}

}  // namespace

bool send_zygote_request(int control, uint8_t flags, const std::string &plugin_path, int channel) {
  std::string request(1, char(flags));
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
  do sent = sendmsg(control, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  return sent == ssize_t(request.size());
}

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
    // answered at all (end_zygote()).
    end_zygote(z);
  }
  return -1;
}

bool take_spare_runner(const RunnerProgram &program, const std::string &plugin_path, pid_t *pid, int *channel) {
  if (!program.zygote || !program.spare || plugin_path.empty() || plugin_path[0] != '/') return false;
  Zygote &z = zygote_for(program);
  std::lock_guard<std::mutex> lock(z.mutex);
  if (!z.spare || z.spare->namespaces != program.namespaces || !spare_answered(z)) return false;
  siginfo_t info{};  // ended while it waited (killed, say): not taken, and reaped
  if (waitid(P_PID, id_t(z.spare->pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0) {
    drop_spare(z);
    return false;
  }
  runner::Encoder load;
  load.str(plugin_path);
  if (!runner::write_frame(z.spare->channel, runner::Msg::Load, 0, load.bytes())) {
    drop_spare(z);  // it ended while it waited
    return false;
  }
  *pid = z.spare->pid;
  *channel = z.spare->channel;
  z.spare.reset();
  return true;
}

void keep_spare_runner(const RunnerProgram &program) {
  if (!program.zygote || !program.spare) return;
  Zygote &z = zygote_for(program);
  std::lock_guard<std::mutex> lock(z.mutex);
  ask_for_spare(program, z);
}

void prestart_zygote(const RunnerProgram &program) {
  if (!program.zygote) return;
  Zygote &z = zygote_for(program);
  std::lock_guard<std::mutex> lock(z.mutex);
  if (have_zygote(program, z)) ask_for_spare(program, z);
}

}  // namespace credplug::host
