#include "sandbox.hpp"
#include "sandbox_stop.hpp"
#include "sanitizer_reports.hpp"

#include "errno_text.hpp"
#include "runner_protocol.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CREDPLUG_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CREDPLUG_SANITIZED 1
#endif
#endif

namespace credplug::runner {
namespace {

constexpr rlim_t kCpuSeconds = 3600;                   // over the runner's life; the host restarts it
constexpr rlim_t kAddressSpace = rlim_t(4) << 30;      // 4 GiB
constexpr rlim_t kOpenFiles = 64;                      // the loader's files, the channel, 0-2
constexpr rlim_t kKeptStderrBytes = rlim_t(64) << 20;  // a debugging plugin's stderr, when it goes to a file

// Whether fd 2 is a regular file: only when the host kept the runner's stderr
// (CREDPLUG_RUNNER_STDERR=1) and the host's own goes to a file.
bool stderr_is_a_file() {
  struct stat st {};
  return fstat(2, &st) == 0 && S_ISREG(st.st_mode);
}

void limit(int resource, rlim_t value, const char *name) {
  rlimit r{value, value};
  if (setrlimit(resource, &r) != 0)
    throw std::runtime_error(std::string("setrlimit(") + name + "): " + errno_text(errno));
}

// Every capability gone, from every set: a runner started by root keeps
// root's user id (and so root's files, which the filter keeps it from
// opening after load), but not the power to read another process's memory
// (CAP_SYS_PTRACE) or override permissions. Hand-written: libcap would be a
// dependency for three system calls.
void drop_capabilities() {
  for (int cap = 0; cap < 64; ++cap)  // the bounding set: needs CAP_SETPCAP, which only root has
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, none) != 0) throw std::runtime_error(std::string("capset: ") + errno_text(errno));
}

// What plugin code may call, at load and after. Everything else ends the
// runner (SIGSYS, the host told which call: sandbox_stop.hpp), except the
// requests refused below with EPERM, so that a library probing for a file or
// a socket gets an error it can report instead of dying.
constexpr int kAllowed[] = {
    // I/O on descriptors already open: the channel, and /dev/null as 0-2.
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(lseek),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    // Memory.
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    // Threads and their synchronisation.
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(get_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(membarrier),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(getppid),
    // Signals: only this process's own (abort() raises SIGABRT).
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    // Time and randomness.
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(getrandom),
    // Facts about itself.
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getrusage),
    SCMP_SYS(sysinfo),
    SCMP_SYS(uname),
    // A pipe within the process reaches nothing outside it (the sanitizers
    // probe whether memory is readable by writing it to one).
    SCMP_SYS(pipe),
    SCMP_SYS(pipe2),
    // Ending.
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

// What only the load stage adds: the dynamic loader reading the plugin file
// and its libraries (open read-only, with the conditions in install_filter),
// and the runner loading the second stage (another filter can only narrow
// what the first allows).
constexpr int kAllowedAtLoad[] = {
    SCMP_SYS(pread64),
    SCMP_SYS(getcwd),  // dlopen() of a relative path
    SCMP_SYS(seccomp),
};

constexpr int kRefused[] = {
    SCMP_SYS(creat),
    SCMP_SYS(socket),
    SCMP_SYS(socketpair),
    SCMP_SYS(connect),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept),
    SCMP_SYS(accept4),
    SCMP_SYS(execve),
    SCMP_SYS(execveat),
    SCMP_SYS(fork),
    SCMP_SYS(vfork),
    SCMP_SYS(ptrace),
    SCMP_SYS(kill),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(chdir),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(statx),
    SCMP_SYS(ioctl),
    SCMP_SYS(prctl),
    SCMP_SYS(setrlimit),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(fcntl),
};

struct Filter {
  scmp_filter_ctx ctx;
  Filter() : ctx(seccomp_init(SCMP_ACT_TRAP)) {  // SIGSYS: sandbox_stop.cpp names the call, then ends the runner
    if (ctx == nullptr) throw std::runtime_error("seccomp_init failed");
    // Every thread of the runner, not only the calling one: a thread the
    // plugin started (in init(), say) is filtered like the rest.
    if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc != 0)
      throw std::runtime_error("seccomp TSYNC: " + errno_text(-rc));
    // enter_load_sandbox() sets no-new-privileges itself; libseccomp's own
    // prctl() would be refused by the first filter when loading the second.
    if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); rc != 0)
      throw std::runtime_error("seccomp NNP: " + errno_text(-rc));
  }
  ~Filter() { seccomp_release(ctx); }
  Filter(const Filter &) = delete;
  Filter &operator=(const Filter &) = delete;
  template <typename... Args>
  void add(uint32_t action, int syscall, Args... args) {
    const scmp_arg_cmp cmp[] = {args..., scmp_arg_cmp{}};
    int rc = seccomp_rule_add_array(ctx, action, syscall, sizeof...(args), cmp);
    if (rc != 0) {
      char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall);
      std::string what = name ? name : std::to_string(syscall);
      free(name);
      throw std::runtime_error("seccomp rule for " + what + ": " + errno_text(-rc));
    }
  }
};

// Open flags that write, create or truncate: never, in either stage.
constexpr uint64_t kWritingOpenFlagBits[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, __O_TMPFILE};
constexpr uint64_t kWritingOpenFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE;

