// The credplug host runtime: discover and load provider plugins, validate
// credentials against their schemas, authenticate and run connection tests
// over verified HTTPS. What the `credplug` CLI is built on, and what an
// integration platform links.
//
// The hot path of an embedding platform is Credential::headers(): call it
// before every API request. It answers from a token cache (no lock shared
// between threads, no allocation) and refreshes ahead of expiry in the
// background, so callers wait on the network only when no valid token
// exists, and then many callers share one token request (single-flight).
//
//   credplug::HostOptions options;
//   options.plugin_dirs = {"/opt/credplug/plugins"};
//   credplug::Host host(options);
//   auto cred = host.open("nexla", credential_json);  // validated once
//   auto h = cred->headers();                          // cached, refreshed ahead
//   for (const auto &header : h->headers) attach(header.name, header.value.view());
//   if (api_status == 401) cred->invalidate(*h);       // next headers() re-authenticates once
//
// Threads: every member of Host and Credential may be called from any
// thread. Plugin calls on one instance are serialised unless the plugin
// declares CREDPLUG_CAP_CONCURRENT_INSTANCE.
//
// fork(): a Host and its Credentials keep working in a child of fork() (a
// pre-fork server: gunicorn --preload, uwsgi), with no call from you and
// whatever the parent's threads were doing. The child gets its own plugin
// runners, connections, threads and tokens on first use: it never uses the
// parent's locks, sockets or requests in flight, and fork() waits while a
// credplug thread is inside OpenSSL (microseconds; never a network wait).
// Not covered: a child made by a raw clone() or syscall(SYS_fork), and
// plugin code in this process (isolation in-process) that forks while it
// loads. See docs/EMBEDDING.md, "fork()".
//
// Secrets: every value a plugin's schema marks "writeOnly", every token and
// every value a plugin declares secret is redacted from the messages, logs
// and info this API returns. Header values flagged secret are returned in
// clear (the caller has to attach them) inside kit::SecretString, which
// wipes them when it goes.
#pragma once

#include <credplug/types.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct credplug_credential;  // the C API's handle (host.h), a friend of Credential

