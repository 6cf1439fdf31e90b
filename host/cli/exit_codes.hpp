// The CLI's documented exit codes (README, "Exit codes"). Scripts branch on
// them: never renumber, only add.
#pragma once

#include <credplug/host.h>
#include <credplug/host.hpp>

namespace credplug::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,       // a bug in credplug itself
  kExitUsage = 2,          // bad command line
  kExitInvalidInput = 3,   // unreadable/invalid credential, schema violation, unknown plugin
  kExitRejected = 4,       // the provider refused the credentials
  kExitNetwork = 5,        // DNS, connect, TLS verification, timeout, size cap
  kExitProvider = 6,       // the provider answered outside its contract
  kExitPlugin = 7,         // the plugin failed to load or failed itself
  kExitReauthorize = 8,    // the user must connect the account again (credplug connect)
  kExitStateNotSaved = 9,  // the credential's new state could not be written to its file
};

// An exit code is the C API's status of the same meaning (host.h).
static_assert(kExitOk == CREDPLUG_HOST_OK && kExitInternal == CREDPLUG_HOST_ERR_INTERNAL &&
              kExitInvalidInput == CREDPLUG_HOST_ERR_INVALID_INPUT && kExitRejected == CREDPLUG_HOST_ERR_REJECTED &&
              kExitNetwork == CREDPLUG_HOST_ERR_NETWORK && kExitProvider == CREDPLUG_HOST_ERR_PROVIDER &&
              kExitPlugin == CREDPLUG_HOST_ERR_PLUGIN && kExitReauthorize == CREDPLUG_HOST_ERR_REAUTHORIZE &&
              kExitStateNotSaved == CREDPLUG_HOST_ERR_STATE_NOT_SAVED);
// Usage errors are the command line's misuse, as MISUSE is the API's.
static_assert(kExitUsage == CREDPLUG_HOST_ERR_MISUSE);

inline int exit_code_for(ErrorKind kind) { return status_code(kind); }
}  // namespace credplug::cli
