/*
** credplug embedding API for C — and for anything with a C FFI: the JVM
** (FFM, JNI), Python (ctypes, cffi), Go (cgo), Rust. The same operations as
** the C++ API in credplug/host.hpp, in libcredplug-host.so.
**
**   credplug_host_options o;
**   credplug_host_options_init(&o);
**   credplug_host *host;  credplug_credential *cred;  credplug_headers *h;
**   char *err = NULL;
**   if (credplug_host_new(&o, &host, &err) != CREDPLUG_HOST_OK) { ... err ... }
**   credplug_open(host, "nexla", json, strlen(json), &cred, &err);
**   credplug_headers_get(cred, &h, &err);            before every API request
**   for (size_t i = 0; i < credplug_headers_count(h); ++i)
**     attach(credplug_headers_name(h, i), credplug_headers_value(h, i));
**   if (api_status == 401) credplug_invalidate(cred, h);
**   credplug_headers_release(h);
**   ... credplug_credential_free(cred); credplug_host_free(host);
**
** Conventions (every function):
**   - Functions that can fail return a CREDPLUG_HOST_* status. Their last
**     parameter `char **errmsg` may be NULL; otherwise it is set to NULL on
**     success, or to a message for a human (naming what was wrong, never a
**     secret) that the caller frees with credplug_free().
**   - Strings returned through out-parameters are owned by the caller and
**     freed with credplug_free(), which wipes them first. Strings returned
**     by value (const char *) belong to the object they came from and live
**     as long as it does.
**   - Thread-safe: any function may be called from any thread, concurrently,
**     except that an object must not be used after (or while) it is freed.
**   - Fork-safe: hosts and credentials keep working in a child of fork()
**     (a pre-fork server), with no call from the embedder; the child starts
**     its own runners, connections and tokens (docs/EMBEDDING.md, "fork()").
**   - No C++ exception leaves this API; out of memory is CREDPLUG_HOST_ERR_INTERNAL.
**   - Option structs start with struct_size: a program built against this
**     header keeps working with later libraries, which only append fields.
**   - 0 in an option field means "the default", in every field (0.4; see
**     credplug_host_options). Where "none" or "off" is a setting of its own,
**     it is CREDPLUG_OFF.
*/
#ifndef CREDPLUG_HOST_H
#define CREDPLUG_HOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; credplug_host_version_number() is the
** library's, which may be later (never earlier) than the header a program was
** built with. NUMBER is MAJOR * 1000000 + MINOR * 1000 + PATCH. */
#define CREDPLUG_HOST_VERSION "0.1.0"
#define CREDPLUG_HOST_VERSION_MAJOR 0
#define CREDPLUG_HOST_VERSION_MINOR 1
#define CREDPLUG_HOST_VERSION_PATCH 0
#define CREDPLUG_HOST_VERSION_NUMBER 1000

/* Status codes: the same numbers as the credplug CLI's exit codes. A
** plugin's own codes (CREDPLUG_ERR_* in plugin.h) are another, smaller
** vocabulary: each maps to one of these, never by equal numbers
** (CREDPLUG_ERR_REJECTED, 2, arrives here as CREDPLUG_HOST_ERR_REJECTED, 4). */
#define CREDPLUG_HOST_OK 0
#define CREDPLUG_HOST_ERR_INTERNAL 1        /* out of memory, an unexpected fault */
#define CREDPLUG_HOST_ERR_MISUSE 2          /* a NULL or invalid argument */
#define CREDPLUG_HOST_ERR_INVALID_INPUT 3   /* bad credential JSON, schema violation, unknown plugin */
#define CREDPLUG_HOST_ERR_REJECTED 4        /* the provider refused the credentials */
#define CREDPLUG_HOST_ERR_NETWORK 5         /* DNS, connect, TLS verification, timeout */
#define CREDPLUG_HOST_ERR_PROVIDER 6        /* the provider answered outside its contract */
#define CREDPLUG_HOST_ERR_PLUGIN 7          /* the plugin failed to load or failed itself */
#define CREDPLUG_HOST_ERR_REAUTHORIZE 8     /* the user must connect the account again (invalid_grant) */
#define CREDPLUG_HOST_ERR_STATE_NOT_SAVED 9 /* the embedder could not persist the credential's new state */

/* A status's name, as --json output and credplug_test() results spell it:
** "ok", "internal", "misuse", "invalid_input", "rejected", "network",
** "provider", "plugin"; "unknown" for any other number. Static. */
const char *credplug_status_name(int32_t status);
/* A status in English for people ("credentials rejected"), in the spirit of
** sqlite3_errstr(); "unknown status" for any other number. Static. */
const char *credplug_status_string(int32_t status);

