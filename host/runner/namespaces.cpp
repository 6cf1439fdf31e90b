// Clone flags directly, not bubblewrap: bwrap is one more program to find,
// trust and exec on every runner start (a second exec, its own argument
// protocol), and it is not installed by default; what it would do for us is
// the hundred lines below, which the runner can do in its own process before
// the plugin exists.
#include "namespaces.hpp"

#include "errno_text.hpp"
#include "runner_protocol.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace credplug::runner {
namespace {

// (No cgroup namespace: its one use is hiding /proc/self/cgroup, and there
// is no /proc.)
constexpr int kNamespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;

[[noreturn]] void fail(const std::string &step) { throw std::runtime_error(step + ": " + errno_text(errno)); }

std::string unavailable_because(int err) {
  std::string said = "the kernel refused a user namespace (" + errno_text(err) + ")";
  switch (err) {
    case EPERM:
      return said +
             ": unprivileged user namespaces are turned off (kernel.unprivileged_userns_clone=0, "
             "kernel.apparmor_restrict_unprivileged_userns=1) or a container's seccomp profile refuses them";
    case ENOSPC:
      return said + ": user.max_user_namespaces is reached (0 turns them off)";
    case EUSERS:
      return said + ": user namespaces are nested 32 deep already";
    case EINVAL:
      return said + ": the runner is not a single thread (a sanitizer's), or the kernel lacks a namespace type";
    default:
      return said;
  }
}

void write_file(int dir, const char *name, const std::string &text) {
  const std::string path = std::string("/proc/self/") + name;
  const int fd = openat(dir, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("opening " + path);
  const bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
  const int err = errno;
  close(fd);
  errno = err;
  if (!ok) fail("writing " + path);
}

// The plugin sees the user and group ids it would see outside (so do the
// files it reads); supplementary groups cannot be added back.
void map_ids(uid_t uid, gid_t gid) {
  const int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self < 0) fail("opening /proc/self");
  write_file(self, "setgroups", "deny");
  write_file(self, "uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1\n");
  write_file(self, "gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1\n");
  close(self);
}

// Closes every descriptor but `keep` (and `also`, when not -1): three
// close_range() calls, where a loop of close() cost a tenth of a millisecond.
void close_all_but(int keep, int also = -1) {
  int low = std::min(keep, also < 0 ? keep : also), high = std::max(keep, also);
  if (low > 0) close_range(0, unsigned(low) - 1, 0);
  if (high > low + 1) close_range(unsigned(low) + 1, unsigned(high) - 1, 0);
  close_range(unsigned(high) + 1, ~0U, 0);
}

// Ends this process as `status` says another ended: the host reads the
// runner's exit status (a plugin killed by the filter ends by SIGSYS).
[[noreturn]] void end_like(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);  // NOLINT(concurrency-mt-unsafe): one thread here
    raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

// What the runner tells the process outside, over a pipe: a byte for the
// kind, two for the length, the bytes. One write each (at most PIPE_BUF:
// never interleaved).
enum Said : char {
  kEndedBy = 'E',  // int: the status the outside process ends with (abort())
  kNamed = 'N',    // the plugin file a spare runner was given (its command line)
};
constexpr size_t kMaxSaid = 3 + 4000;

// (Also called from a signal handler, on whatever stack the plugin's thread
// has: no buffer of the message's size.)
void say_outside(int fd, Said kind, const void *bytes, size_t n) {
  char header[3];
  n = std::min(n, kMaxSaid - sizeof header);
  header[0] = kind;
  const auto length = uint16_t(n);
  std::memcpy(header + 1, &length, sizeof length);
  iovec parts[2] = {{header, sizeof header}, {const_cast<void *>(bytes), n}};
  (void)!writev(fd, parts, 2);
}

// The process the host started: outside the PID namespace, it waits for the
// runner, and ends as it ended. It keeps the channel open (never reading
// it), so that the host sees the runner hang up only once this process has
// its exit status. What the runner says is read until it ends (the pipe's
// last writer): once plugin code runs, it may write there too, so a second
// name is not taken and a malformed message ends the listening.
[[noreturn]] void wait_outside(pid_t runner, int from_runner, const std::function<void(const char *)> &named) {
  close_all_but(from_runner, kChannelFd);
  int ended_by = -1;
  bool was_named = false, listening = true;
  std::string heard;
  char chunk[kMaxSaid];
  for (;;) {
    const ssize_t n = read(from_runner, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!listening) continue;
    heard.append(chunk, size_t(n));
    while (listening && heard.size() >= 3) {
      uint16_t length;
      std::memcpy(&length, heard.data() + 1, sizeof length);
      if (length > kMaxSaid - 3) listening = false;
      if (!listening || heard.size() < 3 + size_t(length)) break;
      const std::string body = heard.substr(3, length);
      if (heard[0] == kEndedBy && length == sizeof ended_by) {
        std::memcpy(&ended_by, body.data(), sizeof ended_by);
      } else if (heard[0] == kNamed && !was_named && body.find('\0') == std::string::npos) {
        was_named = true;
        if (named) named(body.c_str());
      } else {
        listening = false;
      }
      heard.erase(0, 3 + size_t(length));
    }
  }
  int status = 0;
  while (waitpid(runner, &status, 0) < 0 && errno == EINTR) {
  }
  if (ended_by >= 0) end_like(ended_by);
  end_like(status);
}

// The runner is its namespace's first process, and a first process ignores
// the signals it raises at itself with their default action: abort() would
// not end it. This handler says "ended by SIGABRT" to the process outside,
// and ends it. (A second process to be the first would cost a fork, a fifth
// of a millisecond, on every start.)
int g_to_outside = -1;
void aborted(int) {
  const int status = SIGABRT;  // as waitpid() reports an end by SIGABRT
  say_outside(g_to_outside, kEndedBy, &status, sizeof status);
  _exit(128 + SIGABRT);
}

bool is_dir(const std::string &path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void make_dirs(const std::string &path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) fail("making " + prefix);
    if (slash == std::string::npos) return;
  }
}

