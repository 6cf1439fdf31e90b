// The CLI's documented exit codes (README, "Exit codes"). Scripts branch on
// them: never renumber, only add.
#pragma once

#include <credplug/host.hpp>

namespace credplug::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,      // a bug in credplug itself
  kExitUsage = 2,         // bad command line
  kExitInvalidInput = 3,  // unreadable/invalid credential, schema violation, unknown plugin
  kExitRejected = 4,      // the provider refused the credentials
  kExitNetwork = 5,       // DNS, connect, TLS verification, timeout, size cap
  kExitProvider = 6,      // the provider answered outside its contract
  kExitPlugin = 7,        // the plugin failed to load or failed itself
};

inline int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidInput: return kExitInvalidInput;
    case ErrorKind::Rejected: return kExitRejected;
    case ErrorKind::Network: return kExitNetwork;
    case ErrorKind::Provider: return kExitProvider;
    case ErrorKind::Plugin: return kExitPlugin;
  }
  return kExitInternal;
}

// Short machine names for --json: "invalid_input", "rejected", ...
}  // namespace credplug::cli