typedef struct credplug_host credplug_host;             /* plugins, HTTPS, cache policy */
typedef struct credplug_credential credplug_credential; /* one opened credential */
typedef struct credplug_headers credplug_headers;       /* one token's headers */
typedef struct credplug_signed credplug_signed;         /* what to add to one signed request */

/* Receives log lines, already redacted. `level`: 0 error .. 3 debug.
** Called from any thread, including background refresh threads. */
typedef void (*credplug_log_fn)(void *user, int32_t level, const char *message);

/* The explicit "none", "off" or "zero" of an option field whose 0 means
** its default: use_environment, use_default_dir (off), cache_skew_ms,
** cache_max_refresh_window_ms, cache_max_wait_ms, cache_rejection_hold_ms
** (zero), log_level (errors only). */
#define CREDPLUG_OFF (-1)

/* Every field: 0 (or NULL) means the default, the value
** credplug_host_options_init() writes (those of credplug::HostOptions), so a
** zero-filled struct with struct_size set is a valid, all-default one.
** Where zero or off is a setting of its own, it is CREDPLUG_OFF. A program
** built against an older header (struct_size not covering
** max_response_bytes) keeps the rules it was written for: there, 0 in
** use_environment and use_default_dir means off, in log_level errors only,
** and in the four cache durations above zero. */
typedef struct credplug_host_options {
  uint32_t struct_size; /* sizeof(credplug_host_options): set by credplug_host_options_init() */
  /* Searched first, in order. NULL-terminated array of paths; may be NULL. */
  const char *const *plugin_dirs;
  int32_t use_environment; /* also CREDPLUG_PLUGIN_PATH and CREDPLUG_CA_FILE; default on */
  int32_t use_default_dir; /* also <prefix>/lib/credplug/plugins; default on */
  const char *ca_file;     /* PEM bundle to trust instead of the system store; may be NULL */
  int64_t connect_timeout_ms;
  int64_t total_timeout_ms;
  credplug_log_fn log; /* may be NULL */
  void *log_user;
  int32_t log_level; /* 1 warn (default), 2 info, 3 debug; CREDPLUG_OFF: errors only */
  /* The token cache; see CachePolicy in credplug/host.hpp for each meaning. */
  int64_t cache_skew_ms;
  double cache_refresh_fraction;
  int64_t cache_max_refresh_window_ms;
  int64_t cache_default_lifetime_ms;
  int32_t cache_max_attempts;
  int64_t cache_backoff_initial_ms;
  int64_t cache_backoff_max_ms;
  int64_t cache_max_wait_ms;
  int64_t cache_rejection_hold_ms;
  int32_t cache_refresh_threads;
  /* --- 0.2 (appended) --- */
  /* Nonzero: load plugin files even when they or a directory above them are
  ** writable by every user or owned by another user (refused by default). */
  int32_t allow_unsafe_plugin_paths;
  /* Nonzero: this process never dumps core (a core holds every secret in
  ** memory). Process-wide and permanent. */
  int32_t disable_core_dumps;
  /* A pin file ("<id> <sha256>" per line): only plugin files whose SHA-256 it
  ** pins load, checked before their code runs. NULL: none (or
  ** CREDPLUG_PIN_FILE when use_environment). Copied by credplug_host_new. */
  const char *pin_file;
  /* --- 0.3 (appended) --- */
  /* Where plugin code runs: CREDPLUG_ISOLATION_PROCESS (a sandboxed runner
  ** process per plugin: a crash or hang fails the call, not this process),
  ** CREDPLUG_ISOLATION_IN_PROCESS (trusted plugins, lowest latency), or
  ** CREDPLUG_ISOLATION_DEFAULT: CREDPLUG_ISOLATION ("process" or
  ** "in-process") when use_environment, else process. */
  int32_t isolation;
  /* The plugin runner executable; NULL: the one installed with this library
  ** (or CREDPLUG_RUNNER). Copied by credplug_host_new. */
  const char *runner_path;
  /* --- 0.4 (appended): from here on, 0 means the default in every field --- */
  /* The largest HTTP response body accepted (default 1 MiB). */
  int64_t max_response_bytes;
  /* The fleet-wide token cache (HostOptions::shared_cache_url, and
  ** docs/SHARED_CACHE.md): "redis://[user:password@]host:port/db"; NULL:
  ** none, or CREDPLUG_SHARED_CACHE when use_environment. Copied. */
  const char *shared_cache_url;
  /* Its key file, required with a URL (or CREDPLUG_SHARED_CACHE_KEY_FILE). Copied. */
  const char *shared_cache_key_file;
  /* The longest any one Redis command may take (default 250 ms). */
  int64_t shared_cache_timeout_ms;
  /* --- 0.5 (appended) --- */
  /* Nonzero: stay dumpable while plugin runners are alive. By default this
  ** process is not dumpable while any is (HostOptions::
  ** keep_dumpable_with_runners): a runner runs as this user, and a dumpable
  ** process's /proc/<pid>/mem and environ are open to its user. */
  int32_t keep_dumpable_with_runners;
  /* --- 0.6 (appended) --- */
  /* Nonzero: plugin runners start without their namespaces (HostOptions::
  ** runners_without_namespaces; docs/SANDBOX.md, "Namespaces"). */
  int32_t runners_without_namespaces;
  /* --- 0.7 (appended) --- */
  /* What each message handed to `log` is: CREDPLUG_LOG_FORMAT_TEXT (a line
  ** of text), CREDPLUG_LOG_FORMAT_JSON (one JSON object, for a log shipper:
  ** time, level, plugin, credential, event, message and the event's
  ** figures; docs/EMBEDDING.md, "Logs and status"), or
  ** CREDPLUG_LOG_FORMAT_DEFAULT: CREDPLUG_LOG_FORMAT ("text" or "json")
  ** when use_environment, else text. */
  int32_t log_format;
  /* --- 0.8 (appended) --- */
  /* Seals pending authorizations (HostOptions::authorization_key_file); NULL:
  ** the shared cache's key file, else a key of this host alone. Copied. */
  const char *authorization_key_file;
  /* Every credential event (CredentialEvent in credplug/types.hpp: failing,
  ** rejected, needs_reauthorization, recovered, state_rotated) as one JSON
  ** object, {"event", "plugin", "label", "state", "kind"?, "message",
  ** "unix_ms"}, valid during the call, never a secret; on whatever thread it
  ** happens. Keep it short; call no credplug function from it. NULL: none. */
  void (*on_event)(void *on_event_data, const char *event_json);
  void *on_event_data;
  /* --- 0.9 (appended) --- */
  /* Nonzero: each plugin runner is spawned instead of copied from the
  ** zygote runner this process keeps (HostOptions::runners_without_zygote;
  ** docs/SANDBOX.md, "The zygote"). */
  int32_t runners_without_zygote;
  /* --- 0.10 (appended) --- */
  /* Nonzero: each plugin runner is copied from the zygote as its plugin is
  ** loaded, not taken from the spare runner kept ready (HostOptions::
  ** runners_without_spare; docs/SANDBOX.md, "The spare runner"). */
  int32_t runners_without_spare;
} credplug_host_options;

