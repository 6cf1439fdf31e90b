#include "zygote.hpp"

#include "runner_protocol.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <initializer_list>
#include <string>

namespace credplug::runner {
namespace {

void answer(int control, int32_t value) { (void)!::send(control, &value, sizeof value, MSG_NOSIGNAL); }

// A copy of this process whose parent is this process's parent (the host).
// A raw clone(): glibc's fork() has no CLONE_PARENT. What it skips is safe
// here: the zygote is one thread holding no lock, and it registers no
// pthread_atfork handler. The copy's glibc keeps the zygote's thread id in
// its thread block; glibc 2.34 and later ask the kernel where it matters
// (raise(), abort()), and a runner in namespaces runs plugin code only in
// the process it forks with glibc's fork().
pid_t clone_for_parent() {
  return pid_t(syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

// The bytes of the command line (what /proc/<pid>/cmdline shows): argv's
// strings, one after another. Rewritten as a whole, NUL-separated, the
// rest zeroed; too long, it is cut.
class CommandLine {
 public:
  CommandLine(int argc, char **argv) {
    for (int i = 1; i < argc; ++i)
      if (argv[i] != argv[i - 1] + std::strlen(argv[i - 1]) + 1) return;  // not one block: left alone
    start_ = argv[0];
    room_ = size_t(argv[argc - 1] + std::strlen(argv[argc - 1]) - argv[0]);  // the last NUL kept
  }
  void set(std::initializer_list<const char *> words) {
    if (start_ == nullptr) return;
    std::memset(start_, 0, room_);
    size_t at = 0;
    for (const char *w : words) {
      const size_t n = std::min(std::strlen(w), room_ - at);
      std::memcpy(start_ + at, w, n);
      at += n;
      if (at >= room_) return;
      ++at;  // its NUL
    }
  }

 private:
  char *start_ = nullptr;
  size_t room_ = 0;
};

}  // namespace

void serve_as_zygote(int control, int argc, char **argv, const RunRunner &run_runner) {
#if defined(__SANITIZE_THREAD__)
  _exit(2);
#endif
  CommandLine command_line(argc, argv);
  const std::string program = argv[0], version = argc > 2 ? argv[2] : "";
  command_line.set({program.c_str(), "--protocol", version.c_str(), "--zygote"});
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_DUMPABLE, 0);
  prctl(PR_SET_NAME, "credplug-zygote");  // ps (and tests) tell it from the runners
  for (;;) {
    char request[1 + PATH_MAX];
    alignas(cmsghdr) char control_bytes[CMSG_SPACE(sizeof(int) * 4)];
    iovec iov{request, sizeof request};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control_bytes;
    msg.msg_controllen = sizeof control_bytes;
    const ssize_t n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);  // the host is gone
    int channel = -1, extra = 0;
    for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (channel < 0)
          channel = fd;
        else
          close(fd), ++extra;
      }
    }
    const std::string path(request + 1, n > 1 ? size_t(n - 1) : 0);
    const bool namespaces = (request[0] & kZygoteNamespaces) != 0, spare = (request[0] & kZygoteSpare) != 0;
    const bool named = !path.empty() && path[0] == '/' && path.find('\0') == std::string::npos;
    if (channel < 0 || extra > 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || n < 1 ||
        (request[0] & ~(kZygoteNamespaces | kZygoteSpare)) != 0 || (spare ? n != 1 : !named)) {
      if (channel >= 0) close(channel);
      answer(control, -EPROTO);
      continue;
    }
    const pid_t pid = clone_for_parent();
    if (pid == 0) {
      // The runner, as if the host had spawned it: dumpable (its namespaces
      // need to write its own /proc/self/uid_map), its channel on 3 in
      // place of the zygote's socket.
      prctl(PR_SET_DUMPABLE, 1);
      prctl(PR_SET_NAME, "credplug-plugin");  // the name exec() gave runners
      const auto name_as = [&](const char *file) {
        if (namespaces)
          command_line.set({program.c_str(), "--protocol", version.c_str(), file});
        else
          command_line.set({program.c_str(), "--protocol", version.c_str(), "--no-namespaces", file});
      };
      if (spare)
        command_line.set({program.c_str(), "--protocol", version.c_str(), "--spare"});
      else
        name_as(path.c_str());
      signal(SIGPIPE, SIG_DFL);
      if (dup2(channel, kChannelFd) != kChannelFd) _exit(1);
      close(channel);
      _exit(run_runner(spare ? nullptr : path.c_str(), namespaces, name_as));
    }
    const int32_t result = pid > 0 ? int32_t(pid) : -int32_t(errno);
    close(channel);
    answer(control, result);
  }
}

}  // namespace credplug::runner
