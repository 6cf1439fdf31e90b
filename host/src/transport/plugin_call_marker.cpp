#include "transport/plugin_call_marker.hpp"

namespace credplug {
namespace {
// Initial-exec TLS in the CLI (the host library is linked in statically):
// reading it in a signal handler allocates nothing.
thread_local PluginCallInProgress t_current{nullptr, nullptr};
}  // namespace

PluginCallInProgress plugin_call_in_progress() noexcept { return t_current; }

namespace host {

PluginCallMarker::PluginCallMarker(const char *plugin, const char *operation) noexcept : outer_(t_current) {
  t_current = PluginCallInProgress{plugin, operation};
}

PluginCallMarker::~PluginCallMarker() { t_current = outer_; }

}  // namespace host
}  // namespace credplug
