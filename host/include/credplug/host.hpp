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
// Secrets: every value a plugin's schema marks "writeOnly", every token and
// every value a plugin declares secret is redacted from the messages, logs
// and info this API returns. Header values flagged secret are returned in
// clear (the caller has to attach them) inside kit::SecretString, which
// wipes them when it goes.
#pragma once

#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace credplug {

using kit::SecretString;

// What went wrong, for callers that branch on it (the CLI maps each kind to
// an exit code).
enum class ErrorKind {
  InvalidInput,  // bad credential JSON, schema violation, unknown plugin id
  Rejected,      // the provider refused the credentials
  Network,       // DNS, connect, TLS verification, timeout, size cap
  Provider,      // the provider answered outside its contract (5xx, bad JSON)
  Plugin,        // the plugin failed to load, broke the ABI, or failed itself
};
// "credentials rejected": the label people read (the CLI's "error (...)").
const char *to_string(ErrorKind kind);
// The C API's CREDPLUG_HOST_ERR_* status for a kind, which is also the CLI's
// exit code (host.h; the JSON name is json::kind_slug()). One table holds
// them all, with the plugin ABI's CREDPLUG_ERR_* for each (error_kinds.cpp).
int32_t status_code(ErrorKind kind);

// The plugin function running on the calling thread in this process
// (isolation in-process), or {nullptr, nullptr}: for a crash handler to say
// which plugin crashed, and in which operation ("create", "authenticate",
// "test", "refresh", "destroy", "load" with the file's path as `plugin`).
// Async-signal-safe. The strings live as long as the call.
struct PluginCallInProgress {
  const char *plugin;
  const char *operation;
};
PluginCallInProgress plugin_call_in_progress() noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Log levels are the plugin ABI's CREDPLUG_LOG_* (0 error .. 3 debug).
using LogSink = std::function<void(int level, const std::string &message)>;

// How Credential::headers() caches and renews tokens. Times in ms.
struct CachePolicy {
  // Subtracted from every expiry, for clock skew and request latency; capped
  // at a quarter of the token's lifetime so short-lived tokens stay usable.
  long skew_ms = 30000;
  // The refresh window: the last refresh_fraction of a token's lifetime, at
  // most max_refresh_window_ms. The first headers() call inside it starts one
  // background refresh; every caller keeps getting the still-valid token.
  double refresh_fraction = 0.2;
  long max_refresh_window_ms = 300000;
  // A token's lifetime when neither the provider's answer (expires_in), nor
  // the token (a JWT's exp), nor the plugin (default_token_lifetime_s) says.
  long default_lifetime_ms = 300000;
  // A caller with no valid token makes up to max_attempts token requests,
  // sleeping an exponential backoff with full jitter (backoff_initial_ms,
  // doubling, at most backoff_max_ms) or the server's Retry-After between
  // them, as long as one wait is at most max_wait_ms. Network failures and
  // provider errors (5xx, 429, bad answers) are retried; rejections are not.
  int max_attempts = 3;
  long backoff_initial_ms = 200;
  long backoff_max_ms = 60000;
  long max_wait_ms = 5000;
  // After a rejection (or a plugin fault) headers() repeats the error this
  // long before asking the provider again (invalidate() ends it at once).
  long rejection_hold_ms = 60000;
  // Threads that run background refreshes, shared by the Host's credentials.
  int refresh_threads = 2;
};

// Where plugin code runs (README, "Isolation"; docs/SANDBOX.md).
enum class Isolation {
  // In a sandboxed runner process per plugin: a crash, hang or hostile code
  // in a plugin fails its calls and nothing else. The default.
  Process,
  // In this process: for plugins trusted like the embedder's own code, with
  // the lowest latency. A crash in the plugin is this process's crash.
  InProcess,
};
const char *to_string(Isolation isolation);  // "process", "in-process"
std::optional<Isolation> parse_isolation(std::string_view text);

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
  // Unset: CREDPLUG_ISOLATION ("process" or "in-process") when
  // use_environment, else Isolation::Process.
  std::optional<Isolation> isolation;
  // The plugin runner executable; empty: the one installed with this
  // library (<prefix>/libexec/credplug/credplug-plugin-runner), or
  // CREDPLUG_RUNNER when set.
  std::string runner_path;
  LogSink log;  // messages are already redacted; may be empty
  int log_level = 1;  // CREDPLUG_LOG_WARN
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
};

// Latencies in fixed buckets: counts[i] fell at or below bounds_ms[i] (and
// above the bound before it); the last count is above every bound.
struct Histogram {
  std::vector<double> bounds_ms;
  std::vector<uint64_t> counts;
  uint64_t count = 0;
  double sum_ms = 0;
};

// What a Host's credentials did so far (Host::metrics()).
struct MetricsSnapshot {
  struct PluginRequests {
    std::string plugin;
    std::map<std::string, uint64_t> outcomes;  // "ok", "rejected", "network", ... -> token requests
    Histogram latency;                         // of every one of them
  };
  std::vector<PluginRequests> token_requests;  // made by this process's plugins, per plugin
  uint64_t l1_hits = 0;          // headers() served from this process's cache
  uint64_t l2_hits = 0;          // tokens taken from the shared cache instead of a request
  uint64_t misses = 0;           // headers() that found no valid token and started a request
  uint64_t refreshes_ahead = 0;  // renewals started before expiry
  uint64_t waits = 0;            // headers() that waited for a request under way
  Histogram wait_duration;
  uint64_t invalidations = 0;  // invalidate() calls (401s reported)
  bool shared_cache = false;
  uint64_t redis_errors = 0;   // shared cache commands that failed (down, slow, an error)
  uint64_t lease_waits = 0;    // waits for another process's token request
  Histogram lease_wait_duration;
};

