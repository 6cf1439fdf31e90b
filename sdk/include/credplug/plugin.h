/*
** credplug plugin ABI — interface "credplug.credential", major 1.
**
** This header is the whole contract between the credplug host and a provider
** plugin. It is plain C99 with fixed-width types so that a plugin built with
** any compiler, against any earlier minor version of this header, keeps
** loading in any later host of the same major version.
**
** Rules that never change within a major version:
**   - Every struct starts with `struct_size`, set by whoever owns the struct to
**     sizeof() as *they* compiled it. Fields are only ever appended. A reader
**     touches a field only if `struct_size` covers it (CREDPLUG_HAS_FIELD) and
**     treats an absent field as 0/NULL. Structs are never passed by value.
**   - Nothing allocated on one side is freed on the other. Strings handed to a
**     host callback are copied before the callback returns; strings handed to
**     the plugin by the host are valid only for the duration stated beside the
**     function that hands them out.
**   - No C++ exception ever crosses this boundary (the SDK's C++ kit catches
**     everything in every entry point).
**   - A plugin exports exactly one symbol, credplug_get_interface(). Build with
**     hidden visibility (CREDPLUG_EXPORT marks the one exception). Keep static
**     initialisers trivial: they run at load time, before any version check.
**
** Thread contract:
**   - The host serialises init(), shutdown(), create() and destroy() of one
**     plugin: no two of them run at once, and none runs concurrently with
**     authenticate()/test() on the instance it concerns.
**   - authenticate() and test() may run concurrently on *different* instances.
**   - They run concurrently on the *same* instance only if the descriptor sets
**     CREDPLUG_CAP_CONCURRENT_INSTANCE; otherwise the host serialises them.
**   - Every host service is thread-safe. A credplug_call is used by one thread.
**   - A plugin leaves no thread running after shutdown() returns.
**
** Lifetime: the host loads a plugin with RTLD_NOW|RTLD_LOCAL and never unloads
** it for the lifetime of the process. init() runs once per process, however
** many hosts come and go; shutdown() is the last call, made at process exit
** once every instance has been destroyed (never under a live instance, so a
** process that exits with instances alive skips it).
**
** Limits on outputs (the host refuses more, failing the call with
** CREDPLUG_ERR_PROVIDER and a message naming the header, never its value):
** a header name is an RFC 9110 token of at most 256 bytes; a header value has
** no control character (CR, LF, NUL, ...) and at most 64 KiB; at most 32
** headers and 64 info entries per call. Messages and non-secret info are
** redacted, then control characters are shown escaped (\x1b) and the text is
** cut at 2,048 bytes. An expiry more than 10 years away, or already past, is
** refused. At most 256 add_secret() values (1 MiB in all) per call: past
** either the call fails. At most 1,000 log lines per call: the rest are
** dropped (the host says so once). A request's timeout_ms may shorten the
** host's total timeout, never lengthen it.
*/
#ifndef CREDPLUG_PLUGIN_H
#define CREDPLUG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define CREDPLUG_INTERFACE_CREDENTIAL "credplug.credential"
#define CREDPLUG_ABI_MAJOR 1
/* Minor history:
**   0 — first release (everything in this header not marked otherwise).
**   1 — credplug_plugin gains refresh() and default_token_lifetime_s.
**   2 — credplug_host_api gains helpers, so a C plugin never hand-writes JSON
**       or encodings: json_string/json_number/json_bool, base64_encode,
**       url_encode, form_encode and oauth2_token (credplug_oauth2_token).
**   3 — every way a provider authenticates: credplug_plugin gains sign()
**       (per-request signatures, credplug_sign_request); credplug_host_api
**       gains out_query, crypto (sha256, hmac_sha256, random_bytes,
**       hex_encode) and keys and JWTs (key_load, key_free, jwt_sign);
**       credplug_http_request gains a client certificate (mTLS);
**       CREDPLUG_EXPIRES_NEVER and CREDPLUG_FLAG_PUBLIC.
**   4 — users' own accounts: credplug_host_api gains the credential's state
**       (state, out_state: a refresh token the provider rotates) and
**       out_url; credplug_plugin gains authorize() (the authorization code
**       grant with PKCE, credplug_authorization); CREDPLUG_ERR_REAUTHORIZE
**       (the user must connect the account again).
**   5 — credplug_plugin gains revoke() (disconnecting an account: its grant
**       revoked at the provider, RFC 7009).
** A plugin built against an older minor keeps loading: tests/abi/minor0/
** ... minor4/ hold those headers, frozen, and a plugin built against each.
** A plugin that calls a newer helper requires that minor: it answers
** credplug_get_interface() with CREDPLUG_ERR_INCOMPATIBLE and the minor it
** needs when host_minor_max is lower (the host then names both versions). */
#define CREDPLUG_ABI_MINOR 5

