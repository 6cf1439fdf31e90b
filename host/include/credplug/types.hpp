// credplug's vocabulary: the values the host API takes and returns (errors,
// results, headers, metrics, cache policy), without the Host and Credential
// classes themselves. host.hpp includes it; the runtime's own layers include
// only this, never the façade.
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
  // The grant in the credential's state is gone for good (invalid_grant on
  // a refresh token): the user must connect the account again. No retries
  // until new state arrives.
  Reauthorize,
  // The credential's new state (a rotated refresh token) was not persisted:
  // the state sink failed. Kept in memory and saved again before the next
  // plugin call; nothing it came with is used until it is saved.
  StateNotSaved,
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

// What each message a LogSink receives looks like (docs/EMBEDDING.md, "Logs").
enum class LogFormat {
  // One line of text: "[plugin 'label'] what happened", or the line alone
  // when it concerns no credential.
  Text,
  // One JSON object per message, on one line, for a log shipper: time (UTC,
  // RFC 3339, ms), level, message, and where they apply plugin, credential
  // (its label), event and the event's figures.
  JsonLines,
};
const char *to_string(LogFormat format);  // "text", "json"
std::optional<LogFormat> parse_log_format(std::string_view text);

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

// Where a credential stands, for an operator (Credential::status()).
enum class CredentialState {
  Idle,        // no token requested yet
  Ok,          // the last token request succeeded (the token may since have expired unused)
  Refreshing,  // a token request is under way, and the last one did not fail
  // The last token request failed in a way that may pass (network, the
  // provider's 5xx or 429, the API refusing tokens): retried by itself
  // after next_attempt_ms, on the next headers() call.
  Failing,
  // The last token request failed in a way retrying does not fix: the
  // provider refused the credential (kind Rejected), or the plugin failed
  // (kind Plugin, InvalidInput). Nothing is asked of the provider before
  // next_attempt_ms (CachePolicy::rejection_hold_ms) or invalidate(): fix
  // the credential, or the plugin.
  Rejected,
  // The grant in the credential's state is gone for good (kind
  // Reauthorize): nothing is asked of the provider until new state arrives
  // (Credential::set_state, the user connecting the account again).
  NeedsReauthorization,
};
// "idle", "ok", "refreshing", "failing", "rejected", "needs_reauthorization"
const char *to_string(CredentialState state);
inline constexpr CredentialState kCredentialStates[] = {
    CredentialState::Idle,    CredentialState::Ok,       CredentialState::Refreshing,
    CredentialState::Failing, CredentialState::Rejected, CredentialState::NeedsReauthorization};

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
  uint64_t l1_hits = 0;                        // headers() served from this process's cache
  uint64_t l2_hits = 0;                        // tokens taken from the shared cache instead of a request
  uint64_t misses = 0;                         // headers() that found no valid token and started a request
  uint64_t refreshes_ahead = 0;                // renewals started before expiry
  uint64_t waits = 0;                          // headers() that waited for a request under way
  Histogram wait_duration;
  uint64_t invalidations = 0;  // invalidate() calls (401s reported)
  bool shared_cache = false;
  uint64_t redis_errors = 0;  // shared cache commands that failed (down, slow, an error)
  uint64_t lease_waits = 0;   // waits for another process's token request
  Histogram lease_wait_duration;
  uint64_t refused = 0;  // headers() answered with a held failure, without a request
  // Open credentials by plugin and state, now (a gauge): every state of
  // kCredentialStates for each plugin with a credential open.
  struct PluginCredentials {
    std::string plugin;
    std::map<CredentialState, uint64_t> by_state;
  };
  std::vector<PluginCredentials> credentials;
  // Credential events by plugin and type (CredentialEvent::Type's names).
  struct PluginEvents {
    std::string plugin;
    std::map<std::string, uint64_t> counts;
  };
  std::vector<PluginEvents> credential_events;
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
  bool signs_requests = false;            // has sign(): Credential::sign() (ABI minor 3)
  bool connects_accounts = false;         // has authorize(): Host::begin_authorization() (ABI minor 4)
  bool disconnects_accounts = false;      // has revoke(): Credential::revoke() (ABI minor 5)
  uint32_t default_token_lifetime_s = 0;  // the plugin's, when tokens do not say; 0: none
  std::string isolation;                  // where its code runs: "process" or "in-process"
  // What its author should fix, one sentence each naming the field: a field
  // named like a secret without "writeOnly": true (treated as secret anyway).
  std::vector<std::string> warnings;
  // Where its requests may go besides the https:// URLs its credential
  // holds (docs/SANDBOX.md, "Egress"): the origins its schema declares
  // (x-credplug-egress), and the fields whose bare host names count.
  std::vector<std::string> egress;
  std::vector<std::string> address_fields;
  // Whether its runner stands in its own namespaces (docs/SANDBOX.md,
  // "Namespaces"); when not, why: the kernel's refusal, or in-process
  // isolation.
  bool namespaces = false;
  std::string no_namespaces;
};

