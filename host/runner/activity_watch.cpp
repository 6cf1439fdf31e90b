#include "activity_watch.hpp"

#include "runner_protocol.hpp"
#include "runner_services.hpp"

#include <credplug/plugin.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>

namespace credplug::runner {
namespace {

constexpr long kMaxThreads = 128;
constexpr double kIdleCpuBudgetSeconds = 2.0;
constexpr double kIdleCpuRefillPerSecond = 0.1;
constexpr std::chrono::milliseconds kLookEvery{100};

int g_own_stat = -1;
std::atomic<int> g_running{0};
std::atomic<unsigned long> g_started{0};  // calls begun: one begun and ended between two looks still counts

// The 20th field of /proc/<pid>/stat, counted after the command's closing
// parenthesis (a command may hold spaces and parentheses); -1 when unread.
long threads_now() {
  char text[1024];
  if (g_own_stat < 0 || lseek(g_own_stat, 0, SEEK_SET) != 0) return -1;
  const ssize_t n = read(g_own_stat, text, sizeof text - 1);
  if (n <= 0) return -1;
  text[n] = '\0';
  const char *p = std::strrchr(text, ')');
  if (p == nullptr) return -1;
  for (int field = 2; field < 20 && *p != '\0'; ++p)
    if (*p == ' ') ++field;
  return std::strtol(p, nullptr, 10);
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

[[noreturn]] void end_runner_because(const std::string &why, int status) {
  end_runner(why + ": the runner ends (a new one serves the next call)", status);
}

[[noreturn]] void watch() {
  double budget = kIdleCpuBudgetSeconds;
  double cpu_before = cpu_seconds();
  unsigned long started_before = g_started.load();
  auto looked = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(kLookEvery);
    if (const long threads = threads_now(); threads > kMaxThreads)
      end_runner_because(
          "plugin code runs " + std::to_string(threads) + " threads, more than " + std::to_string(kMaxThreads), 71);
    const auto now = std::chrono::steady_clock::now();
    const double cpu = cpu_seconds();
    const unsigned long started = g_started.load();
    const double elapsed = std::chrono::duration<double>(now - looked).count();
    budget = std::min(kIdleCpuBudgetSeconds, budget + elapsed * kIdleCpuRefillPerSecond);
    if (g_running.load() == 0 && started == started_before) {
      budget -= cpu - cpu_before;
      if (budget < 0)
        end_runner_because("plugin code kept computing with no call running (more than " +
                               std::to_string(int(kIdleCpuBudgetSeconds)) + " s of CPU, refilled at a tenth of a core)",
                           72);
    }
    cpu_before = cpu;
    started_before = started;
    looked = now;
  }
}

}  // namespace

void open_own_stat() { g_own_stat = open("/proc/self/stat", O_RDONLY | O_CLOEXEC); }

void start_activity_watch() { std::thread(watch).detach(); }

void call_begins() {
  g_started.fetch_add(1);
  g_running.fetch_add(1);
}

void call_ends() { g_running.fetch_sub(1); }

}  // namespace credplug::runner