// The Host's HTTPS traffic so far (every credential's, and the refreshes').
struct HttpStats {
  uint64_t requests = 0;            // sent, redirects counted once each
  uint64_t connections_opened = 0;  // new TCP+TLS connections; the rest reused one
};

struct PluginInfo {
  std::string id, display_name, version, path;
  uint32_t abi_major = 0, abi_minor = 0;  // the negotiated interface version
  bool has_test = false;
  bool has_refresh = false;               // renews through the provider's refresh operation
  uint32_t default_token_lifetime_s = 0;  // the plugin's, when tokens do not say; 0: none
  std::string isolation;                  // where its code runs: "process" or "in-process"
  // What its author should fix, one sentence each naming the field: a field
  // named like a secret without "writeOnly": true (treated as secret anyway).
  std::vector<std::string> warnings;
};

// A file in a plugin directory that could not be used, and why.
struct PluginProblem {
  std::string path, message;
};

struct FieldError {
  std::string pointer;  // JSON pointer of the field: "/client_id" ("" = whole document)
  std::string rule;     // the schema keyword broken: "required", "pattern", ...
  std::string message;  // for a human: names the field and what is expected
};

struct Validation {
  std::vector<FieldError> errors;
  bool ok() const { return errors.empty(); }
};

struct Header {
  std::string name;
  SecretString value;
  bool secret = false;
};

struct Info {
  std::string key;
  SecretString value;
  bool secret = false;
};

struct AuthResult {
  std::vector<Header> headers;
  std::optional<int64_t> expires_at;  // Unix seconds, when known
  std::vector<Info> info;
  long elapsed_ms = 0;
};

// The headers to attach to API requests now: one token's worth, immutable,
// shared by every caller that got it. Its secret values are wiped when the
// last holder lets go (the cache lets go when the token is replaced).
struct HeaderSet {
  std::vector<Header> headers;
  std::optional<int64_t> expires_at;  // Unix seconds, before the policy's skew
  uint64_t generation = 0;            // which token of this credential (1, 2, ...)
  // The header named `name` (case-insensitive), or nullptr.
  const Header *find(std::string_view name) const;
};
using HeadersPtr = std::shared_ptr<const HeaderSet>;

// What a credential's token cache holds and is doing, for dashboards and tests.
struct CacheStatus {
  bool has_token = false;             // a token that has not expired (after skew)
  uint64_t generation = 0;            // of the newest token, 0 before the first
  std::optional<int64_t> expires_at;  // Unix seconds, of the newest token
  uint64_t token_requests = 0;        // plugin authenticate()/refresh() calls made by the cache
  uint64_t background_refreshes = 0;  // of which started ahead of expiry
  int consecutive_failures = 0;
  std::string last_error;             // redacted; empty after a success
  std::optional<int64_t> next_attempt_ms;  // Unix ms: no token request before this
  bool refreshing = false;            // a token request is under way
};

struct TestResult {
  AuthResult auth;
  std::vector<Info> info;
  bool has_test = true;  // false: the plugin has no connection test
  long elapsed_ms = 0;   // authenticate + test
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
  // The plugin with this id; throws Error(InvalidInput) naming the known ids,
  // or Error(Plugin) when a file that should hold it failed to load.
  PluginInfo plugin(const std::string &id);
  // The plugin's credential JSON Schema text.
  std::string schema(const std::string &id);
  // Checks a credential (JSON text) against the plugin's schema. The text
  // must be valid UTF-8, nest at most 64 levels and hold no "\u0000".
  Validation validate(const std::string &id, std::string_view credential_json);
  // The same, with values to mask wherever they appear whatever the schema
  // says (the CLI passes what {"$env"}, {"$file"} and {"$stdin"} loaded).
  Validation validate(const std::string &id, std::string_view credential_json,
                      const std::vector<SecretString> &also_secret);
  // Validates, then creates a plugin instance. Throws Error(InvalidInput)
  // with every field error in the message, or Error(<kind>) from the plugin.
  // Opening the same (id, JSON text) again while a handle to it is alive
  // returns a handle to the same instance and token cache; the cache is keyed
  // by a keyed hash (HMAC-SHA-256 with a per-Host random key) of the text,
  // never the text itself.
  std::unique_ptr<Credential> open(const std::string &id, std::string_view credential_json);
  // The same, with values to mask in every message, log and output of this
  // credential whatever the schema says (see validate()).
  std::unique_ptr<Credential> open(const std::string &id, std::string_view credential_json,
                                   const std::vector<SecretString> &also_secret);

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

  // A token request now, bypassing the cache (whose token it replaces).
  // For `credplug auth`. Throws Error.
  AuthResult authenticate();
  // authenticate(), then the plugin's connection test. Throws Error.
  TestResult test();

  const std::string &plugin_id() const;
  // `text` with every secret of this credential masked.
  std::string redact(std::string_view text) const;

  struct Impl;
  explicit Credential(std::shared_ptr<Impl> impl);

 private:
  friend class Host;
  std::shared_ptr<Impl> impl_;  // shared by handles opened from the same credential
};

}  // namespace credplug
