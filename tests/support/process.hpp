// Running a program as a subprocess and capturing what it prints, for the
// CLI's end-to-end tests.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace credplug::testing {

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out, err;
};

// Runs argv[0] with the arguments, the current environment plus `env`
// (an empty value unsets), and `input` on stdin. Waits at most 60 s.
ProcessResult run_process(const std::vector<std::string> &argv, const std::map<std::string, std::string> &env = {},
                          const std::string &input = "");

// Starts argv[0] (searched in PATH) with stdout and stderr on /dev/null and
// returns at once; the caller kills and reaps it. Throws if it cannot start.
pid_t spawn_quiet(const std::vector<std::string> &argv);

// A TCP port on 127.0.0.1 that nothing listens on now (bound, never
// listened, closed): connections to it are refused until someone takes it.
int unused_local_port();

}  // namespace credplug::testing
