// Plugins run in a sandboxed runner process each (isolation "process", the
// default): a crash, a hang or hostile code in a plugin cannot take down
// the host or read its memory, files or network (docs/SANDBOX.md).
//
// Each call is a request to the runner; the host services the plugin uses
// come back as frames that the calling thread applies to its credplug_call,
// exactly as in-process calls do. A runner that dies fails the calls it was
// running ("plugin 'x' crashed (SIGSEGV) during authenticate") and is started
// again for later calls, after a backoff; instances it held are created
// again from their credential.
#pragma once

#include "plugin/plugin_open.hpp"
#include "transport/plugin_transport.hpp"
#include "transport/runner_process.hpp"

#include <memory>
#include <string>

namespace credplug::host {

// The plugin loaded from `path` in a runner: one runner per plugin file in
// this process, shared by every Host. Loading runs within `load_deadline_ms`.
// Throws LoadError, including for a runner that crashed while loading
// ("crashed while loading (SIGABRT)").
std::shared_ptr<PluginTransport> load_in_runner(const std::string &path, const RunnerProgram &program,
                                                long load_deadline_ms);

}  // namespace credplug::host