#define CREDPLUG_LOG_FORMAT_DEFAULT 0
#define CREDPLUG_LOG_FORMAT_TEXT 1
#define CREDPLUG_LOG_FORMAT_JSON 2

#define CREDPLUG_ISOLATION_DEFAULT 0
#define CREDPLUG_ISOLATION_PROCESS 1
#define CREDPLUG_ISOLATION_IN_PROCESS 2

/* Fills the first `size` bytes of `options` with the defaults (those of
** credplug::HostOptions) and sets struct_size to what was filled, so a caller
** built against an older, smaller struct is never written past its end.
** Call it through the macro below, which passes sizeof as the caller's
** compiler sees it. */
void credplug_host_options_init_sized(credplug_host_options *options, size_t size);

/* Call it through this macro (from C, C++), which passes the size. The
** function of this name (what dlsym() or ctypes finds) cannot know the
** size, so it fills nothing and credplug_host_new() refuses the struct: from
** an FFI, call credplug_host_options_init_sized(&o, sizeof o). Programs
** built against 0.1 keep the 0.1 behaviour (a versioned symbol). */
void credplug_host_options_init(credplug_host_options *options);
#define credplug_host_options_init(options) credplug_host_options_init_sized((options), sizeof *(options))

/* "0.1.0 (plugin ABI 1.2)". Static. */
const char *credplug_host_version(void);
/* CREDPLUG_HOST_VERSION_NUMBER of the library at run time. */
int32_t credplug_host_version_number(void);

