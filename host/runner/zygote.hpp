// The runner as a template (a zygote). A host process starts one per runner
// program, and each plugin's runner is then a copy of it made by clone():
// the runner and its libraries (libstdc++, libcrypto, libseccomp) are
// loaded and relocated once, where an exec() per plugin redid it every time
// (on the project's VM an exec costs 2.2 ms for /bin/true and 6.5 ms for the
// runner, most of benchmark 7a). Chromium starts its renderers the same way.
//
//   credplug-plugin-runner --protocol N --zygote ROOM
//
// ROOM is an argument of spaces: room in the command line for each copy to
// write its own there, as a spawned runner's reads (ps, /proc/<pid>/cmdline:
// the runner, --protocol N, the plugin file), so an operator still sees
// which plugin a runner serves.
//
// Requests come on descriptor 3, a SOCK_SEQPACKET socket, one message each:
// a byte of flags (kZygoteNamespaces: the runner enters its namespaces;
// kZygoteSpare: a spare runner, below) and the plugin file's absolute path
// (none for a spare), with the new runner's channel attached (SCM_RIGHTS).
// Each is answered with the new runner's pid (int32), or a negative errno
// when clone() failed or the request was malformed.
//
// A spare runner does all a runner does before it knows its plugin: it
// greets the host, enters its namespaces, begins its file view and compiles
// its filters. Then it waits for a Load frame naming the plugin file
// (runner_protocol.hpp), and goes on as a runner given that file: the host
// keeps one ready, and a plugin's runner starts in ~1.4 ms where a copy
// made for it took ~2.7 (benchmark 7a). Its command line reads --spare
// until then.
//
// Each copy is made with CLONE_PARENT: it is the host's child, not the
// zygote's, so the host waits for it, signals it and reads how it ended as
// for a runner it spawned.
// The zygote's command name is credplug-zygote; a copy takes a spawned
// runner's name and command line (credplug-plugin, the plugin file).
// The zygote runs no plugin code and holds no secret; it is not dumpable
// (a runner, as the same user, cannot open its memory to change what the
// next runners start as), and it ends when the host closes the socket.
#pragma once

#include "runner_protocol.hpp"  // kZygoteNamespaces, kZygoteSpare

#include <functional>

namespace credplug::runner {

// What a copy runs: `path` is the plugin file, or nullptr for a spare
// runner, which learns it from the host; `name_as` writes a plugin file into
// this process's command line (as a spawned runner's shows it).
using RunRunner =
    std::function<int(const char *path, bool namespaces, const std::function<void(const char *)> &name_as)>;

// Serves requests on `control` until the host closes it. In each copy,
// `run_runner` runs with the channel on kChannelFd and the zygote's socket
// closed, and its result is the copy's exit status. `argv` (`argc` long,
// from main()) is where the command line is rewritten. Never returns.
// Refuses at once (exit status 2) in a ThreadSanitizer build: a clone()
// the sanitizer does not see would copy its locks mid-use.
[[noreturn]] void serve_as_zygote(int control, int argc, char **argv, const RunRunner &run_runner);

}  // namespace credplug::runner
