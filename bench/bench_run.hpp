// What every benchmark program shares: counting broken correctness checks
// (the run then exits 1, which the ctest smoke catches; a figure that only
// misses its target does not), timing a command, medians, and --name N
// flags.
#pragma once

#include "support/process.hpp"

#include <errno.h>  // program_invocation_short_name

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

}  // namespace credplug::bench
