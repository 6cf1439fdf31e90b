// The one table of credplug's error vocabulary: each kind of failure with
// the plugin ABI's status that means it, the C API's status (which is also
// the CLI's exit code, host.h), its name in JSON and its label for people.
// Every mapping (plugin status -> kind, kind -> C status or exit code, kind
// -> name) reads this table.
#include "api/error_kinds.hpp"

#include <credplug/host.h>
#include <credplug/plugin.h>
#include <credplug/host_json.hpp>

namespace credplug {
namespace {

struct Row {
  ErrorKind kind;
  int32_t plugin_status;  // CREDPLUG_ERR_* (plugin.h)
  int32_t host_status;    // CREDPLUG_HOST_ERR_* (host.h) = the CLI's exit code
  const char *name;       // "rejected": JSON "kind"/"result", credplug_status_name()
  const char *label;      // "credentials rejected": the CLI's "error (...)"
};

constexpr Row kRows[] = {
    {ErrorKind::InvalidInput, CREDPLUG_ERR_INVALID_CONFIG, CREDPLUG_HOST_ERR_INVALID_INPUT, "invalid_input",
     "invalid input"},
    {ErrorKind::Rejected, CREDPLUG_ERR_REJECTED, CREDPLUG_HOST_ERR_REJECTED, "rejected", "credentials rejected"},
    {ErrorKind::Network, CREDPLUG_ERR_NETWORK, CREDPLUG_HOST_ERR_NETWORK, "network", "network or TLS failure"},
    {ErrorKind::Provider, CREDPLUG_ERR_PROVIDER, CREDPLUG_HOST_ERR_PROVIDER, "provider", "provider error"},
    {ErrorKind::Plugin, CREDPLUG_ERR_PLUGIN, CREDPLUG_HOST_ERR_PLUGIN, "plugin", "plugin failure"},
    {ErrorKind::Reauthorize, CREDPLUG_ERR_REAUTHORIZE, CREDPLUG_HOST_ERR_REAUTHORIZE, "reauthorize",
     "needs reauthorization"},
    // No plugin reports it: the host's own (the embedder's state sink).
    {ErrorKind::StateNotSaved, -1, CREDPLUG_HOST_ERR_STATE_NOT_SAVED, "state_not_saved", "state not saved"},
};

// The statuses that are not a kind of failure.
constexpr struct {
  int32_t status;
  const char *name;
  const char *label;
} kOtherStatuses[] = {
    {CREDPLUG_HOST_OK, "ok", "success"},
    {CREDPLUG_HOST_ERR_INTERNAL, "internal", "internal error"},
    {CREDPLUG_HOST_ERR_MISUSE, "misuse", "API misuse"},
};

const Row &row(ErrorKind kind) {
  for (const auto &r : kRows)
    if (r.kind == kind) return r;
  return kRows[4];  // unreachable: every kind has a row (kRows[4] is Plugin)
}

}  // namespace

const char *to_string(ErrorKind kind) { return row(kind).label; }

int32_t status_code(ErrorKind kind) { return row(kind).host_status; }

ErrorKind kind_of_plugin_status(int32_t status) {
  for (const auto &r : kRows)
    if (r.plugin_status == status && status > 0) return r.kind;
  return ErrorKind::Plugin;  // CREDPLUG_ERR_INCOMPATIBLE, or a code no header defines: the plugin's fault
}

namespace json {
const char *kind_slug(ErrorKind kind) { return row(kind).name; }
}  // namespace json

}  // namespace credplug

extern "C" const char *credplug_status_name(int32_t status) {
  for (const auto &r : credplug::kRows)
    if (r.host_status == status) return r.name;
  for (const auto &o : credplug::kOtherStatuses)
    if (o.status == status) return o.name;
  return "unknown";
}

extern "C" const char *credplug_status_string(int32_t status) {
  for (const auto &r : credplug::kRows)
    if (r.host_status == status) return r.label;
  for (const auto &o : credplug::kOtherStatuses)
    if (o.status == status) return o.label;
  return "unknown status";
}