/* Makes a host. `options` may be NULL (defaults). On success *out is a host
** the caller frees with credplug_host_free(). Credentials opened from it may
** outlive it. */
int32_t credplug_host_new(const credplug_host_options *options, credplug_host **out, char **errmsg);
void credplug_host_free(credplug_host *host); /* NULL is a no-op */

/* The plugins found, as the JSON `credplug --json plugins` prints. *json is
** the caller's (credplug_free). */
int32_t credplug_host_plugins(credplug_host *host, char **json, char **errmsg);

/* Scans the search path again on the next look (an upgrade: new plugin
** files, replaced ones). Credentials already open keep their plugin; in
** runners, a replaced file is used when their runner starts again. */
int32_t credplug_host_reload_plugins(credplug_host *host, char **errmsg);

/* Checks a credential against the plugin's schema and its offline checks.
** CREDPLUG_HOST_OK when valid; CREDPLUG_HOST_ERR_INVALID_INPUT with every
** field error in *errmsg (one per line) when not. */
int32_t credplug_validate(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                          char **errmsg);

/* The same checks, said as the JSON `credplug --json validate` prints, for a
** form to show beside each field: {"ok", "plugin", "valid", "errors":
** [{"pointer", "field", "title", "rule", "message"}, ...]}. CREDPLUG_HOST_OK
** whenever the checks ran, valid or not ("valid" says); *result_json is the
** caller's (credplug_free). Messages name fields, never a secret value. */
int32_t credplug_validate_json(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                               char **result_json, char **errmsg);

/* The plugin's credential JSON Schema (draft-04) as it declares it: fields,
** titles, descriptions, "writeOnly" on secrets. *schema_json is the
** caller's (credplug_free). */
int32_t credplug_host_schema(credplug_host *host, const char *plugin_id, char **schema_json, char **errmsg);

/* The same schema as a form (`credplug schema ID --form`): {"schema":
** draft-07, "uiSchema": ...} for react-jsonschema-form: password widgets
** for secrets, field order, placeholders, help, labelled enums, and a
** plugin's modes (Avni's token_flow) as one selector showing that mode's
** fields (docs/WRITING_PLUGINS.md, "The form"). *form_json is the
** caller's (credplug_free). */
int32_t credplug_host_schema_form(credplug_host *host, const char *plugin_id, char **form_json, char **errmsg);

/* Validates the credential once and opens it. `credential_json` is copied
** and the copy wiped; wipe yours. Opening the same text again while it is
** open shares one plugin instance and one token cache. On success *out is
** one reference to the credential, released with credplug_credential_free(). */
int32_t credplug_open(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                      credplug_credential **out, char **errmsg);
/* How credplug_open_with() opens a credential. Zero-fill it and set
** struct_size = sizeof(credplug_open_options); fields added later read as
** their zero default from a program built before them. */
typedef struct credplug_open_options {
  uint32_t struct_size;
  /* The embedder's name for the credential (a tenant or account id), named
  ** in every log line and status of it: at most 128 bytes of printable
  ** UTF-8, never a secret; NULL or "" for none. Part of what makes two opens
  ** one credential. Copied. */
  const char *label;
  /* --- the credential's state (Credential state in docs/EMBEDDING.md) --- */
  /* The state as you last persisted it: a JSON object of `state_len` bytes
  ** (at most 64 KiB), secret; NULL for none yet. Copied; wipe yours. */
  const char *state;
  size_t state_len;
  /* Called with the credential's new state (`len` bytes of JSON, valid
  ** during the call; the host wipes it after) whenever its plugin changes
  ** it (a rotated refresh token), before anything uses what came with it.
  ** Persist it beside the credential and return 0; return non-zero when it
  ** could not be persisted: the host keeps it in memory, the token request
  ** fails with CREDPLUG_HOST_ERR_STATE_NOT_SAVED, and the callback is called
  ** again before the plugin's next call. Called from the thread that asked
  ** for the token, one call at a time per credential. NULL: the state lives
  ** in memory only. `on_state_data` is passed back. */
  int (*on_state)(void *on_state_data, const char *state_json, size_t len);
  void *on_state_data;
} credplug_open_options;