// A file in a plugin directory that could not be used, and why.
struct PluginProblem {
  std::string path, message;
};

struct FieldError {
  std::string pointer;  // JSON pointer of the field: "/client_id" ("" = whole document)
  std::string rule;     // the schema keyword broken: "required", "pattern", ...
  std::string message;  // for a human: names the field and what is expected
  std::string field;    // the field's name: the pointer's last token, unescaped ("" = whole document)
  std::string title;    // the schema's title for the field, for a form's label ("" when none)
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

// A query parameter a signature adds to a request's URL (a presigned URL).
struct QueryParam {
  std::string name;
  SecretString value;
  bool secret = false;
};

struct AuthResult {
  std::vector<Header> headers;
  std::optional<int64_t> expires_at;  // Unix seconds, when known
  bool never_expires = false;         // the plugin said so: kept until invalidate()
  // Where the expiry came from: "plugin" (out_expires_at), "token" (a JWT's
  // exp), "plugin_default" (its default_token_lifetime_s), "host_default"
  // (CachePolicy::default_lifetime_ms), or "never".
  std::string expiry_source;
  std::vector<Info> info;
  long elapsed_ms = 0;
};

// The headers to attach to API requests now: one token's worth, immutable,
// shared by every caller that got it. Its secret values are wiped when the
// last holder lets go (the cache lets go when the token is replaced).
struct HeaderSet {
  std::vector<Header> headers;
  std::optional<int64_t> expires_at;  // Unix seconds, before the policy's skew
  bool never_expires = false;         // the plugin said so (a static API key): kept until invalidate()
  uint64_t generation = 0;            // which token of this credential (1, 2, ...)
  // The header named `name` (case-insensitive), or nullptr.
  const Header *find(std::string_view name) const;
};
using HeadersPtr = std::shared_ptr<const HeaderSet>;

// A request to sign (Credential::sign): what the plugin's sign() sees. The
// views must stay valid during the call.
struct RequestToSign {
  std::string_view method = "GET";                           // a token; upper-cased before signing
  std::string_view url;                                      // absolute https:// URL, as it will be sent
  std::vector<std::pair<std::string, std::string>> headers;  // the request's own, as it will send them
  // The body, or only its SHA-256 (lowercase hex) when the body is streamed
  // and not at hand. Neither: an empty body. Both: they must agree.
  std::optional<std::string_view> body;
  std::string body_sha256;
  // The signing time, Unix ms; absent: now. Fix it to reproduce a signature.
  std::optional<int64_t> time_ms;
};

// What to add to that request: never cached, valid for that request only.
struct SignedRequest {
  // The credential's headers (as headers() gives them) and the
  // signature's, which win over a header of the same name.
  std::vector<Header> headers;
  std::vector<QueryParam> query;  // to append to the URL, in this order
  std::string url;                // the URL with `query` appended (secret values included: send, never show)
  std::vector<Info> info;         // what sign() reported (canonical request, ...)
  int64_t time_ms = 0;            // the signing time used
  long elapsed_ms = 0;
};

// What a credential's token cache holds and is doing, for dashboards and tests.
struct CacheStatus {
  bool has_token = false;             // a token that has not expired (after skew)
  uint64_t generation = 0;            // of the newest token, 0 before the first
  std::optional<int64_t> expires_at;  // Unix seconds, of the newest token
  bool never_expires = false;         // the newest token never expires
  uint64_t token_requests = 0;        // plugin authenticate()/refresh() calls made by the cache
  uint64_t background_refreshes = 0;  // of which started ahead of expiry
  int consecutive_failures = 0;
  std::string last_error;                   // redacted; empty after a success
  std::optional<int64_t> next_attempt_ms;   // Unix ms: no token request before this
  bool refreshing = false;                  // a token request is under way
  std::optional<int64_t> last_success_ms;   // Unix ms: when the newest token arrived
  std::optional<int64_t> failing_since_ms;  // Unix ms: the first failure of those in a row
  std::optional<ErrorKind> last_error_kind;
  bool retryable = false;  // the held failure is retried by itself (network, provider)
};

// How Host::open() opens a credential, beyond its plugin and JSON.
struct OpenOptions {
  // The embedder's name for the credential (a tenant or account id), named
  // in every log line and status of it: at most 128 bytes of printable
  // UTF-8, never a secret. Part of what makes two opens the same
  // credential (see Host::open()).
  std::string label;
  // Values to mask in every message, log and output of this credential
  // whatever the schema says (see Host::validate()).
  std::vector<SecretString> also_secret;
  // The credential's state as the embedder last persisted it (plugin.h,
  // minor 4: a refresh token the provider rotates, granted scopes): a JSON
  // object of at most 64 KiB whose every string is secret. Empty: none yet.
  // Not part of what makes two opens the same credential: a second open of
  // an open credential keeps the state (and the sink) it has.
  SecretString state;
  // Called with the credential's new state whenever its plugin changes it,
  // before anything uses what came with it (the token of the same answer):
  // persist it beside the credential, atomically, and return. Throw (any
  // std::exception; its message is shown, redacted) when it could not be
  // persisted: the new state is kept in memory, the token request fails
  // with ErrorKind::StateNotSaved, and the sink is called again before the
  // plugin's next call, which sees the new state (the old refresh token is
  // never presented again). Called from the thread that requested the
  // token, one call at a time per credential, never with a lock of
  // credplug held that another thread would wait on for long. Empty: the
  // state lives in memory only (lost with the process).
  std::function<void(const SecretString &state)> on_state;
};

// The authorization code grant under way (Host::begin_authorization).
struct PendingAuthorization {
  std::string url;  // send the person here (a redirect, a link, a browser)
  // Keep it until the person comes back (a server-side session, a cookie):
  // opaque, sealed with AES-256-GCM under the authorization key, it holds
  // the credential, the PKCE verifier and the state. Secret.
  SecretString pending;
  int64_t expires_at = 0;  // Unix seconds: 10 minutes after it began
};

// Where a credential stands (CredentialState above), for an operator.
struct CredentialStatus {
  std::string plugin_id;
  std::string label;  // as given to Host::open(); may be empty
  CredentialState state = CredentialState::Idle;
  bool has_token = false;                    // a token that has not expired (after skew)
  std::optional<int64_t> expires_at;         // Unix seconds, of the newest token
  bool never_expires = false;                // the newest token never expires
  std::optional<int64_t> last_success_ms;    // Unix ms: when the newest token arrived
  std::optional<int64_t> failing_since_ms;   // Unix ms: the first of the failures in a row
  int consecutive_failures = 0;              //
  std::optional<ErrorKind> last_error_kind;  // of the failure that holds, if one does
  std::string last_error;                    // redacted; empty when none holds
  std::optional<int64_t> next_attempt_ms;    // Unix ms: no token request before this
};

// A change in where a credential stands, as it happens (HostOptions::
// on_event, TestResult::events): for the embedder to alert on (a webhook,
// a page) what an operator would otherwise find in the logs.
struct CredentialEvent {
  enum class Type {
    Failing,               // a token request failed after success (retried by itself)
    Rejected,              // the provider refused the credential; held (Credential::status)
    NeedsReauthorization,  // its grant is gone (revoked, expired, used twice): connect again
    Recovered,             // a token again after failures
    StateRotated,          // its state changed (a rotated refresh token), handed to the sink
    Revoked,               // disconnected: its grant revoked at the provider (Credential::revoke)
  } type = Type::Failing;
  std::string plugin_id;
  std::string label;                            // OpenOptions::label; may be empty
  CredentialState state = CredentialState::Ok;  // where it stands now
  std::optional<ErrorKind> kind;                // the failure's (Failing, Rejected, NeedsReauthorization)
  std::string message;                          // redacted: never a secret
  int64_t unix_ms = 0;
};
// "failing", "rejected", "needs_reauthorization", "recovered", "state_rotated",
// "revoked"
const char *to_string(CredentialEvent::Type type);
inline constexpr CredentialEvent::Type kCredentialEventTypes[] = {
    CredentialEvent::Type::Failing,   CredentialEvent::Type::Rejected,     CredentialEvent::Type::NeedsReauthorization,
    CredentialEvent::Type::Recovered, CredentialEvent::Type::StateRotated, CredentialEvent::Type::Revoked};
using EventSink = std::function<void(const CredentialEvent &event)>;

struct TestResult {
  AuthResult auth;
  std::vector<Info> info;
  std::vector<CredentialEvent> events;  // what happened to the credential during the test (its state rotated)
  bool has_test = true;                 // false: the plugin has no connection test
  long elapsed_ms = 0;                  // authenticate + test
};

}  // namespace credplug
