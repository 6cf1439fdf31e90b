#include "sandbox_stop.hpp"

#include "errno_text.hpp"
#include "runner_protocol.hpp"
#include "runner_services.hpp"

#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace credplug::runner {
namespace {

// x86-64 numbers its calls below 512 (and x32 ones above 512, not ours).
constexpr int kSyscalls = 512;

// The Stopped frame for each number: made before the filter, never freed.
const std::vector<std::string> *g_frames = nullptr;

void on_sigsys(int, siginfo_t *info, void *) {
  const int number = info->si_syscall;
  if (number >= 0 && number < kSyscalls) write_from_signal_handler((*g_frames)[size_t(number)]);
  // The filters kill a process that sets SIGSYS's action: this ends the
  // runner by SIGSYS. Without a filter (not reached in a runner) it ends here.
  struct sigaction original {};
  original.sa_handler = SIG_DFL;
  sigaction(SIGSYS, &original, nullptr);
  _exit(128 + SIGSYS);
}

}  // namespace

void prepare_sandbox_stops() {
  if (g_frames != nullptr) return;
  auto *frames = new std::vector<std::string>(kSyscalls);
  for (int number = 0; number < kSyscalls; ++number) {
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
    Encoder payload;
    payload.u32(uint32_t(number)).str(name != nullptr ? name : "");
    std::free(name);
    append_frame((*frames)[size_t(number)], Msg::Stopped, 0, payload.bytes());
  }
  g_frames = frames;
}

void report_sandbox_stops() {
  prepare_sandbox_stops();
  struct sigaction report {};
  report.sa_sigaction = on_sigsys;
  report.sa_flags = SA_SIGINFO;
  sigemptyset(&report.sa_mask);
  if (sigaction(SIGSYS, &report, nullptr) != 0) throw std::runtime_error("sigaction(SIGSYS): " + errno_text(errno));
}

}  // namespace credplug::runner