/* credplug_open() with options (NULL: the same as credplug_open()). A label
** too long or not printable is CREDPLUG_HOST_ERR_INVALID_INPUT. */
int32_t credplug_open_with(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                           const credplug_open_options *options, credplug_credential **out, char **errmsg);
/* Another reference to the credential, for another user of it (a thread, a
** tenant's requests in flight). Each reference is released with
** credplug_credential_free(); the credential closes with the last. So a
** thread may close its reference (a tenant's credential rotated) while
** others, each holding their own, go on using it. Returns `credential`. */
credplug_credential *credplug_credential_ref(credplug_credential *credential);
/* Releases one reference; the last closes the credential, waiting for its
** background refresh if one runs. NULL is a no-op. */
void credplug_credential_free(credplug_credential *credential);

/* The headers to attach to an API request now, from the token cache: fast
** when a valid token is cached, one shared token request when none is. On
** success *out is released with credplug_headers_release(). */
int32_t credplug_headers_get(credplug_credential *credential, credplug_headers **out, char **errmsg);
/* credplug_headers_get() when it would not wait (an event loop, an
** interpreter lock held): CREDPLUG_HOST_OK with *out the cached token's
** headers, or with *out NULL when no token is valid now (no token request
** is started: call credplug_headers_get() where waiting is fine). Never
** blocks on the network. */
int32_t credplug_headers_get_cached(credplug_credential *credential, credplug_headers **out, char **errmsg);
/* credplug_headers_get() without a reference to release: *out is the calling
** thread's own handle, owned by the credential. It stays valid until this
** thread's next call on this credential, or until the credential closes;
** never pass it to credplug_headers_release(). The fastest read (no
** allocation, no lock, no atomic write): for a caller that attaches the
** headers at once. Errors as credplug_headers_get(); also
** CREDPLUG_HOST_ERR_PLUGIN when called while the thread exits (from a
** thread-local destructor). */
int32_t credplug_headers_borrow(credplug_credential *credential, const credplug_headers **out, char **errmsg);
size_t credplug_headers_count(const credplug_headers *headers);
/* Name and value of header i (< count), valid until the headers are
** released. The value is a secret when credplug_headers_secret() says so:
** attach it, never log it. NULL for an index out of range. */
const char *credplug_headers_name(const credplug_headers *headers, size_t i);
const char *credplug_headers_value(const credplug_headers *headers, size_t i);
int32_t credplug_headers_secret(const credplug_headers *headers, size_t i);
/* Unix seconds when these headers stop being valid; 0 when unknown;
** INT64_MAX when they never expire (a static API key: kept until
** credplug_invalidate()). */
int64_t credplug_headers_expires_at(const credplug_headers *headers);
/* Which token of the credential these are: 1, 2, ... */
uint64_t credplug_headers_generation(const credplug_headers *headers);
void credplug_headers_release(credplug_headers *headers); /* NULL is a no-op */

/* The API refused `rejected` (HTTP 401): drop that token so the next
** credplug_headers_get() authenticates once (see Credential::invalidate).
** `rejected` NULL drops whatever is cached. */
int32_t credplug_invalidate(credplug_credential *credential, const credplug_headers *rejected, char **errmsg);

/* The authorization code grant with PKCE (Host::begin_authorization): for a
** plugin that connects a person's account, the URL to send the person to
** (*url) and the pending authorization to keep until they come back
** (*pending: sealed, secret), both the caller's (credplug_free), and when
** it expires (*expires_at, Unix seconds; may be NULL). `redirect_uri` is
** https://, or http:// on 127.0.0.1 or [::1]. */
int32_t credplug_begin_authorization(credplug_host *host, const char *plugin_id, const char *credential_json,
                                     size_t len, const char *redirect_uri, char **url, char **pending,
                                     int64_t *expires_at, char **errmsg);
/* The person came back to `redirect_url` (the whole URL, with code and
** state): checks it answers `pending`, redeems the code, and gives the
** credential's state to keep in *state_json (secret; credplug_free).
** Any process whose Host has the same authorization key may complete it.
** A forged, crossed or expired redirect: CREDPLUG_HOST_ERR_INVALID_INPUT;
** the person refused, or the provider refused the code:
** CREDPLUG_HOST_ERR_REJECTED. */
int32_t credplug_complete_authorization(credplug_host *host, const char *pending, const char *redirect_url,
                                        char **state_json, char **errmsg);

/* The credential's state now (Credential::state): JSON text in *state_json
** (a secret: the caller's, freed with credplug_free(), which wipes it), or
** NULL when it has none. */
int32_t credplug_credential_state(credplug_credential *credential, char **state_json, char **errmsg);
/* Replaces the credential's state with `len` bytes of JSON the embedder
** obtained (the user connected the account again; Credential::set_state):
** taken as persisted, and the next token request uses it. A state that is
** not an object or over the limits is CREDPLUG_HOST_ERR_INVALID_INPUT. */
int32_t credplug_credential_set_state(credplug_credential *credential, const char *state_json, size_t len,
                                      char **errmsg);
