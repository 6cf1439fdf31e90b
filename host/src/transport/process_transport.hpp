// Plugins run in a sandboxed runner process each (isolation "process", the
// default): a crash, a hang or hostile code in a plugin cannot take down
// the host or read its memory, files or network (docs/SANDBOX.md).
//
// Each call is a request to the runner; the host services the plugin uses
// come back as frames that the calling thread applies to its credplug_call,
// exactly as in-process calls do. A runner that dies fails the calls it was
// running ("plugin 'x' crashed (SIGSEGV) during authenticate") and is started
// again for later calls, after a backoff; instances it held are created
// again from their credential (from a replaced file's new code, if that may
// load).
#pragma once

#include "plugin/plugin_open.hpp"
#include "transport/plugin_transport.hpp"
#include "transport/runner_process.hpp"

#include <functional>
#include <memory>
#include <string>

namespace credplug::host {

// Whether a file may be loaded (a safe path, a pinned hash); throws
// std::exception saying why not.
using LoadCheck = std::function<void(const std::string &path)>;

// The plugin loaded from `path` in a runner: one runner per plugin file in
// this process, shared by the Hosts that load it with the same `check_key`
// (which names their `check`), and ended with the last that holds it.
// Loading runs within `load_deadline_ms`. A runner that ends is started again
// from the file; a replaced file (an upgrade) only if `check` passes it.
// Throws LoadError, including for a runner that crashed while loading
// ("crashed while loading (SIGABRT)").
std::shared_ptr<PluginTransport> load_in_runner(const std::string &path, const RunnerProgram &program,
                                                long load_deadline_ms, const LoadCheck &check,
                                                const std::string &check_key);

}  // namespace credplug::host
