#include "crash_report.hpp"

#include "exit_codes.hpp"

#include <credplug/host.hpp>

#include <signal.h>
#include <string.h>
#include <unistd.h>

namespace credplug::cli {
namespace {

const char *signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
  }
  return "a signal";
}

// Async-signal-safe: a fixed buffer, strlen, write(2), _exit.
struct Line {
  char text[1024];
  size_t len = 0;
  void add(const char *s) {
    for (size_t n = strlen(s); n > 0 && len < sizeof text; --n) text[len++] = *s++;
  }
};

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
struct sigaction g_previous[sizeof kSignals / sizeof kSignals[0]];

void on_crash(int sig) {
  const PluginCallInProgress call = plugin_call_in_progress();
  if (call.plugin == nullptr) {
    // Not in plugin code: credplug's own fault. The previous handler (the
    // default, or a sanitizer's report) takes it: a fault repeats when this
    // returns, and abort() raises again.
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
      if (kSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
    return;
  }
  Line line;
  line.add("credplug: error (plugin failure): plugin '");
  line.add(call.plugin);
  line.add("' crashed (");
  line.add(signal_name(sig));
  line.add(") during ");
  line.add(call.operation);
  line.add(", in this process (--isolation in-process); run it isolated (the default) to keep credplug alive\n");
  ssize_t ignored = write(STDERR_FILENO, line.text, line.len);
  (void)ignored;
  _exit(kExitPlugin);
}

}  // namespace

void install_crash_report() {
  // An alternate stack, so that a plugin's stack overflow on this thread is
  // reported too.
  static char alt_stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) sigaction(kSignals[i], &sa, &g_previous[i]);
}

}  // namespace credplug::cli
