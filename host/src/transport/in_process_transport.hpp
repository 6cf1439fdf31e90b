// Plugins run inside this process (isolation "in-process"): for plugins the
// embedder trusts as much as its own code, and the lowest latency. A crash
// or hang in the plugin is the embedding process's.
#pragma once

#include "plugin/plugin_open.hpp"
#include "transport/plugin_transport.hpp"

#include <memory>
#include <string>

namespace credplug::host {

// The plugin loaded from `path` in this process: loaded (and initialised)
// once, shared by every Host, kept until exit — init() runs once per
// process, shutdown() at exit once no instance is alive. Throws LoadError.
std::shared_ptr<PluginTransport> load_in_process(const std::string &path);

}  // namespace credplug::host