// The filter for `stage` as the kernel takes it: a BPF program, compiled by
// libseccomp and exported, so that compiling (~0.7 ms each) happens before
// the plugin is known (a spare runner does it while it waits) and loading
// it is one system call.
std::string compile_filter(Stage stage) {
  Filter f;
  for (int sc : kAllowed) f.add(SCMP_ACT_ALLOW, sc);
  for (int sc : kRefused) f.add(SCMP_ACT_ERRNO(EPERM), sc);
  // Opening files: read-only while loading (the loader maps the plugin and
  // its libraries), never after.
  if (stage == Stage::Load) {
    for (int sc : kAllowedAtLoad) f.add(SCMP_ACT_ALLOW, sc);
    f.add(SCMP_ACT_ALLOW, SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, kWritingOpenFlags, 0));
    f.add(SCMP_ACT_ALLOW, SCMP_SYS(open), SCMP_A1(SCMP_CMP_MASKED_EQ, kWritingOpenFlags, 0));
    for (uint64_t flag : kWritingOpenFlagBits) {  // any one of them: refused
      f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, flag, flag));
      f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open), SCMP_A1(SCMP_CMP_MASKED_EQ, flag, flag));
    }
  } else {
    f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat));
    f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open));
  }
  // openat2's flags sit in memory: ENOSYS, and callers fall back to openat.
  f.add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2));
  // fstat() is newfstatat(fd, "", AT_EMPTY_PATH) in glibc 2.33 on: allowed
  // on a descriptor (a number below the descriptor limit, AT_EMPTY_PATH),
  // refused on a path, which would tell a file's size and owner.
  f.add(SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), SCMP_A0(SCMP_CMP_LT, kOpenFiles),
        SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
  f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(newfstatat), SCMP_A0(SCMP_CMP_GE, kOpenFiles));
  f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(newfstatat), SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
  // New threads (clone with CLONE_THREAD), never new processes; clone3
  // cannot be filtered on its flags (they sit in memory), so it answers
  // ENOSYS and glibc falls back to clone.
  f.add(SCMP_ACT_ALLOW, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  f.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  f.add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
  // Signals to its own threads only (this process's id is final: the
  // namespaces, where entered, were entered before).
  f.add(SCMP_ACT_ALLOW, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, uint64_t(getpid())));
  // Any signal's action but SIGSYS's: the handler that reports a stop is
  // not the plugin's to replace, and it ends the runner by setting it.
  f.add(SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), SCMP_A0(SCMP_CMP_NE, SIGSYS));
  f.add(SCMP_ACT_KILL_PROCESS, SCMP_SYS(rt_sigaction), SCMP_A0(SCMP_CMP_EQ, SIGSYS));
  // Reading a limit (pthread_create reads RLIMIT_STACK), never setting one.
  f.add(SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), SCMP_A2(SCMP_CMP_EQ, 0));
  f.add(SCMP_ACT_ALLOW, SCMP_SYS(getrlimit));
  // libseccomp 2.5 exports to a descriptor only (seccomp_export_bpf_mem()
  // is 2.6's): a memory file, read back.
  const int fd = memfd_create("credplug-filter", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + errno_text(errno));
  std::string program;
  int rc = seccomp_export_bpf(f.ctx, fd);
  const off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
  if (rc == 0 && size > 0 && size % off_t(sizeof(sock_filter)) == 0) {
    program.resize(size_t(size));
    if (pread(fd, program.data(), program.size(), 0) != ssize_t(program.size())) program.clear();
  }
  close(fd);
  if (program.empty())
    throw std::runtime_error("seccomp_export_bpf: " + (rc != 0 ? errno_text(-rc) : std::string("no program")));
  return program;
}

struct CompiledFilters {
  std::string load, call;
};
CompiledFilters *g_filters = nullptr;  // made once, by prepare_sandbox()

// As seccomp_load() does with the attributes Filter sets: every thread
// (TSYNC; a thread that could not be synchronised is named by its id).
void install_filter(const std::string &program) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size() / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter *>(const_cast<char *>(program.data()));
  const long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (rc < 0) throw std::runtime_error(std::string("seccomp(SECCOMP_SET_MODE_FILTER): ") + errno_text(errno));
  if (rc > 0) throw std::runtime_error("seccomp: thread " + std::to_string(rc) + " could not take the filter");
}

}  // namespace

void prepare_sandbox() {
  if (g_filters != nullptr) return;
  prepare_sandbox_stops();
  g_filters = new CompiledFilters{compile_filter(Stage::Load), compile_filter(Stage::Call)};
}

void enter_load_sandbox() {
  prepare_sandbox();
  // A core dump would hold the credentials this process is given.
  limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
  if (prctl(PR_SET_DUMPABLE, 0) != 0) throw std::runtime_error(std::string("PR_SET_DUMPABLE: ") + errno_text(errno));
  limit(RLIMIT_CPU, kCpuSeconds, "RLIMIT_CPU");
#ifndef CREDPLUG_SANITIZED  // the sanitizers reserve terabytes of shadow address space
  limit(RLIMIT_AS, kAddressSpace, "RLIMIT_AS");
#endif
  // No file writes; but a kept stderr (CREDPLUG_RUNNER_STDERR=1; the host
  // gives /dev/null otherwise) redirected to a file is written through the
  // same limit, and 0 killed the plugin with SIGXFSZ at its first line; so is
  // a sanitizer build's report file (sanitizer_reports.hpp).
  limit(RLIMIT_FSIZE, stderr_is_a_file() || sanitizer_reports_kept() ? kKeptStderrBytes : 0, "RLIMIT_FSIZE");
  limit(RLIMIT_NOFILE, kOpenFiles, "RLIMIT_NOFILE");
  drop_capabilities();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw std::runtime_error(std::string("PR_SET_NO_NEW_PRIVS: ") + errno_text(errno));
  report_sandbox_stops();
  install_filter(g_filters->load);
}

void enter_call_sandbox() { install_filter(g_filters->call); }

}  // namespace credplug::runner