std::string parent_of(const std::string &path) { return path.substr(0, path.find_last_of('/')); }

// One entry of the view: a read-only copy of a host mount's subtree (taken
// before the new root hides the host's), or a symbolic link made again.
struct Entry {
  std::string path;  // absolute, the same inside as outside
  int tree = -1;     // open_tree() descriptor, or -1 for a link
  bool directory = false;
  std::string link;  // the link's text
};

void add(std::vector<Entry> &view, const std::string &path, uint64_t attrs) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;  // not on this system: nothing to show
  if (S_ISLNK(st.st_mode)) {
    std::string text(4096, '\0');
    const ssize_t n = readlink(path.c_str(), text.data(), text.size());
    if (n < 0) fail("reading the link " + path);
    text.resize(size_t(n));
    view.push_back(Entry{path, -1, false, text});
    return;
  }
  const int tree = open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) fail("copying the mount of " + path);
  mount_attr attr{};
  attr.attr_set = attrs;
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    fail("making " + path + " read-only");
  view.push_back(Entry{path, tree, S_ISDIR(st.st_mode), {}});
}

// A small tmpfs over an existing directory: the new root, before it is one.
// /proc first: no plugin lives there, and a spare runner mounts the root
// before it knows where its plugin is (over /tmp, it would hide a plugin
// directory there); nothing needs /proc after the view is begun.
std::string mount_new_root() {
  for (const char *base : {"/proc", "/sys", "/tmp", "/mnt", "/run", "/var/tmp", "/media", "/srv", "/opt", "/home"}) {
    if (!is_dir(base)) continue;
    if (mount("credplug-runner", base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,nr_inodes=128,mode=0755") !=
        0)
      fail(std::string("mounting the new root on ") + base);
    return base;
  }
  throw std::runtime_error("no directory to build the file view on (/tmp, /mnt, /run, ...)");
}

void place(const Entry &e, const std::string &root) {
  const std::string at = root + e.path;
  if (e.tree < 0) {
    make_dirs(parent_of(at));
    if (symlink(e.link.c_str(), at.c_str()) != 0 && errno != EEXIST) fail("making the link " + e.path);
    return;
  }
  if (e.directory) {
    make_dirs(at);
  } else {
    make_dirs(parent_of(at));
    const int fd = open(at.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST && errno != EROFS) fail("making a mount point for " + e.path);
    if (fd >= 0) close(fd);
  }
  if (move_mount(e.tree, "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) fail("mounting " + e.path);
  close(e.tree);
}

constexpr uint64_t kFiles = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
constexpr uint64_t kDevices = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;

// The new root, with the system's part of the view in place; empty before
// begin_view().
std::string g_root;

// Only what loading a plugin needs: the system's libraries, the loader's
// cache, the time zone, three devices (begin_view), and the plugin's
// directory (its own libraries beside it; where it is a link, the target's
// directory too: finish_view).
void begin_view() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("making the mounts private");
  std::vector<Entry> view;
  for (const char *top : {"/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"}) add(view, top, kFiles);
  add(view, "/etc/ld.so.cache", kFiles);
  add(view, "/etc/localtime", kFiles);
  for (const char *device : {"/dev/null", "/dev/random", "/dev/urandom"}) add(view, device, kDevices);
  g_root = mount_new_root();
  for (const Entry &e : view) place(e, g_root);
}

}  // namespace

void finish_view(const std::string &plugin_file) {
  if (g_root.empty()) throw std::runtime_error("the file view was not begun");
  std::vector<Entry> view;
  add(view, parent_of(plugin_file), kFiles);
  char resolved[PATH_MAX];
  if (realpath(plugin_file.c_str(), resolved) != nullptr && parent_of(resolved) != parent_of(plugin_file))
    add(view, parent_of(resolved), kFiles);
  for (const Entry &e : view) place(e, g_root);
  const std::string old = g_root + "/.old";
  if (mkdir(old.c_str(), 0700) != 0) fail("making " + old);
  if (syscall(SYS_pivot_root, g_root.c_str(), old.c_str()) != 0) fail("pivot_root");
  if (chdir("/") != 0) fail("chdir /");
  if (umount2("/.old", MNT_DETACH) != 0) fail("detaching the host's file system");
  if (rmdir("/.old") != 0) fail("removing /.old");
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    fail("making the new root read-only");
  g_root.clear();
}

void name_outside(const std::string &plugin_file) {
  if (g_to_outside >= 0) say_outside(g_to_outside, kNamed, plugin_file.data(), plugin_file.size());
}

NamespaceOutcome enter_namespaces(const std::function<void()> &before_view,
                                  const std::function<void(const char *)> &named_outside) {
  // The view is built with the mount API of Linux 5.12 (open_tree,
  // mount_setattr): asked before anything changes, so that an older kernel
  // means no namespaces rather than half of them.
  if (mount_setattr(-1, "", 0, nullptr, 0) != 0 && errno == ENOSYS)
    return {false, "this kernel lacks mount_setattr() (Linux 5.12)"};
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  if (unshare(kNamespaces) != 0) return {false, unavailable_because(errno)};
  map_ids(uid, gid);
  int status[2];
  if (pipe2(status, O_CLOEXEC) != 0) fail("pipe2");
  const pid_t runner = fork();
  if (runner < 0) fail("fork");
  if (runner > 0) wait_outside(runner, status[0], named_outside);
  close(status[0]);
  // The process the host started ends (killed, say): so does this one, and
  // with it the namespace.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail("PR_SET_PDEATHSIG");
  g_to_outside = status[1];
  struct sigaction on_abort {};
  on_abort.sa_handler = aborted;
  if (sigaction(SIGABRT, &on_abort, nullptr) != 0) fail("sigaction(SIGABRT)");
  if (before_view) before_view();
  begin_view();
  return {true, {}};
}

}  // namespace credplug::runner
