// The bridge from a Credential to its plugin instance: one credplug_call per
// plugin call (outputs, secrets, logging, HTTPS, deadline), the instance's
// call serialisation, turning a failed call into an Error, the expiry
// policy, and the token cache's fetcher. Transport-agnostic: the instance
// lives behind a PluginTransport.
#pragma once

#include "base/fork_guarded_mutex.hpp"
#include "base/fork_local.hpp"
#include "cache/metrics.hpp"
#include "cache/refresh_pool.hpp"
#include "cache/token_cache.hpp"
#include "fleet/shared_token_store.hpp"
#include "net/https_client.hpp"
#include "secrets/redactor.hpp"
#include "transport/host_services.hpp"
#include "transport/plugin_transport.hpp"

#include <credplug/host.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace credplug::host {

// What a Host and its Credentials share (Credentials may outlive the Host):
// fixed when the Host is made, except what each process has of its own.
struct Shared {
  HttpOptions http_options;
  Logger logger;
  EventSink on_event;  // HostOptions::on_event; may be empty
  CachePolicy cache;
  long plugin_deadline_ms;  // per plugin call, for runners (credplug_call::deadline_ms)
  long lease_ms = 0;        // how long one token request may hold the fleet's lease
  // Opens the fleet-wide cache for one process; empty when not configured.
  std::function<std::shared_ptr<SharedTokenStore>()> open_store;

  // One process's connections, threads and counters: a child of fork()
  // makes its own on first use (base/fork_local.hpp).
  struct Here {
    HttpsClient http;
    RefreshPool refreshers;
    Metrics metrics;
    std::shared_ptr<SharedTokenStore> store;  // null when not configured
    explicit Here(const Shared &shared);
  };
  Here &here() { return here_.get(); }

  Shared(HttpOptions options, const CachePolicy &policy, long plugin_deadline_ms)
      : http_options(std::move(options)),
        cache(policy),
        plugin_deadline_ms(plugin_deadline_ms),
        here_([this] { return std::make_unique<Here>(*this); }) {}

 private:
  ForkLocal<Here> here_;
};

// A plugin instance for a credential that already passed the schema, with
// `also_secret` masked in everything it says. Throws Error.
std::unique_ptr<Credential> create_credential(const std::shared_ptr<Shared> &shared,
                                              const std::shared_ptr<PluginTransport> &plugin,
                                              std::string_view credential_json, const OpenOptions &options);

// The state Credential::status() reports for a cache in `s`.
CredentialState state_of(const CacheStatus &s);

}  // namespace credplug::host

namespace credplug {

struct Credential::Impl {
  // Fixed when the credential is opened.
  std::shared_ptr<host::PluginTransport> plugin;
  std::shared_ptr<host::Shared> shared;
  std::string label_;  // OpenOptions::label
  const std::string &id() const { return plugin->description().id; }
  const std::string &label() const { return label_; }
  // Named in every log line of this credential.
  host::LogContext about() const { return {id(), label_}; }
  host::Redactor redactor;    // learns tokens; a child of fork() keeps it
  host::EgressPolicy egress;  // from the credential and the schema
  // To create the instance in a child of fork(); outlives `live` (the
  // instance refers to it).
  SecretString credential_json;
  // OpenOptions::on_state; null when none (most credentials: a pointer
  // where an empty std::function is four).
  std::unique_ptr<const std::function<void(const SecretString &)>> on_state;
  // Which token request (or state taken from the fleet) brought a secret to
  // the redactor: those of the last kTokenEpochsKept are kept, older ones
  // dropped (Redactor::retire_before), so the redactor does not grow with
  // every token for the credential's whole life.
  static constexpr uint64_t kTokenEpochsKept = 4;
  std::atomic<uint64_t> token_epoch{0};
  // The state in use stays masked whichever request brought it.
  void retire_old_token_secrets(uint64_t newest_epoch);

  // The credential's state (plugin.h, minor 4), one for all its processes'
  // calls: replaced whole, never changed in place, so a call keeps the
  // state it started with. `state_unsaved`: on_state has not taken it yet.
  mutable host::ForkGuardedMutex state_mutex{host::ForkGuardedMutex::kCredentialState};
  std::shared_ptr<const SecretString> state;  // null: none yet
  bool state_unsaved = false;