/* Disconnects the account (Credential::revoke): the plugin revokes at the
** provider the grant the state holds, then the state becomes {} (handed to
** on_state) and the cached token is dropped; token requests then fail with
** CREDPLUG_HOST_ERR_REAUTHORIZE until credplug_credential_set_state(). A
** plugin without revoke() is CREDPLUG_HOST_ERR_INVALID_INPUT; a failure at
** the provider keeps the state (still connected). */
int32_t credplug_credential_revoke(credplug_credential *credential, char **errmsg);

/* A request to sign (credplug_credential_sign). Set struct_size =
** sizeof(credplug_request); fields added later read as absent. Strings are
** the caller's, read during the call. */
typedef struct credplug_request {
  uint32_t struct_size;
  const char *method;         /* NULL: "GET" */
  const char *url;            /* the https:// URL as it will be sent */
  const char *const *headers; /* the request's headers {n0, v0, ..., NULL}; may be NULL */
  const void *body;           /* the body, or NULL (then body_sha256, or an empty body) */
  size_t body_len;
  const char *body_sha256; /* lowercase hex, when the body is not at hand; may be NULL */
  int64_t time_ms;         /* the signing time, Unix ms; 0: now */
} credplug_request;

/* For a plugin that signs each request (AWS Signature Version 4): the
** headers (the credential's and the signature's) and query parameters to
** add to this one request, never cached. Thread-safe. On success *out is
** released with credplug_signed_release(). A request that is not one (no
** https:// URL, a header with a control character, a body hash that does
** not match the body) or a plugin without sign() is
** CREDPLUG_HOST_ERR_INVALID_INPUT. */
int32_t credplug_credential_sign(credplug_credential *credential, const credplug_request *request,
                                 credplug_signed **out, char **errmsg);
/* The headers to add: as credplug_headers_* (valid until released). */
size_t credplug_signed_header_count(const credplug_signed *s);
const char *credplug_signed_header_name(const credplug_signed *s, size_t i);
const char *credplug_signed_header_value(const credplug_signed *s, size_t i);
int32_t credplug_signed_header_secret(const credplug_signed *s, size_t i);
/* The query parameters the signature adds, and the URL with them appended
** (send it; never log it when a parameter is secret). */
size_t credplug_signed_query_count(const credplug_signed *s);
const char *credplug_signed_query_name(const credplug_signed *s, size_t i);
const char *credplug_signed_query_value(const credplug_signed *s, size_t i);
const char *credplug_signed_url(const credplug_signed *s);
void credplug_signed_release(credplug_signed *s); /* NULL is a no-op; wipes the values */

/* Authenticates and runs the provider's connection test. On success
** *result_json (may be NULL if unwanted) is the JSON object `credplug --json
** test` prints for one credential, with secrets masked; the caller frees it. */
int32_t credplug_test(credplug_credential *credential, char **result_json, char **errmsg);

/* What the host's credentials did so far: token requests by plugin and
** outcome, cache hits (L1, L2) and misses, refreshes ahead, waits, invalidations
** and the shared cache's errors and lease waits, with latency histograms.
** *json is the document json::metrics_json() describes (host_json.hpp);
** *text is the Prometheus text exposition (version 0.0.4), ready to serve at
** /metrics. The caller frees either with credplug_free(). */
int32_t credplug_host_metrics(credplug_host *host, char **json, char **errmsg);
int32_t credplug_host_metrics_prometheus(credplug_host *host, char **text, char **errmsg);

/* The token cache's state as a JSON object (CacheStatus in host.hpp). */
int32_t credplug_cache_status(credplug_credential *credential, char **json, char **errmsg);

/* Where the credential stands, for an operator (Credential::status() in
** host.hpp), as a JSON object: {"plugin", "label", "state" ("idle", "ok",
** "refreshing", "failing" or "rejected"), "has_token", "expires_at",
** "expires_at_iso", "last_success_ms", "failing_since_ms",
** "consecutive_failures", "last_error_kind", "last_error",
** "next_attempt_ms"}, absent values null. *json is the caller's
** (credplug_free). */
int32_t credplug_credential_status(credplug_credential *credential, char **json, char **errmsg);

/* Frees (after wiping) a string this API returned. NULL is a no-op. */
void credplug_free(void *p);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CREDPLUG_HOST_H */
