// The error vocabulary's one table: a plugin's status, the kind, the C API's
// status, the CLI's exit code and the JSON name agree for every kind.
#include "api/error_kinds.hpp"

#include "exit_codes.hpp"

#include <credplug/host.h>
#include <credplug/plugin.h>
#include <credplug/host_json.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace credplug;

TEST_CASE("errors: each plugin status, kind, C status, exit code and name line up") {
  struct Expect {
    int32_t plugin_status;
    ErrorKind kind;
    int32_t host_status;
    const char *name;
  };
  const Expect rows[] = {
      {CREDPLUG_ERR_INVALID_CONFIG, ErrorKind::InvalidInput, CREDPLUG_HOST_ERR_INVALID_INPUT, "invalid_input"},
      {CREDPLUG_ERR_REJECTED, ErrorKind::Rejected, CREDPLUG_HOST_ERR_REJECTED, "rejected"},
      {CREDPLUG_ERR_NETWORK, ErrorKind::Network, CREDPLUG_HOST_ERR_NETWORK, "network"},
      {CREDPLUG_ERR_PROVIDER, ErrorKind::Provider, CREDPLUG_HOST_ERR_PROVIDER, "provider"},
      {CREDPLUG_ERR_PLUGIN, ErrorKind::Plugin, CREDPLUG_HOST_ERR_PLUGIN, "plugin"},
      {CREDPLUG_ERR_REAUTHORIZE, ErrorKind::Reauthorize, CREDPLUG_HOST_ERR_REAUTHORIZE, "reauthorize"},
  };
  for (const auto &r : rows) {
    CAPTURE(r.name);
    CHECK(kind_of_plugin_status(r.plugin_status) == r.kind);
    CHECK(status_code(r.kind) == r.host_status);
    CHECK(cli::exit_code_for(r.kind) == r.host_status);
    CHECK(std::string(json::kind_slug(r.kind)) == r.name);
    CHECK(std::string(credplug_status_name(r.host_status)) == r.name);
    CHECK(std::string(credplug_status_string(r.host_status)) == to_string(r.kind));
  }
  // Not a kind of failure a plugin may report: the plugin's own fault.
  CHECK(kind_of_plugin_status(CREDPLUG_ERR_INCOMPATIBLE) == ErrorKind::Plugin);
  CHECK(kind_of_plugin_status(CREDPLUG_OK) == ErrorKind::Plugin);
  CHECK(kind_of_plugin_status(1234) == ErrorKind::Plugin);
  CHECK(std::string(credplug_status_name(CREDPLUG_HOST_ERR_INTERNAL)) == "internal");
  // The host's own kind: no plugin status means it, not even a negative one.
  CHECK(status_code(ErrorKind::StateNotSaved) == CREDPLUG_HOST_ERR_STATE_NOT_SAVED);
  CHECK(cli::exit_code_for(ErrorKind::StateNotSaved) == 9);
  CHECK(std::string(credplug_status_name(9)) == "state_not_saved");
  CHECK(kind_of_plugin_status(-1) == ErrorKind::Plugin);
  CHECK(std::string(credplug_status_name(10)) == "unknown");
}
