// Starting a plugin's runner without exec(): as a copy of a zygote runner
// (host/runner/zygote.hpp), which has loaded the runner and its libraries
// once. This process keeps one zygote per runner program, started with the
// first runner and again after a fork() (a child of fork() has its own) or
// after it ended.
#pragma once

#include "transport/runner_process.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace credplug::host {

// One request to a zygote on `control` (host/runner/zygote.hpp): `flags`
// (runner::kZygoteNamespaces, runner::kZygoteSpare), the plugin file ("" for
// a spare) and `channel`, the new runner's end, passed with SCM_RIGHTS (the
// caller still owns and closes its copy). False when it was not sent whole.
bool send_zygote_request(int control, uint8_t flags, const std::string &plugin_path, int channel);

// Starts the runner for `plugin_path` as a copy of this process's zygote
// for `program`, with `channel` as its descriptor 3: a child of this
// process, as one posix_spawn() made. Its pid, or -1 where no zygote serves
// (program.zygote false; one that would not start or ended before its first
// answer: an older runner file, a ThreadSanitizer build; clone() refused):
// the caller then spawns the runner itself. Thread-safe; requests to one
// zygote are answered one at a time (a clone() each, ~0.3 ms).
pid_t start_from_zygote(const RunnerProgram &program, const std::string &plugin_path, int channel);

// A spare runner of this process's zygote for `program` (zygote.hpp), told
// to load `plugin_path` (absolute): its pid and this process's end of its
// channel, both the caller's from then on. False where there is none to
// take (program.spare false, none asked yet, or it ended while it waited):
// the caller starts one as before. Thread-safe.
bool take_spare_runner(const RunnerProgram &program, const std::string &plugin_path, pid_t *pid, int *channel);

// Asks the zygote for a spare runner where it has none (program.spare),
// without waiting for it: after each load, for the next. A spare waits in
// its namespaces (2.4 MiB resident, most of it shared with the zygote)
// until it is taken or this process ends.
void keep_spare_runner(const RunnerProgram &program);

// Starts this process's zygote for `program` now, without waiting for it
// to be ready (a Host does, as it is made): it loads itself while the
// process goes on, and the first runner does not wait for a whole exec().
// With program.spare, asks it for a spare runner too. Nothing when
// program.zygote is false or it runs already.
void prestart_zygote(const RunnerProgram &program);

}  // namespace credplug::host