namespace credplug {

struct HostOptions {
  // Searched first, in order; then CREDPLUG_PLUGIN_PATH (':'-separated) when
  // use_environment; then the default directory beside the installation
  // (<prefix>/lib/credplug/plugins) when use_default_dir.
  std::vector<std::string> plugin_dirs;
  bool use_environment = true;  // also reads CREDPLUG_CA_FILE when ca_file is empty
  bool use_default_dir = true;
  std::string ca_file;  // PEM bundle to trust instead of the system store
  long connect_timeout_ms = 10000;
  long total_timeout_ms = 30000;
  size_t max_response_bytes = 1 << 20;
  // Plugin files are refused when they, or a directory above them, are
  // writable by every user or owned by a user other than root and this one
  // (README, "Where plugins come from"); relative entries of
  // CREDPLUG_PLUGIN_PATH are ignored. This loads them anyway (as does
  // CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS=1 when use_environment).
  bool allow_unsafe_plugin_paths = false;
  // A pin file ("<id> <sha256>" per line; `credplug pin` writes one): only
  // plugin files whose SHA-256 it pins load, checked before any of their code
  // runs. Empty: none (or CREDPLUG_PIN_FILE when use_environment).
  std::string pin_file;
  // No core dump of this process, ever: one would hold every secret in
  // memory (prctl PR_SET_DUMPABLE 0, RLIMIT_CORE 0). Process-wide; the CLI
  // always sets it.
  bool disable_core_dumps = false;
  // While a plugin runner is alive this process is not dumpable
  // (PR_SET_DUMPABLE 0, restored when the last runner ends): a runner runs
  // as this user, and a dumpable process's /proc/<pid>/mem and environ are
  // open to its user. True keeps it dumpable (to attach a debugger), and
  // gives that up.
  bool keep_dumpable_with_runners = false;
  // Runners start without their namespaces (the second wall, docs/
  // SANDBOX.md): only for a plugin that must read, while it loads, files
  // outside its view. Where the kernel refuses them, runners start without
  // them anyway, and say so.
  bool runners_without_namespaces = false;
  // Each runner is spawned (posix_spawn, exec) instead of copied from the
  // zygote runner this process keeps (docs/SANDBOX.md, "The zygote"): slower
  // to start (benchmark 7a), one process fewer.
  bool runners_without_zygote = false;
  // Each runner is copied from the zygote when its plugin is loaded instead
  // of taken from the spare the zygote keeps ready in its namespaces
  // (docs/SANDBOX.md, "The spare runner"): ~10 ms to start a runner where
  // the spare takes ~1 ms (benchmark 7a), one waiting process fewer.
  bool runners_without_spare = false;
  // Unset: CREDPLUG_ISOLATION ("process" or "in-process") when
  // use_environment, else Isolation::Process.
  std::optional<Isolation> isolation;
  // The plugin runner executable; empty: the one installed with this
  // library (<prefix>/libexec/credplug/credplug-plugin-runner), or
  // CREDPLUG_RUNNER when set.
  std::string runner_path;
  LogSink log;  // messages are already redacted; may be empty
  // Every credential event (CredentialEvent) of every credential opened from
  // this Host, as it happens, on the thread it happens on (a caller's, or a
  // background refresh): keep it short, and call no Credential from it.
  // Also counted in metrics (credplug_credential_events_total). May be empty.
  EventSink on_event;
  int log_level = 1;  // CREDPLUG_LOG_WARN
  // Text lines, or one JSON object per message (LogFormat). Unset:
  // CREDPLUG_LOG_FORMAT ("text" or "json") when use_environment, else text.
  std::optional<LogFormat> log_format;
  CachePolicy cache;
  // The fleet-wide token cache (docs/SHARED_CACHE.md): every process with
  // the same URL and key file shares each credential's token through Redis,
  // obtained by one of them at a time. redis://[user:password@]host:port/db;
  // empty: none (or CREDPLUG_SHARED_CACHE when use_environment).
  std::string shared_cache_url;
  // Required with a URL: one key per line, 64 hex characters; the first
  // seals, every one opens (or CREDPLUG_SHARED_CACHE_KEY_FILE).
  std::string shared_cache_key_file;
  // How long any one Redis command may take before Redis counts as down.
  long shared_cache_timeout_ms = 250;
  // Seals pending authorizations (begin_authorization): a key file like
  // the shared cache's (the first key seals, every one opens), so that any
  // process of the fleet completes what another began. Empty: the shared
  // cache's key file when one is set (or CREDPLUG_AUTHORIZATION_KEY_FILE),
  // else a key of this Host alone.
  std::string authorization_key_file;
};

class Credential;

// The SHA-256 of a plugin file (lower-case hex), as a pin file names it.
// Throws Error(InvalidInput) when the file cannot be read.
std::string plugin_file_sha256(const std::string &path);

class Host {
 public:
  explicit Host(HostOptions options = {});
  ~Host();
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  // Loads every plugin in the search path (once) and lists them by id.
  std::vector<PluginInfo> plugins();
  // Files found in the search path that could not be loaded, and why.
  std::vector<PluginProblem> problems();
  // Scans the search path again on the next look: new plugin files are
  // found, and replaced ones loaded afresh for credentials opened after.
  // Without it, open() and plugin() still notice a replaced file of the id
  // they look up. Credentials already open keep their plugin; in runners, a
  // replaced file (if it may load: safe path, pins) is used when their
  // runner starts again. In this process a plugin loads once: a warning
  // says its file changed.
  void reload_plugins();
  // The plugin with this id; throws Error(InvalidInput) naming the known ids,
  // or Error(Plugin) when a file that should hold it failed to load.
  PluginInfo plugin(const std::string &id);
  // The plugin's credential JSON Schema text.
  std::string schema(const std::string &id);
  // The same as a form: {"schema": draft-07, "uiSchema"} for
  // react-jsonschema-form (docs/WRITING_PLUGINS.md, "The form").
  std::string form_schema(const std::string &id);
  // Checks a credential (JSON text) against the plugin's schema. The text
  // must be valid UTF-8, nest at most 64 levels and hold no "\u0000".
  Validation validate(const std::string &id, std::string_view credential_json);
  // The same, with values to mask wherever they appear whatever the schema
  // says (the CLI passes what {"$env"}, {"$file"} and {"$stdin"} loaded).
  Validation validate(const std::string &id, std::string_view credential_json,
                      const std::vector<SecretString> &also_secret);
  // Validates, then creates a plugin instance. Throws Error(InvalidInput)
  // with every field error in the message, or Error(<kind>) from the plugin.
  // Opening the same (id, JSON text, label) again while a handle to it is
  // alive returns a handle to the same instance and token cache; the cache
  // is keyed by a keyed hash (HMAC-SHA-256 with a per-Host random key) of
  // them, never the text itself. Throws Error(InvalidInput) for a label
  // that is too long or not printable.
  std::unique_ptr<Credential> open(const std::string &id, std::string_view credential_json, const OpenOptions &options);
  std::unique_ptr<Credential> open(const std::string &id, std::string_view credential_json);  // no label
  // With values to mask (OpenOptions::also_secret), no label.
  std::unique_ptr<Credential> open(const std::string &id, std::string_view credential_json,
                                   const std::vector<SecretString> &also_secret);

  // The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636, S256)
  // for a plugin that connects a person's account (PluginInfo::
  // connects_accounts): the URL to send the person to, whom the provider
  // sends back to `redirect_uri` (exactly as registered with it: https://,
  // or http:// on a loopback address, RFC 8252 §7.3; no fragment), and the
  // pending authorization to keep until then. The credential is validated
  // as open() does. Throws Error(InvalidInput) for a redirect URI that is
  // none of these or a plugin that connects no account; else as open().
  PendingAuthorization begin_authorization(const std::string &id, std::string_view credential_json,
                                           const std::string &redirect_uri);
  // The person came back: `redirect_url` is the whole URL the provider
  // redirected to (its code and state). Checks that it answers this
  // pending authorization (its state; sealed by a key of this Host's;
  // within 10 minutes; to the same redirect URI), redeems the code with the
  // verifier, and returns the credential's state to keep (OpenOptions::
  // state). Any process with the same authorization key may complete it.
  // Throws Error(InvalidInput) for a redirect that does not answer it (a
  // forged or crossed one, an expired one), Error(Rejected) when the person
  // refused (access_denied) or the provider refused the code, else as the
  // plugin fails.
  SecretString complete_authorization(std::string_view pending, std::string_view redirect_url);

