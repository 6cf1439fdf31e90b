// Checking a plugin before it ships: what `credplug check-plugin FILE.so`
// runs, for an author's CI as much as for a person. Each check names what is
// wrong (the symbol, the descriptor field, the schema's JSON pointer, the
// leaked value's place — never the value).
#pragma once

#include <credplug/host.hpp>

#include <optional>
#include <string>
#include <vector>

namespace credplug {

struct CheckResult {
  std::string name;    // "file", "exports", "load", "descriptor", "schema", "create", "live", "concurrency", "secrets"
  std::string status;  // "pass", "fail" or "skip"
  std::vector<std::string> problems;  // when "fail": one sentence each
  std::string detail;                 // what was checked, or why it was skipped
  long elapsed_ms = 0;
};

struct PluginCheckOptions {
  std::string file;  // the plugin, credplug-<id>.so
  // A credential for the live run (authenticate, test, canary search, the
  // concurrent authenticate); without it only the offline checks run, on a
  // credential made up from the schema.
  std::optional<std::string> credential_json;
  std::vector<SecretString> credential_secrets;  // values {"$env"} & co. loaded: searched for too
  // CA file, timeouts, isolation (the default, process, keeps a crash in the
  // runner). plugin_dirs, use_environment and use_default_dir are replaced.
  HostOptions host;
  int threads = 8;  // the concurrency check's
};

struct PluginCheck {
  std::string file, id;
  std::vector<CheckResult> results;
  long elapsed_ms = 0;
  // No check failed (skipped ones say why in their detail).
  bool clean() const;
};

PluginCheck check_plugin(const PluginCheckOptions &options);

}  // namespace credplug