/* True when a struct of the given size contains FIELD in full. */
#define CREDPLUG_HAS_FIELD(ptr, type, field) \
  ((ptr) != NULL && (size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

#if defined(_WIN32)
#define CREDPLUG_EXPORT __declspec(dllexport)
#else
#define CREDPLUG_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Status codes (int32_t). Every plugin function returns one.                */
/* ------------------------------------------------------------------------ */

#define CREDPLUG_OK 0
/* The credential's configuration is unusable (a value the schema could not
** catch: a URL that does not resolve to what the provider expects, ...). */
#define CREDPLUG_ERR_INVALID_CONFIG 1
/* The provider refused the credentials (invalid_client, 401 on a token...). */
#define CREDPLUG_ERR_REJECTED 2
/* No usable answer: DNS, connect, TLS verification, timeout, size cap. */
#define CREDPLUG_ERR_NETWORK 3
/* The provider answered, but not as its contract says (5xx, malformed JSON,
** missing access_token, a token of the wrong kind). */
#define CREDPLUG_ERR_PROVIDER 4
/* A fault inside the plugin itself (a bug, out of memory, an exception). */
#define CREDPLUG_ERR_PLUGIN 5
/* credplug_get_interface(): the requested interface/version is not offered. */
#define CREDPLUG_ERR_INCOMPATIBLE 6
/* (minor 4) The grant the credential's state holds is gone for good (OAuth
** invalid_grant on a refresh token: revoked, expired, or presented twice):
** only the user, connecting the account again, can mend it. The host holds
** the credential (no retries) until new state arrives. A host older than
** minor 4 reports it as a plugin failure. */
#define CREDPLUG_ERR_REAUTHORIZE 7

/* ------------------------------------------------------------------------ */
/* Opaque handles                                                            */
/* ------------------------------------------------------------------------ */

/* One host operation (create, authenticate or test). Owned by the host; valid
** only until the plugin function it was passed to returns. It scopes logging,
** outputs, errors, the secrets to redact and the HTTP requests of that call. */
typedef struct credplug_call credplug_call;

/* A plugin's per-credential state. Owned by the plugin: made by create(),
** freed by destroy(). The host only passes the pointer back. */
typedef struct credplug_instance credplug_instance;

/* An HTTP response. Owned by the host: the plugin releases it with
** http_release() (the host frees it; the plugin never calls free()). */
typedef struct credplug_http_response credplug_http_response;

/* ------------------------------------------------------------------------ */
/* Host services (host -> plugin)                                            */
/* ------------------------------------------------------------------------ */

/* Log levels. */
#define CREDPLUG_LOG_ERROR 0
#define CREDPLUG_LOG_WARN 1
#define CREDPLUG_LOG_INFO 2
#define CREDPLUG_LOG_DEBUG 3

/* Output flags. */
#define CREDPLUG_FLAG_SECRET 0x1u /* mask in output, wipe when done */
/* out_header() (minor 3): this header is not a secret, although its name
** says it may be. A minor-3 host treats a header named Authorization,
** Proxy-Authorization or Cookie, or whose name holds "key", "token",
** "secret", "signature", "session", "password" or "auth", as SECRET unless
** it carries this flag ("X-Api-Key-Id: public-id"). */
#define CREDPLUG_FLAG_PUBLIC 0x4u

/* out_expires_at() (minor 3): the headers never expire (a static API key):
** the host keeps them until the API refuses them (Credential::invalidate).
** A host older than minor 3 refuses it as more than 10 years away. */
#define CREDPLUG_EXPIRES_NEVER INT64_MAX

/* out_state() (minor 4): the largest state, in bytes of JSON text. */
#define CREDPLUG_MAX_STATE_BYTES 65536

/* base64_encode() flag (minor 2): the URL-safe alphabet of RFC 4648 §5,
** without padding (JWTs, PKCE), instead of §4's with padding. */
#define CREDPLUG_BASE64_URL 0x2u

/* HTTP request flags. */
/* The URL's query string carries a secret (OpenCRVS' token request): the
** host never logs or shows the query values of this URL. */
#define CREDPLUG_HTTP_SECRET_QUERY 0x1u
/* The request body carries a secret: the host never logs it. (The host never
** logs bodies by default; this keeps it so under debug logging too.) */
#define CREDPLUG_HTTP_SECRET_BODY 0x2u

typedef struct credplug_http_request {
  uint32_t struct_size; /* sizeof(credplug_http_request), set by the plugin */
  const char *method;   /* "GET", "POST", ...; NULL means "GET" */
  const char *url;      /* absolute https:// URL; other schemes are refused */
  /* Request headers as name/value pairs: {n0, v0, n1, v1, ..., NULL}.
  ** May be NULL. Every value is treated as secret in logs. */
  const char *const *headers;
  const void *body; /* may be NULL */
  size_t body_len;
  uint32_t timeout_ms; /* total time limit; 0 or more than the host's: the host's */
  uint32_t flags;      /* CREDPLUG_HTTP_* */
  /* --- end of minor 0 --- */

  /* Minor 3, optional: a client certificate for this request (mTLS), PEM
  ** text, NUL-terminated: the certificate and any intermediates, the
  ** private key (PKCS#8, PKCS#1 or SEC1; encrypted when a passphrase is
  ** given). Handed to TLS in memory, never written to a file; the key and
  ** the passphrase are secrets of the call (the certificate is public). NULL: no client certificate. An older host
  *ignores
  ** them: require minor 3 when you set them. */
  const char *client_cert_pem;
  const char *client_key_pem;
  const char *client_key_passphrase; /* may be NULL */
} credplug_http_request;

/* jwt_sign()'s claims (minor 3). The host adds "iat" (now), "exp" (iat +
** lifetime_s) and "jti" (16 random bytes, base64url), and the header
** {"alg", "typ":"JWT", "kid"}. Strings are the plugin's, read during the
** call. */
typedef struct credplug_jwt_claims {
  uint32_t struct_size; /* sizeof(credplug_jwt_claims), set by the plugin */
  const char *iss;      /* each of these three: NULL leaves it out */
  const char *sub;
  const char *aud;
  int64_t lifetime_s; /* 1 .. 86400; 0: 300 */
  const char *kid;    /* the header's key id; NULL leaves it out */
  /* More string claims {n0, v0, n1, v1, ..., NULL} ("scope", ...): a pair
  ** whose value is NULL is left out. May be NULL. */
  const char *const *claims;
  /* More claims of any type: the text of a JSON object, whose members are
  ** added. May be NULL. */
  const char *claims_json;
} credplug_jwt_claims;

/* A parsed private key (minor 3): made by key_load(), freed by key_free()
** (both the host's), wiped when freed. */
typedef struct credplug_key credplug_key;

/* The authorization code grant (RFC 6749 §4.1, PKCE RFC 7636) as
** authorize() (minor 4) sees it. Owned by the host; valid during the call.
** The host makes the verifier, the challenge and the state, and checks the
** state and the redirect itself. */
typedef struct credplug_authorization {
  uint32_t struct_size;              /* set by the host */
  const char *redirect_uri;          /* exactly as registered with the provider */
  const char *state;                 /* send as "state" */
  const char *code_challenge;        /* send as "code_challenge" */
  const char *code_challenge_method; /* "S256": send as "code_challenge_method" */
  /* The second step (NULL in the first): the code the redirect carried,
  ** and the verifier to redeem it with (with redirect_uri again). */
  const char *code;
  const char *code_verifier;
} credplug_authorization;

/* The request sign() signs (minor 3). Owned by the host; valid during the
** call. */
typedef struct credplug_sign_request {
  uint32_t struct_size; /* set by the host */
  const char *method;   /* "GET", "POST", ..., upper case */
  const char *url;      /* absolute https:// URL, as it will be sent */
  /* The request's headers {n0, v0, ..., NULL}, names as given; not the
  ** ones sign() will add. Never NULL. */
  const char *const *headers;
  /* The body, when the caller gave it; NULL when it gave only its hash. */
  const void *body;
  size_t body_len;
  const char *body_sha256; /* lowercase hex SHA-256 of the body; always set */
  /* When the request is signed, Unix milliseconds: sign with this, never
  ** your own clock (`credplug sign --time` fixes it to reproduce a
  ** signature). */
  int64_t time_ms;
} credplug_sign_request;

/* A token endpoint's answer, as oauth2_token() (minor 2) reads it. Strings
** belong to the call, like every helper's; absent ones are NULL. */
typedef struct credplug_oauth2_token {
  uint32_t struct_size;          /* sizeof(credplug_oauth2_token), set by the plugin */
  const char *access_token;      /* a secret of the call */
  const char *token_type;        /* "Bearer" (any case), or NULL when not sent */
  int64_t expires_in;            /* seconds, 1 .. 10 years; 0 when not sent */
  const char *scope;             /* the granted scope, when sent */
  const char *refresh_token;     /* a secret of the call, when sent */
  const char *error;             /* on failure: the RFC 6749 §5.2 error, when sent */
  const char *error_description; /* on failure, when sent */
} credplug_oauth2_token;

typedef struct credplug_host_api {
  uint32_t struct_size; /* sizeof(credplug_host_api) as the host built it */
  uint32_t abi_major;   /* CREDPLUG_ABI_MAJOR of the host */
  uint32_t abi_minor;   /* CREDPLUG_ABI_MINOR of the host */

  /* Log a message. `call` may be NULL (from init/shutdown). The host redacts
  ** every known secret of the call before the message goes anywhere. The
  ** message is copied. */
  void (*log)(credplug_call *call, int32_t level, const char *message);

  /* Wall-clock time, milliseconds since the Unix epoch. */
  int64_t (*now_ms)(void);

  /* Overwrite `len` bytes at `p` with zeros in a way the compiler cannot
  ** elide (OPENSSL_cleanse). For the plugin's own copies of secrets. */
  void (*secure_zero)(void *p, size_t len);

  /* Declare a value secret for the rest of this call and for the instance's
  ** outputs: the host redacts it from every log line, message and output it
  ** handles. Use it as soon as a token or derived secret exists. Copied. */
  void (*add_secret)(credplug_call *call, const char *value, size_t len);

  /* authenticate(): a header to attach to API calls. Flags: SECRET marks a
  ** value the host masks in output and wipes when done. Copied. May be called
  ** several times; a later header of the same name replaces the earlier. */
  void (*out_header)(credplug_call *call, const char *name, const char *value, uint32_t flags);

  /* authenticate(): when the headers stop being valid, seconds since the Unix
  ** epoch. Not calling it means "unknown". */
  void (*out_expires_at)(credplug_call *call, int64_t unix_seconds);

  /* test() and authenticate(): a fact to show the user ("scope", "user_id",
  ** "api_status"). SECRET values are masked like headers. Copied. */
  void (*out_info)(credplug_call *call, const char *key, const char *value, uint32_t flags);

  /* Report why the call failed: a CREDPLUG_ERR_* code and a message for a
  ** human, naming what was wrong and what was expected. Never put a secret in
  ** it (the host redacts known ones, but cannot know them all). The last call
  ** wins. The plugin function should also return a non-zero code. Copied. */
  void (*set_error)(credplug_call *call, int32_t code, const char *message);

  /* Send an HTTPS request through the host, which owns TLS verification,
  ** CA files, proxies, timeouts, the response-size cap and redaction.
  ** Returns CREDPLUG_OK when an HTTP response arrived (whatever its status),
  ** or CREDPLUG_ERR_NETWORK / CREDPLUG_ERR_INVALID_CONFIG (bad URL). In every
  ** case *out is set to a response the plugin must pass to http_release();
  ** on failure it carries only http_error(). */
  int32_t (*http_send)(credplug_call *call, const credplug_http_request *req, credplug_http_response **out);

  /* The HTTP status code, or 0 if no response arrived. */
  int32_t (*http_status)(const credplug_http_response *resp);

  /* The body, not NUL-terminated at len (a NUL follows it for convenience).
  ** Valid until http_release(). `len` may be NULL. */
  const char *(*http_body)(const credplug_http_response *resp, size_t *len);

  /* A response header's value by case-insensitive name, or NULL. The last
  ** one wins if repeated. Valid until http_release(). */
  const char *(*http_header)(const credplug_http_response *resp, const char *name);

  /* Why no response arrived (redacted), or NULL. Valid until release. */
  const char *(*http_error)(const credplug_http_response *resp);

  /* Free a response and wipe its body. NULL is a no-op. */
  void (*http_release)(credplug_http_response *resp);
  /* --- end of minor 0 and of minor 1 (which added no host service) --- */

  /* Minor 2: helpers. Check CREDPLUG_HAS_FIELD(host, credplug_host_api,
  ** oauth2_token) in init(), or require minor 2 in credplug_get_interface().
  ** They run where the plugin runs (no round trip to the host process).
  ** Strings they return belong to the call: valid until the plugin function
  ** that received `call` returns, wiped then; copy what you keep (and wipe
  ** your copies of secrets). They return NULL when `call` is NULL, when the
  ** input is NULL or not what is described, and past 16 MiB of helper
  ** strings in one call. `json` is parsed within the host's limits (64
  ** levels of nesting, valid UTF-8, no NUL in strings); `where` is an RFC
  ** 6901 JSON pointer ("/auth/client_id") or a top-level member name
  ** ("client_id"). In create(), the credential's writeOnly values are
  ** already secrets of the call. */

  /* The string at `where` in the JSON text of `len` bytes; NULL when absent
  ** or not a string. */
  const char *(*json_string)(credplug_call *call, const char *json, size_t len, const char *where);
  /* The number at `where`, or `fallback` when absent or not a number. */
  double (*json_number)(const char *json, size_t len, const char *where, double fallback);
  /* The boolean at `where` as 1 or 0, or `fallback` when absent or not a
  ** boolean. */
  int32_t (*json_bool)(const char *json, size_t len, const char *where, int32_t fallback);

  /* `len` bytes as base64 (RFC 4648 §4, padded; CREDPLUG_BASE64_URL: §5,
  ** unpadded). With CREDPLUG_FLAG_SECRET the result is a secret of the call
  ** (add_secret) — say so whenever the input holds one. */
  const char *(*base64_encode)(credplug_call *call, const void *data, size_t len, uint32_t flags);
  /* Every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~)
  ** as %XX: a query value, a form value, RFC 6749 §2.3.1's client id and
  ** secret before Basic encoding. Flags as base64_encode(). */
  const char *(*url_encode)(credplug_call *call, const char *text, uint32_t flags);
  /* An application/x-www-form-urlencoded body from name/value pairs
  ** {n0, v0, n1, v1, ..., NULL}: "n0=v0&n1=v1", each url_encode()d. A pair
  ** whose value is NULL is left out (an optional field). Flags as
  ** base64_encode(). */
  const char *(*form_encode)(credplug_call *call, const char *const *fields, uint32_t flags);

  /* Reads a token endpoint's answer (RFC 6749 §5.1 success, §5.2 error)
  ** exactly as the C++ kit does. `resp` is what http_send() gave, even on
  ** failure; `endpoint_name` ("token endpoint") names it in messages.
  ** CREDPLUG_OK: a Bearer access_token arrived; `out` (struct_size set by
  ** the plugin) holds it, already a secret of the call. Otherwise it has
  ** called set_error() naming the endpoint and returns the code to return:
  ** NETWORK (no response), REJECTED (401, 403, invalid_client,
  ** invalid_grant, unauthorized_client, access_denied), INVALID_CONFIG
  ** (404, invalid_scope), PROVIDER (5xx and 429 with their Retry-After, a
  ** body that is not a JSON object, no access_token, another token_type, an
  ** expires_in that is not a positive number of seconds up to 10 years);
  ** `out`'s error fields then hold what the server sent, if anything. */
  int32_t (*oauth2_token)(credplug_call *call, const credplug_http_response *resp, const char *endpoint_name,
                          credplug_oauth2_token *out);
  /* --- end of minor 2 --- */

  /* Minor 3: signing, crypto and keys. Check CREDPLUG_HAS_FIELD(host,
  ** credplug_host_api, jwt_sign) in init(), or require minor 3. They run
  ** where the plugin runs; strings they return belong to the call, as
  ** minor 2's do. */

  /* sign(): a query parameter to add to this request's URL (a presigned
  ** URL). Flags: SECRET masks it in output. Copied. */
  void (*out_query)(credplug_call *call, const char *name, const char *value, uint32_t flags);

  /* SHA-256 of `len` bytes into out[32]. CREDPLUG_OK, or CREDPLUG_ERR_PLUGIN
  ** when data (with len > 0) or out is NULL. */
  int32_t (*sha256)(const void *data, size_t len, uint8_t *out);
  /* HMAC-SHA-256 (RFC 2104) of `len` bytes under a key of `key_len` bytes,
  ** into out[32]. Wipe the result when it is a key (SigV4's derived keys). */
  int32_t (*hmac_sha256)(const void *key, size_t key_len, const void *data, size_t len, uint8_t *out);
  /* `len` bytes from the operating system's generator (nonces, jti). */
  int32_t (*random_bytes)(void *out, size_t len);
  /* `len` bytes as lowercase hex. Flags as base64_encode(). */
  const char *(*hex_encode)(credplug_call *call, const void *data, size_t len, uint32_t flags);

  /* Parses a key for jwt_sign(), once per instance (in create()): `alg` is
  ** "RS256", "PS256" (RSA, 2048 bits or more), "ES256" (P-256), "EdDSA"
  ** (Ed25519) with a PEM private key of `len` bytes (PKCS#8, PKCS#1 or SEC1;
  ** encrypted PKCS#8 when `passphrase` is not NULL), or "HS256" with the
  ** shared secret's bytes. The text is a credential value, never a file
  ** name. CREDPLUG_OK with *out set; else *out is NULL and the call's error
  ** (set_error) says what is wrong with the key, never its text:
  ** CREDPLUG_ERR_INVALID_CONFIG. The plugin frees the key with key_free(),
  ** in destroy(). A key is read by any thread. */
  int32_t (*key_load)(credplug_call *call, const char *alg, const char *key, size_t len, const char *passphrase,
                      credplug_key **out);
  /* Frees and wipes a key. NULL is a no-op. */
  void (*key_free)(credplug_key *key);
  /* A signed JWT (RFC 7519, compact form) with the key's alg: the client
  ** assertion of private_key_jwt, the assertion of the JWT-bearer grant
  ** (RFC 7523). A secret of the call. NULL when `claims` is not as
  ** described (claims_json not an object, a lifetime out of range). */
  const char *(*jwt_sign)(credplug_call *call, const credplug_key *key, const credplug_jwt_claims *claims);
  /* --- end of minor 3 --- */

  /* Minor 4: the credential's state. Check CREDPLUG_HAS_FIELD(host,
  ** credplug_host_api, out_state) in init(), or require minor 4.
  **
  ** A credential's state is what the plugin learns and must keep, apart from
  ** what the user typed: a refresh token the provider rotates, the scopes it
  ** granted. It is a JSON object of at most 64 KiB (CREDPLUG_MAX_STATE_BYTES),
  ** nesting at most 16 levels; every string in it is a secret. The embedder
  ** persists it (the CLI: the credential file's "$state" member) and gives
  ** it back when it opens the credential, in every process. */

  /* The state as it stands for this call: JSON text of *len bytes, owned by
  ** the host, valid until the call returns. NULL (and *len 0) when the
  ** credential has none yet. In authenticate(), refresh(), test(), sign();
  ** NULL in create() (state may change after an instance is made). */
  const char *(*state)(credplug_call *call, size_t *len);
  /* Replaces the state with `json` (`len` bytes, copied) when the call
  ** succeeds: the host hands it to the embedder to persist before anything
  ** uses what this call produced, and every later call sees it. Call it as
  ** soon as the provider answered with new state (a rotated refresh token),
  ** whatever else fails after: the old refresh token is then never
  ** presented again, even when the call fails. Not an object, too large or
  ** too deep: the call fails, and the state is kept as it was. In
  ** authenticate() and refresh() only. */
  void (*out_state)(credplug_call *call, const char *json, size_t len);
  /* authorize()'s first step: the URL to send the person to (an https://
  ** URL of at most 8 KiB that carries the state). Copied. */
  void (*out_url)(credplug_call *call, const char *url);
  /* --- end of minor 4 --- */
} credplug_host_api;

/* ------------------------------------------------------------------------ */
/* The plugin descriptor (plugin -> host)                                    */
/* ------------------------------------------------------------------------ */

/* Capability bits. */
/* authenticate()/test() may run concurrently on one instance. */
#define CREDPLUG_CAP_CONCURRENT_INSTANCE 0x1u

typedef struct credplug_plugin {
  uint32_t struct_size; /* sizeof(credplug_plugin) as the plugin built it */
  uint32_t abi_major;   /* the major version this descriptor implements */
  uint32_t abi_minor;   /* the minor of the header it was compiled against
                        ** (the negotiated minor is in the interface answer) */

  const char *id;           /* [a-z0-9_-]+, unique: "ainua" */
  const char *display_name; /* "Ainua Portal" */
  const char *version;      /* the plugin's own version, "1.2.0" */
  /* The credential's JSON Schema (draft-04), UTF-8, NUL-terminated. Fields
  ** with "writeOnly": true are secrets. */
  const char *credential_schema;
  uint64_t capabilities; /* CREDPLUG_CAP_* */

  /* Required: id, display_name, version, credential_schema, init, create
  ** and authenticate (init() is how the plugin receives the host API; a
  ** descriptor without it is refused, saying so). Optional (NULL or beyond
  ** struct_size means absent): shutdown, test (the host then reports "no
  ** connection test"), destroy. */

  /* Called once, before any other function but credplug_get_interface().
  ** `host` stays valid until shutdown() returns. Non-zero refuses the load. */
  int32_t (*init)(const credplug_host_api *host);

  /* Called once, last, at process exit. Every instance has been destroyed. */
  void (*shutdown)(void);

  /* Make an instance from a credential that already passed the schema.
  ** Check here what the schema cannot (CREDPLUG_ERR_INVALID_CONFIG, naming
  ** the field and the corrected value); make no network calls: `credplug
  ** validate` runs create() offline.
  ** `credential_json` (len bytes, NUL-terminated) is valid only during the
  ** call and is wiped by the host afterwards: copy what you keep, and wipe
  ** your copies in destroy(). On success set *out and return CREDPLUG_OK. */
  int32_t (*create)(credplug_call *call, const char *credential_json, size_t len, credplug_instance **out);

  /* Obtain what an API call needs now: out_header() for each header to
  ** attach, out_expires_at() when known. May do network I/O through the
  ** host. Returns CREDPLUG_OK or an error code after set_error(). */
  int32_t (*authenticate)(credplug_instance *inst, credplug_call *call);

  /* The provider's connection test, run after a successful authenticate()
  ** on the same instance: proves the headers are accepted. out_info() for
  ** what the user should see. CREDPLUG_OK, or an error after set_error():
  ** INVALID_CONFIG, REJECTED, NETWORK or PROVIDER. */
  int32_t (*test)(credplug_instance *inst, credplug_call *call);

  /* Free an instance and wipe its secrets. NULL is a no-op. */
  void (*destroy)(credplug_instance *inst);
  /* --- end of minor 0 --- */

  /* Minor 1, optional. Renew the headers of an instance whose last
  ** authenticate() or refresh() succeeded, through the provider's own refresh
  ** operation (Nexla's POST /token/refresh), before or after they expire.
  ** Same outputs and errors as authenticate(). The host calls it when its
  ** token cache refreshes ahead of expiry; when it is absent or fails, the
  ** host calls authenticate() in the same attempt (a refresh saves a
  ** credential exchange; it is never the only way to a token). After the API
  ** refused a token (Credential::invalidate) the host calls authenticate(). */
  int32_t (*refresh)(credplug_instance *inst, credplug_call *call);

  /* Minor 1, optional. Seconds a token of this provider lives when neither
  ** out_expires_at() nor the token itself (a JWT's exp) says; 0 = unknown,
  ** and the host applies its own default. */
  uint32_t default_token_lifetime_s;
  /* --- end of minor 1 --- */

  /* Minor 3, optional. Sign one request: out_header() (and out_query())
  ** for that request only, never cached (AWS Signature Version 4, an HMAC
  ** of method, path, time and body). The host calls it for each request an
  ** embedder signs (Credential::sign), once the credential's headers are
  ** at hand (from the cache, or a new authenticate()), and attaches those
  ** too; authenticate() of a plugin with sign() may output no header.
  ** Depend on nothing but create()'s state: an instance may be made again
  ** (a restarted runner) and signed before its next authenticate(). Same
  ** concurrency rules as authenticate(). CREDPLUG_OK, or an error code
  ** after set_error(). */
  int32_t (*sign)(credplug_instance *inst, credplug_call *call, const credplug_sign_request *req);
  /* --- end of minor 3 --- */

  /* Minor 4 (optional; NULL: the plugin connects no person's account). The
  ** authorization code grant, in two steps with the same `auth` values:
  **   code NULL: output the authorization request's URL with out_url():
  **     the provider's authorization endpoint with response_type=code,
  **     client_id, redirect_uri, state, code_challenge,
  **     code_challenge_method and the scopes; no network call.
  **   code set: redeem it at the token endpoint (grant_type=
  **     authorization_code, code, redirect_uri, code_verifier, the client's
  **     authentication) and output the state to keep (out_state: the
  **     refresh token) and may output the access token as authenticate()
  **     does. A refused code: CREDPLUG_ERR_REJECTED.
  ** Each step may run in another process than the one before, on an
  ** instance made for it. CREDPLUG_OK, or an error after set_error(). */
  int32_t (*authorize)(credplug_instance *inst, credplug_call *call, const credplug_authorization *auth);
  /* --- end of minor 4 --- */

  /* Minor 5 (optional; NULL: nothing to revoke). Disconnect the account:
  ** revoke at the provider the grant the call's state() holds (RFC 7009:
  ** the refresh token, which ends its access tokens with it), so that
  ** nobody holding a copy of the state can use it again. The host then
  ** empties the state itself: output none. A token the provider no longer
  ** knows counts as revoked (RFC 7009 §2.2 answers 200). CREDPLUG_OK, or
  ** an error after set_error() (the state is then kept, and the account
  ** stays connected). Same concurrency rules as authenticate(). */
  int32_t (*revoke)(credplug_instance *inst, credplug_call *call);
  /* --- end of minor 5 --- */
} credplug_plugin;

/* ------------------------------------------------------------------------ */
/* The one exported entry point                                              */
/* ------------------------------------------------------------------------ */

/* Filled by the plugin; owned by the host. */
typedef struct credplug_interface_answer {
  uint32_t struct_size; /* set by the host */
  uint32_t major;       /* the major the plugin implements */
  /* On success: the minor the plugin speaks (<= the host's maximum).
  ** On CREDPLUG_ERR_INCOMPATIBLE: the minor the plugin requires. */
  uint32_t minor;
  const void *iface; /* on success: the interface, static in the plugin */
} credplug_interface_answer;

/* The host asks for (`name`, `major`), offering minors up to `host_minor_max`.
** The plugin answers CREDPLUG_OK with `answer->iface` pointing at its static
** descriptor (for "credplug.credential": a credplug_plugin), or
** CREDPLUG_ERR_INCOMPATIBLE with answer->major/minor saying what it needs.
** Must not call the host, allocate, or have side effects. */
typedef int32_t (*credplug_get_interface_fn)(const char *name, uint32_t major, uint32_t host_minor_max,
                                             credplug_interface_answer *answer);

#define CREDPLUG_ENTRY_SYMBOL "credplug_get_interface"

/* The entry point, which every plugin defines exactly once. Declared here so
** that a C definition with another signature fails to compile, and a C++
** definition gets C linkage (an unmangled name) without writing extern "C". */
CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                                               credplug_interface_answer *answer);

/* The credential schema that credplug_add_plugin() (CMake) embeds from the
** plugin's schema file: point credential_schema at it. */
extern const char credplug_credential_schema[];

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CREDPLUG_PLUGIN_H */