  // The plugin instance and the token cache: one per process. A child of
  // fork() creates the instance again on first use, and has its own tokens.
  struct Live {
    std::unique_ptr<host::PluginInstance> instance;
    std::unique_ptr<host::SharedCredential> fleet;  // with a shared cache
    // What token requests need, made at the first of them (tokens()): a
    // credential opened and not used yet costs none of it (issue 23).
    struct Tokens {
      template <class... Args>
      explicit Tokens(Args &&...args) : cache(std::forward<Args>(args)...) {}
      host::TokenCache cache;
      // One token request at a time on this instance, whatever asks
      // (headers(), authenticate(), test()): a refresh token is presented once.
      std::mutex token_mutex;
      std::mutex save_mutex;  // one on_state call at a time, in order
      // invoke()'s, unless the plugin allows concurrent calls (every call
      // after create() is a token request's or follows one: made here).
      std::mutex call_mutex;
    };
    std::atomic<Tokens *> tokens{nullptr};  // owned; set once, by make_tokens()
    std::once_flag tokens_made;
    Live(std::unique_ptr<host::PluginInstance> instance, std::unique_ptr<host::SharedCredential> fleet)
        : instance(std::move(instance)), fleet(std::move(fleet)) {}
    Live(const Live &) = delete;
    Live &operator=(const Live &) = delete;
    ~Live();
  };
  struct MakeLive {  // ForkLocal's maker: a pointer, where a std::function is four
    Impl *impl;
    Live operator()() const { return impl->make_live(); }
  };
  host::ForkLocal<Live, MakeLive> live{MakeLive{this}};

  // This process's instance and cache, made on first use here. Throws
  // Error (a create() that failed).
  Live &here() { return live.get(); }
  Live make_live();  // made in place (ForkLocal)
  // This process's token cache and the locks of token requests, made at
  // the first call that needs them. Throws Error as here() does.
  Live::Tokens &tokens() {
    Live &l = here();
    if (Live::Tokens *t = l.tokens.load(std::memory_order_acquire)) return *t;
    return make_tokens(l);
  }
  Live::Tokens &make_tokens(Live &l);

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
  // authenticate() and test(): a new token from the provider, never the
  // fleet's. A fleet credential whose refresh token rotates (exclusive)
  // redeems under the lease, from the fleet's newest state, and publishes
  // the token: never beside another process's redemption.
  host::Fetched authenticate_now(std::vector<Info> *info);
  int64_t expiry_ms(const credplug_call &call, int64_t sent_ms, const char **source) const;
  // The state as it stands, for a call to read (null: none).
  std::shared_ptr<const SecretString> state_now() const;
  // Makes `json` the state (already checked), unsaved, then publishes it
  // to the fleet (under the lease this process holds) and saves it.
  void adopt_state(SecretString json);
  // The fleet's state, when newer than this process's: taken, then saved.
  void adopt_fleet_state(host::SharedCredential &fleet);
  // What both adoptions share: `newer` becomes the state (unsaved), goes to
  // the fleet's record when asked, then to the sink; StateRotated is raised.
  enum class Publish { No, ToFleet };
  void replace_state(const std::shared_ptr<const SecretString> &newer, Publish publish, const char *why);
  // One authorize() call (credential_authorize.cpp): the first step's URL,
  // or the second's state. Throws Error.
  struct Authorized {
    std::string url;
    std::optional<SecretString> state;
  };
  Authorized authorize(const credplug_authorization &auth);
  // Hands an unsaved state to on_state; throws FetchFailure(StateNotSaved)
  // when the sink fails. Nothing to do when saved (or no sink).
  void save_state();
  // The cache's fetcher: through the fleet's cache when there is one.
  host::Fetched fetch(host::FetchKind kind);
  // A token request by this process.
  host::Fetched fetch_here(host::FetchKind kind);
  // A token the fleet's cache handed over, maybe another process's: its
  // secret headers' values (and a bearer's token) join the redactor as a
  // token request's would, so this process's messages mask it too.
  void learn_token_secrets(const HeaderSet &set);
  // The token cache's observer: logs what became of each token request and
  // refused token, and raises the credential events they are
  // (credential_events.cpp).
  void log_cache_event(const host::CacheEvent &event) const;
  // A credential event: counted, handed to HostOptions::on_event, and kept
  // for a test() running on this thread (credential_events.cpp).
  void raise_event(CredentialEvent::Type type, CredentialState state, std::optional<ErrorKind> kind,
                   const std::string &message) const;
  // Keeps this thread's events in `into` from now on (nullptr: stops).
  static void collect_events(std::vector<CredentialEvent> *into);
};

}  // namespace credplug
