// The one seam between the host and plugin code: a PluginTransport runs a
// plugin's functions, either in this process (InProcessTransport, for
// trusted plugins and the lowest latency) or in a sandboxed runner process
// (ProcessTransport, the default). Everything above it — discovery, the
// credential bridge, the token cache — is the same for both.
//
// Outputs travel the same way in both: the plugin's host-service calls land
// on the caller's credplug_call (host_services.cpp), which redacts, checks
// and collects them, on the calling thread.
#pragma once

#include "schema/schema_validator.hpp"
#include "transport/file_identity.hpp"
#include "transport/host_services.hpp"

#include <credplug/types.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace credplug::host {

// What the host knows of a loaded plugin, whichever side runs it.
struct PluginDescription {
  std::string id, display_name, version, path;
  uint32_t abi_major = 0, abi_minor = 0;  // negotiated
  bool has_test = false, has_refresh = false, concurrent_instance = false;
  bool has_sign = false;                  // signs each request (minor 3)
  bool has_authorize = false;             // connects a person's account (minor 4)
  bool has_revoke = false;                // disconnects it at the provider (minor 5)
  uint32_t default_token_lifetime_s = 0;  // 0: the plugin does not say
  // The runner's second wall (docs/SANDBOX.md, "Namespaces"): entered, or
  // why not ("" in-process, where no wall stands).
  bool namespaces = false;
  std::string no_namespaces;
  FileIdentity file;  // the file as it was when loaded
};

// Sign: the request is the call's `signing`; Authorize: the call's
// `authorization`.
enum class PluginOp { Authenticate, Test, Refresh, Sign, Authorize, Revoke };

const char *op_name(PluginOp op);  // "authenticate", ...

// A plugin instance; destroy() runs when it goes.
class PluginInstance {
 public:
  virtual ~PluginInstance() = default;
};

class PluginTransport {
 public:
  virtual ~PluginTransport() = default;

  virtual const PluginDescription &description() const = 0;
  virtual const CompiledSchema &schema() const = 0;
  // "process" or "in-process".
  virtual const char *isolation() const = 0;

  // create() with a credential that passed the schema. CREDPLUG_OK with
  // `out` set, or an error status with the reason on `call`. Serialised
  // with other create()/destroy() of the plugin by the transport.
  // The transport and `credential_json` must outlive `out`: an instance
  // refers to both (to be destroyed; to be made again in a runner started
  // after a crash), where a copy would cost every open credential.
  virtual int32_t create(credplug_call &call, const SecretString &credential_json,
                         std::unique_ptr<PluginInstance> &out) = 0;

  // authenticate(), test() or refresh() (the description says which exist)
  // on an instance this transport made. The caller serialises calls on one
  // instance unless the plugin allows them to run concurrently.
  virtual int32_t invoke(PluginOp op, PluginInstance &instance, credplug_call &call) = 0;
};

}  // namespace credplug::host
