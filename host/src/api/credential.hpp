// The bridge from a Credential to its plugin instance: one credplug_call per
// plugin call (outputs, secrets, logging, HTTPS, deadline), the instance's
// call serialisation, turning a failed call into an Error, the expiry
// policy, and the token cache's fetcher. Transport-agnostic: the instance
// lives behind a PluginTransport.
#pragma once

#include "cache/metrics.hpp"
#include "cache/refresh_pool.hpp"
#include "cache/token_cache.hpp"
#include "fleet/shared_token_store.hpp"
#include "net/https_client.hpp"
#include "secrets/redactor.hpp"
#include "transport/host_services.hpp"
#include "transport/plugin_transport.hpp"

#include <credplug/host.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace credplug::host {

// What a Host and its Credentials share (Credentials may outlive the Host).
struct Shared {
  HttpsClient http;
  Logger logger;
  CachePolicy cache;
  RefreshPool refreshers;
  long plugin_deadline_ms;  // per plugin call, for runners (credplug_call::deadline_ms)
  Metrics metrics;
  std::shared_ptr<SharedTokenStore> store;  // the fleet-wide cache; null when not configured
  long lease_ms = 0;                        // how long one token request may hold the fleet's lease
  Shared(HttpOptions options, const CachePolicy &policy, long plugin_deadline_ms)
      : http(std::move(options)),
        cache(policy),
        refreshers(policy.refresh_threads),
        plugin_deadline_ms(plugin_deadline_ms) {}
};

// A plugin instance for a credential that already passed the schema, with
// `also_secret` masked in everything it says. Throws Error.
std::unique_ptr<Credential> create_credential(const std::shared_ptr<Shared> &shared,
                                              const std::shared_ptr<PluginTransport> &plugin,
                                              std::string_view credential_json,
                                              const std::vector<SecretString> &also_secret);

}  // namespace credplug::host

namespace credplug {

struct Credential::Impl {
  std::shared_ptr<host::PluginTransport> plugin;
  std::shared_ptr<host::Shared> shared;
  host::Redactor redactor;
  std::unique_ptr<host::PluginInstance> instance;
  std::unique_ptr<const host::EgressPolicy> egress;  // from the credential and the schema
  std::mutex call_mutex;                             // used unless the plugin allows concurrent calls
  std::string id;
  std::unique_ptr<host::TokenCache> cache;        // made once the instance exists
  std::unique_ptr<host::SharedCredential> fleet;  // with a shared cache

  ~Impl();
  credplug_call make_call();
  // Turns a failed plugin call into a FetchFailure (an Error) with a
  // redacted message and the server's Retry-After, if any.
  [[noreturn]] void raise(const credplug_call &call, int32_t rc, const char *what);
  // One plugin call on the instance, serialised unless the plugin allows
  // concurrent calls on one instance.
  int32_t invoke(host::PluginOp op, credplug_call &call);
  // One token request through authenticate() or refresh(), counted in the
  // Host's metrics by outcome.
  host::Fetched request_token(host::PluginOp op, std::vector<Info> *info = nullptr);
  host::Fetched request_token_once(host::PluginOp op, std::vector<Info> *info);
  int64_t expiry_ms(const credplug_call &call, int64_t sent_ms) const;
  // The cache's fetcher: through the fleet's cache when there is one.
  host::Fetched fetch(host::FetchKind kind);
  // A token request by this process.
  host::Fetched fetch_here(host::FetchKind kind);
};

}  // namespace credplug
