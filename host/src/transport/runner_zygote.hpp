// Starting a plugin's runner without exec(): as a copy of a zygote runner
// (host/runner/zygote.hpp), which has loaded the runner and its libraries
// once. This process keeps one zygote per runner program, started with the
// first runner and again after a fork() (a child of fork() has its own) or
// after it ended.
#pragma once

#include "transport/runner_process.hpp"

#include <sys/types.h>

#include <string>

namespace credplug::host {

// Starts the runner for `plugin_path` as a copy of this process's zygote
// for `program`, with `channel` as its descriptor 3: a child of this
// process, as one posix_spawn() made. Its pid, or -1 where no zygote serves
// (program.zygote false; one that would not start or ended before its first
// answer: an older runner file, a ThreadSanitizer build; clone() refused):
// the caller then spawns the runner itself. Thread-safe; requests to one
// zygote are answered one at a time (a clone() each, ~0.3 ms).
pid_t start_from_zygote(const RunnerProgram &program, const std::string &plugin_path, int channel);

// Starts this process's zygote for `program` now, without waiting for it
// to be ready (a Host does, as it is made): it loads itself while the
// process goes on, and the first runner does not wait for a whole exec().
// Nothing when program.zygote is false or it runs already.
void prestart_zygote(const RunnerProgram &program);

}  // namespace credplug::host
