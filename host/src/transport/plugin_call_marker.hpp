// Which plugin function runs on this thread, for a crash handler in an
// embedding program (plugin_call_in_progress() in host.hpp): only plugins
// running in this process are marked; an isolated plugin's crash ends its
// runner, not this process.
#pragma once

#include <credplug/types.hpp>

namespace credplug::host {

// Marks the current thread for its lifetime; nests (restores the outer mark).
class PluginCallMarker {
 public:
  // Both strings must outlive the marker; `operation` is a literal.
  PluginCallMarker(const char *plugin, const char *operation) noexcept;
  ~PluginCallMarker();
  PluginCallMarker(const PluginCallMarker &) = delete;
  PluginCallMarker &operator=(const PluginCallMarker &) = delete;

 private:
  PluginCallInProgress outer_;
};

}  // namespace credplug::host
