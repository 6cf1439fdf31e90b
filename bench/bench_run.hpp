// What every benchmark program shares: counting broken correctness checks
// (the run then exits 1, which the ctest smoke catches; a figure that only
// misses its target does not), timing a command, medians, and --name N
// flags.
#pragma once

#include "support/process.hpp"

#include <dirent.h>
#include <errno.h>  // program_invocation_short_name
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace credplug::bench {

using Clock = std::chrono::steady_clock;

inline int &failures() {
  static int count = 0;
  return count;
}

// Records a broken correctness count or a failed command.
inline void require(bool ok, const char *what) {
  if (ok) return;
  std::fprintf(stderr, "%s: FAILED: %s\n", program_invocation_short_name, what);
  ++failures();
}

inline double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline double ms_since(Clock::time_point t0) { return ms_between(t0, Clock::now()); }

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs a command and returns how long it took. When it fails, prints what it
// said: the rows that did not pass (a many-file `credplug test`), bounded.
inline double run_ms(const std::vector<std::string> &argv, int *exit_code = nullptr) {
  auto t0 = Clock::now();
  auto r = testing::run_process(argv);
  double ms = ms_since(t0);
  if (exit_code) *exit_code = r.exit_code;
  if (r.exit_code != 0) {
    std::string said;
    std::istringstream lines(r.out + r.err);
    for (std::string line; std::getline(lines, line);)
      if (line.find(" ok ") == std::string::npos && said.size() < 2000) said += "\n    " + line;
    std::fprintf(stderr, "  %s exited %d:%s\n", argv[0].c_str(), r.exit_code, said.c_str());
  }
  return ms;
}

// Reads "--name N" pairs into the ints `flags` names; others are ignored.
inline void read_flags(int argc, char **argv, const std::map<std::string, int *> &flags) {
  for (int i = 1; i + 1 < argc; i += 2)
    if (auto it = flags.find(argv[i]); it != flags.end()) *it->second = std::atoi(argv[i + 1]);
}

// A process's VmRSS in KiB; -1 when it cannot be read.
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// The VmRSS (KiB, as rss_kib()) of each child of this process whose command
// name starts with `name`, with its descendants' added: a runner in its
// namespaces is two processes, the plugin's instances in the inner one.
// `keep`, where given, says which of those children count.
inline std::vector<long> children_rss_kib(const std::string &name, const std::function<bool(pid_t)> &keep = nullptr) {
  std::map<pid_t, std::vector<pid_t>> children;
  std::vector<pid_t> named;
  DIR *proc = opendir("/proc");
  for (dirent *e; proc && (e = readdir(proc));) {
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    const pid_t pid = std::atoi(e->d_name);
    children[ppid].push_back(pid);
    if (ppid == getpid() && line.find("(" + name) != std::string::npos && (!keep || keep(pid))) named.push_back(pid);
  }
  if (proc) closedir(proc);
  std::vector<long> out;
  for (pid_t top : named) {
    long sum = 0;
    for (std::vector<pid_t> todo{top}; !todo.empty();) {
      const pid_t pid = todo.back();
      todo.pop_back();
      sum += std::max(rss_kib(pid), 0L);
      for (pid_t child : children[pid]) todo.push_back(child);
    }
    out.push_back(sum);
  }
  return out;
}

// Whether a runner is the spare kept ready (its command line says --spare
// until it is given a plugin: docs/SANDBOX.md, "The spare runner").
inline bool is_spare(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.find(std::string("--spare")) != std::string::npos;
}

// Each plugin runner this process started (credplug-plugin*; the zygote
// they are copied from is credplug-zygote).
inline std::vector<long> runner_rss_kib() {
  return children_rss_kib("credplug-plugin", [](pid_t p) { return !is_spare(p); });
}

}  // namespace credplug::bench