  // The directories searched, in order.
  std::vector<std::string> search_path() const;
  // Requests and connections so far: many concurrent credentials share a
  // bounded pool of kept-alive connections per origin. Thread-safe.
  HttpStats http_stats() const;
  // Counters and latency histograms of every credential opened from this
  // Host (json::metrics_json, json::metrics_prometheus). Thread-safe.
  MetricsSnapshot metrics() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class Credential {
 public:
  ~Credential();
  Credential(const Credential &) = delete;
  Credential &operator=(const Credential &) = delete;

  // The headers to attach to an API request now, from the token cache
  // (see CachePolicy). Blocks only when no valid token exists; concurrent
  // callers then share one token request and its result or error. Throws
  // Error naming what failed and when the next attempt will be made.
  HeadersPtr headers();
  // headers() when it would not wait: the cached token's headers, or null
  // when none is valid now (then no token request is started; call
  // headers()). For an event loop or an interpreter lock: never blocks on
  // the network.
  HeadersPtr cached_headers();
  // headers() without a reference: the calling thread's own copy of them,
  // valid until this thread's next headers(), cached_headers() or
  // headers_view() on this credential, or until the credential closes. The
  // fastest read (no lock, no atomic write): for a caller that attaches the
  // headers at once. Throws as headers() does, and Error(Plugin) when called
  // while the thread's thread-local objects are being destroyed.
  const HeaderSet &headers_view();
  // The API refused these headers (HTTP 401): drop that token, so the next
  // headers() authenticates anew. Only the token `rejected` came from is
  // dropped: many threads reporting the same 401 cause one new token, and a
  // newer token is kept. Invalidating tokens fresh from the provider again
  // and again backs off like a failing token request. Also ends a held
  // rejection.
  void invalidate(const HeaderSet &rejected);
  // Drops whatever token is cached now (e.g. the credential was rotated).
  void invalidate();
  CacheStatus cache_status() const;
  // Where this credential stands, for an operator: its state (idle, ok,
  // refreshing, failing, rejected), the token's expiry, the last success,
  // and the failure that holds with the next attempt. Every change of it is
  // also logged (docs/EMBEDDING.md, "Logs and status").
  CredentialStatus status() const;

  // A token request now, bypassing the cache (whose token it replaces).
  // For `credplug auth`. Throws Error.
  AuthResult authenticate();
  // authenticate(), then the plugin's connection test. Throws Error.
  TestResult test();

  // For a plugin that signs each request (PluginInfo::signs_requests; AWS
  // Signature Version 4): what to add to this one request, never cached —
  // the credential's headers (as headers() gives them, authenticating
  // first when none is valid) and the plugin's signature of `request`
  // (headers, query parameters). Thread-safe; as concurrent as headers()
  // when the plugin allows calls on one instance at once, else one
  // signature at a time per credential. Throws Error(InvalidInput) for a
  // request that is not one (a method that is no HTTP token, a URL not
  // https://, a header with a control character, a body hash that does not
  // match) or a plugin without sign(); else as headers() and the plugin.
  SignedRequest sign(const RequestToSign &request);

  // The credential's state (OpenOptions::state, or what its plugin made
  // of it since): a JSON object, secret; empty when it has none.
  SecretString state() const;
  // Replaces the credential's state with one the embedder obtained (the
  // user connected the account again): checked as OpenOptions::state
  // (Error(InvalidInput) naming the limit), taken as persisted (on_state is
  // not called for it), and ends a hold of needs_reauthorization: the next
  // headers() requests a token with it.
  void set_state(const SecretString &state);
  // Disconnects the account (PluginInfo::disconnects_accounts): the plugin
  // revokes at the provider the grant the state holds (RFC 7009), then the
  // state becomes {} (handed to on_state), the cached token is dropped
  // (fleet-wide too), and a Revoked event is raised. From then on token
  // requests fail with ErrorKind::Reauthorize until set_state() gives it a
  // new connection. Serialised with the credential's token requests. Throws
  // Error: InvalidInput for a plugin without revoke(); the provider's or
  // plugin's failure (the state is then kept: still connected); or
  // StateNotSaved (revoked, but {} not persisted: kept in memory, saved
  // again before the next call).
  void revoke();

  const std::string &plugin_id() const;
  const std::string &label() const;  // OpenOptions::label; may be empty
  // `text` with every secret of this credential masked.
  std::string redact(std::string_view text) const;

  struct Impl;
  explicit Credential(std::shared_ptr<Impl> impl);

 private:
  friend class Host;
  friend struct ::credplug_credential;  // credplug_headers_borrow()
  std::shared_ptr<Impl> impl_;          // shared by handles opened from the same credential
};

}  // namespace credplug
