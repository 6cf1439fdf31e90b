/* The C embedding API (credplug/host.h) driven from C99 against a running
** emulator. Run by run.sh, which starts the emulator and sets:
**   CREDPLUG_TEST_PLUGIN_DIR, CREDPLUG_CA_FILE, CREDPLUG_TEST_AINUA_HOST
**   (localhost:PORT), CREDPLUG_TEST_AINUA_SECRET, CREDPLUG_TEST_HOSTILE_DIR
**   (tests/abi/plugins/hostile.c built), CREDPLUG_TEST_ABI_DIR (the ABI
**   suite's plugins: state_counter.c). */
#include <credplug/host.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/* The entry point as a program built against 0.1 is bound to it. */
void init_as_built_against_0_1(credplug_host_options *options);
__asm__(".symver init_as_built_against_0_1, credplug_host_options_init@CREDPLUG_HOST_0");

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "capi_test.c:%d: FAILED: %s\n", __LINE__, #cond); \
      ++failures;                                                       \
    }                                                                   \
  } while (0)

static const char *env(const char *name) {
  const char *v = getenv(name);
  if (v == NULL) {
    fprintf(stderr, "capi_test: %s is not set (run through run.sh)\n", name);
    exit(2);
  }
  return v;
}

static char *credential(const char *host, const char *secret) {
  static const char *fmt = "{\"ainua_url\":\"%s\",\"client_id\":\"connector-1\",\"client_secret\":\"%s\"}";
  size_t n = strlen(fmt) + strlen(host) + strlen(secret) + 1;
  char *s = malloc(n);
  snprintf(s, n, fmt, host, secret);
  return s;
}

/* What the log callback received, one line after another. */
static char logged[8192];
static void capture(void *user, int32_t level, const char *message) {
  size_t used = strlen(logged);
  (void)user;
  (void)level;
  snprintf(logged + used, sizeof logged - used, "%s\n", message);
}

/* The embedder's state sink: refuses `refusals` times, then keeps a copy. */
struct state_sink {
  int refusals, calls;
  char saved[256];
};
static int save_state(void *data, const char *state_json, size_t len) {
  struct state_sink *sink = data;
  ++sink->calls;
  if (sink->refusals > 0) {
    --sink->refusals;
    return 1;
  }
  if (len >= sizeof sink->saved) return 1;
  memcpy(sink->saved, state_json, len);
  sink->saved[len] = '\0';
  return 0;
}

/* Credential events as JSON lines: how many said the state rotated. */
static void count_event(void *data, const char *event_json) {
  int *rotated = data;
  if (strstr(event_json, "\"event\":\"state_rotated\"") != NULL &&
      strstr(event_json, "\"plugin\":\"state-counter\"") != NULL)
    ++*rotated;
}

/* The credential's state through the C API (state_counter.c counts in it). */
static void check_state(void) {
  const char *dirs[2];
  credplug_host_options options;
  credplug_open_options open_options;
  credplug_host *host = NULL;
  credplug_credential *cred = NULL;
  credplug_headers *h = NULL;
  struct state_sink sink;
  char *err = NULL, *state = NULL;
  const char *given = "{\"n\": 41}";
  int32_t rc;
  int rotated = 0;
  dirs[0] = env("CREDPLUG_TEST_ABI_DIR");
  dirs[1] = NULL;
  credplug_host_options_init(&options);
  options.plugin_dirs = dirs;
  options.use_environment = CREDPLUG_OFF;
  options.use_default_dir = CREDPLUG_OFF;
  options.cache_max_attempts = 1; /* each refusal is seen by the caller */
  options.on_event = count_event;
  options.on_event_data = &rotated;
  CHECK(credplug_host_new(&options, &host, NULL) == CREDPLUG_HOST_OK);
  memset(&sink, 0, sizeof sink);
  sink.refusals = 1;
  memset(&open_options, 0, sizeof open_options);
  open_options.struct_size = sizeof open_options;
  open_options.state = given;
  open_options.state_len = strlen(given);
  open_options.on_state = save_state;
  open_options.on_state_data = &sink;
  CHECK(credplug_open_with(host, "state-counter", "{}", 2, &open_options, &cred, NULL) == CREDPLUG_HOST_OK);
  /* The sink refuses: not saved, kept; the next call saves it first. */
  rc = credplug_headers_get(cred, &h, &err);
  CHECK(rc == CREDPLUG_HOST_ERR_STATE_NOT_SAVED && h == NULL);
  CHECK(err != NULL && strstr(err, "could not be saved") != NULL);
  CHECK(strcmp(credplug_status_name(rc), "state_not_saved") == 0);
  credplug_free(err);
  err = NULL;
  CHECK(credplug_credential_state(cred, &state, NULL) == CREDPLUG_HOST_OK);
  CHECK(state != NULL && strstr(state, "\"n\": 42") != NULL);
  credplug_free(state);
  CHECK(credplug_invalidate(cred, NULL, NULL) == CREDPLUG_HOST_OK); /* no backoff: try again now */
  CHECK(credplug_headers_get(cred, &h, NULL) == CREDPLUG_HOST_OK);
  CHECK(h != NULL && strcmp(credplug_headers_value(h, 0), "43") == 0); /* 42 saved, then 43 */
  credplug_headers_release(h);
  CHECK(sink.calls == 3 && strstr(sink.saved, "\"n\": 43") != NULL);
  CHECK(rotated == 1); /* 42 was refused once, so only 43's rotation saved at once */
  /* The embedder's own state (the person connected again): taken as saved. */
  CHECK(credplug_credential_set_state(cred, "{\"n\": 7}", 8, NULL) == CREDPLUG_HOST_OK);
  CHECK(credplug_headers_get(cred, &h, NULL) == CREDPLUG_HOST_OK);
  CHECK(h != NULL && strcmp(credplug_headers_value(h, 0), "8") == 0);
  credplug_headers_release(h);
  CHECK(credplug_credential_set_state(cred, "[7]", 3, &err) == CREDPLUG_HOST_ERR_INVALID_INPUT);
  CHECK(err != NULL && strstr(err, "not a JSON object") != NULL);
  credplug_free(err);
  err = NULL;
  /* Disconnected: the state {} handed to the sink, the old token not served. */
  CHECK(credplug_credential_revoke(cred, NULL) == CREDPLUG_HOST_OK);
  CHECK(strcmp(sink.saved, "{}") == 0);
  CHECK(credplug_headers_get(cred, &h, &err) == CREDPLUG_HOST_ERR_PLUGIN && h == NULL);
  CHECK(err != NULL && strstr(err, "the state has no counter") != NULL);
  credplug_free(err);
  err = NULL;
  CHECK(credplug_credential_revoke(NULL, &err) == CREDPLUG_HOST_ERR_MISUSE);
  credplug_free(err);
  credplug_credential_free(cred);
  credplug_host_free(host);
}

/* The authorization code grant's two calls (no person to approve: the
** second is given a forged redirect, which must be refused). */
static void check_authorization(void) {
  const char *dirs[2];
  credplug_host_options options;
  credplug_host *host = NULL;
  char *url = NULL, *pending = NULL, *state = NULL, *err = NULL, credential[512];
  int64_t expires_at = 0;
  dirs[0] = env("CREDPLUG_TEST_PLUGIN_DIR");
  dirs[1] = NULL;
  credplug_host_options_init(&options);
  options.plugin_dirs = dirs;
  options.use_environment = CREDPLUG_OFF;
  options.use_default_dir = CREDPLUG_OFF;
  CHECK(credplug_host_new(&options, &host, NULL) == CREDPLUG_HOST_OK);
  snprintf(credential, sizeof credential,
           "{\"token_url\": \"https://%s/oauth/token\", \"authorization_url\": \"https://%s/oauth/authorize\", "
           "\"client_id\": \"capi-app\"}",
           env("CREDPLUG_TEST_AINUA_HOST"), env("CREDPLUG_TEST_AINUA_HOST"));
  CHECK(credplug_begin_authorization(host, "oauth2", credential, strlen(credential), "https://app.example/cb", &url,
                                     &pending, &expires_at, NULL) == CREDPLUG_HOST_OK);
  CHECK(url != NULL && strstr(url, "/oauth/authorize?response_type=code&client_id=capi-app") != NULL);
  CHECK(url != NULL && strstr(url, "code_challenge_method=S256") != NULL);
  CHECK(pending != NULL && strlen(pending) > 100);
  CHECK(expires_at > 0);
  CHECK(credplug_complete_authorization(host, pending, "https://app.example/cb?code=x&state=forged", &state, &err) ==
        CREDPLUG_HOST_ERR_INVALID_INPUT);
  CHECK(state == NULL && err != NULL && strstr(err, "CSRF") != NULL);
  credplug_free(err);
  credplug_free(url);
  credplug_free(pending);
  err = NULL;
  CHECK(credplug_begin_authorization(host, "oauth2", credential, strlen(credential), "http://app.example/cb", &url,
                                     &pending, NULL, &err) == CREDPLUG_HOST_ERR_INVALID_INPUT);
  CHECK(url == NULL && pending == NULL);
  credplug_free(err);
  credplug_host_free(host);
}

int main(void) {
  const char *dirs[2];
  const char *secret = env("CREDPLUG_TEST_AINUA_SECRET");
  const char *ainua = env("CREDPLUG_TEST_AINUA_HOST");
  credplug_host_options options;
  credplug_host *host = NULL;
  credplug_credential *cred = NULL, *bad = NULL;
  credplug_headers *h1 = NULL, *h2 = NULL, *h3 = NULL;
  char *err = NULL, *json = NULL, *text;
  int32_t rc;

  dirs[0] = env("CREDPLUG_TEST_PLUGIN_DIR");
  dirs[1] = NULL;
  credplug_host_options_init(&options);
  CHECK(options.struct_size == sizeof options);
  CHECK(options.cache_max_attempts == 3);
  options.plugin_dirs = dirs;
  options.use_environment = CREDPLUG_OFF;
  options.use_default_dir = CREDPLUG_OFF;
  options.ca_file = env("CREDPLUG_CA_FILE");
  CHECK(strstr(credplug_host_version(), "plugin ABI 1.") != NULL);
  CHECK(strncmp(credplug_host_version(), CREDPLUG_HOST_VERSION " ", strlen(CREDPLUG_HOST_VERSION) + 1) == 0);
  CHECK(credplug_host_version_number() >= CREDPLUG_HOST_VERSION_NUMBER);
  CHECK(CREDPLUG_HOST_VERSION_NUMBER ==
        CREDPLUG_HOST_VERSION_MAJOR * 1000000 + CREDPLUG_HOST_VERSION_MINOR * 1000 + CREDPLUG_HOST_VERSION_PATCH);
  /* Every status has a name and a text; the names are the --json ones. */
  CHECK(strcmp(credplug_status_name(CREDPLUG_HOST_OK), "ok") == 0);
  CHECK(strcmp(credplug_status_name(CREDPLUG_HOST_ERR_REJECTED), "rejected") == 0);
  CHECK(strcmp(credplug_status_name(CREDPLUG_HOST_ERR_INVALID_INPUT), "invalid_input") == 0);
  CHECK(strcmp(credplug_status_name(CREDPLUG_HOST_ERR_MISUSE), "misuse") == 0);
  CHECK(strcmp(credplug_status_name(99), "unknown") == 0);
  CHECK(strcmp(credplug_status_string(CREDPLUG_HOST_ERR_REJECTED), "credentials rejected") == 0);
  CHECK(strcmp(credplug_status_string(-1), "unknown status") == 0);

  /* A program built against 0.1 calls the unsized entry point with a smaller
  ** struct: it must fill that much and not one byte more. */
  {
    const size_t old_size = offsetof(credplug_host_options, allow_unsafe_plugin_paths);
    union {
      credplug_host_options options;
      unsigned char bytes[sizeof(credplug_host_options) + 16];
    } buffer;
    size_t i;
    memset(buffer.bytes, 0xAB, sizeof buffer.bytes);
    init_as_built_against_0_1(&buffer.options);
    CHECK(buffer.options.struct_size == old_size);
    for (i = old_size; i < sizeof buffer.bytes; ++i) CHECK(buffer.bytes[i] == 0xAB);
    CHECK(buffer.options.cache_max_attempts == 3);
  }
  /* The function by its name, around the macro (as an FFI finds it): it
  ** cannot know the size, fills nothing, and the struct is refused. */
  {
    credplug_host_options unsized;
    credplug_host *h = NULL;
    memset(&unsized, 0xAB, sizeof unsized);
    (credplug_host_options_init)(&unsized);
    CHECK(unsized.struct_size == 0 && unsized.cache_max_attempts != 3);
    CHECK(credplug_host_new(&unsized, &h, &err) == CREDPLUG_HOST_ERR_MISUSE && h == NULL);
    CHECK(err != NULL && strstr(err, "credplug_host_options_init_sized(&o, sizeof o)") != NULL);
    credplug_free(err);
  }

  /* 0 means the default in every field: a zero-filled struct is all
  ** defaults (use_environment on: CREDPLUG_PLUGIN_PATH is searched);
  ** CREDPLUG_OFF turns a switch off; a 0.3 program's 0 keeps meaning off. */
  {
    const char *only[2];
    const char *cases[3] = {"zero", "off", "0.3"};
    int i;
    only[0] = env("CREDPLUG_TEST_PLUGIN_DIR");
    only[1] = NULL;
    setenv("CREDPLUG_PLUGIN_PATH", env("CREDPLUG_TEST_HOSTILE_DIR"), 1);
    for (i = 0; i < 3; ++i) {
      credplug_host_options zero;
      credplug_host *h = NULL;
      memset(&zero, 0, sizeof zero);
      zero.struct_size = i == 2 ? (uint32_t)offsetof(credplug_host_options, max_response_bytes) : sizeof zero;
      zero.plugin_dirs = only;
      if (i == 1) zero.use_environment = CREDPLUG_OFF;
      CHECK(credplug_host_new(&zero, &h, &err) == CREDPLUG_HOST_OK);
      CHECK(credplug_host_plugins(h, &json, &err) == CREDPLUG_HOST_OK);
      if ((strstr(json, "\"id\":\"hostile\"") != NULL) != (i == 0)) {
        fprintf(stderr, "capi_test: options %s: CREDPLUG_PLUGIN_PATH was %s\n", cases[i],
                i == 0 ? "ignored" : "searched");
        ++failures;
      }
      credplug_free(json);
      credplug_host_free(h);
    }
    unsetenv("CREDPLUG_PLUGIN_PATH");
  }

  /* Misuse is an error code and a message, not a crash. */
  CHECK(credplug_host_new(&options, NULL, &err) == CREDPLUG_HOST_ERR_MISUSE);
  CHECK(err != NULL && strstr(err, "out") != NULL);
  credplug_free(err);
  CHECK(credplug_headers_get(NULL, &h1, NULL) == CREDPLUG_HOST_ERR_MISUSE && h1 == NULL);

  rc = credplug_host_new(&options, &host, &err);
  CHECK(rc == CREDPLUG_HOST_OK && err == NULL);
  CHECK(credplug_host_plugins(host, &json, &err) == CREDPLUG_HOST_OK);
  CHECK(json != NULL && strstr(json, "\"id\":\"ainua\"") != NULL);
  credplug_free(json);

  /* The schema, for a form; validation as JSON: pointer, field, title, rule. */
  CHECK(credplug_host_schema(host, "ainua", &json, &err) == CREDPLUG_HOST_OK);
  CHECK(json != NULL && strstr(json, "\"client_secret\"") != NULL && strstr(json, "writeOnly") != NULL);
  credplug_free(json);
  CHECK(credplug_host_schema(host, "no-such-plugin", &json, &err) == CREDPLUG_HOST_ERR_INVALID_INPUT && json == NULL);
  credplug_free(err);
  /* The form: draft-07, and the secret as a password widget. */
  CHECK(credplug_host_schema_form(host, "ainua", &json, &err) == CREDPLUG_HOST_OK);
  CHECK(json != NULL && strstr(json, "draft-07") != NULL && strstr(json, "\"uiSchema\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"ui:widget\": \"password\"") != NULL);
  credplug_free(json);
  CHECK(credplug_host_schema_form(host, "no-such-plugin", &json, &err) == CREDPLUG_HOST_ERR_INVALID_INPUT &&
        json == NULL);
  credplug_free(err);
  CHECK(credplug_host_schema_form(host, "ainua", NULL, NULL) == CREDPLUG_HOST_ERR_MISUSE);
  text = "{\"client_id\":\"x\"}";
  CHECK(credplug_validate_json(host, "ainua", text, strlen(text), &json, &err) == CREDPLUG_HOST_OK);
  CHECK(json != NULL && strstr(json, "\"valid\":false") != NULL);
  CHECK(json != NULL && strstr(json, "{\"pointer\":\"/ainua_url\",\"field\":\"ainua_url\",\"title\":\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"rule\":\"required\"") != NULL);
  credplug_free(json);

  /* Validation names the field; an unknown plugin is invalid input. */
  text = "{\"client_id\":\"x\"}";
  rc = credplug_validate(host, "ainua", text, strlen(text), &err);
  CHECK(rc == CREDPLUG_HOST_ERR_INVALID_INPUT);
  CHECK(err != NULL && strstr(err, "ainua_url") != NULL);
  credplug_free(err);
  CHECK(credplug_open(host, "no-such-plugin", "{}", 2, &cred, NULL) == CREDPLUG_HOST_ERR_INVALID_INPUT && cred == NULL);

  /* Headers from the cache: one token for both calls. */
  text = credential(ainua, secret);
  rc = credplug_open(host, "ainua", text, strlen(text), &cred, &err);
  memset(text, 0, strlen(text));
  free(text);
  CHECK(rc == CREDPLUG_HOST_OK);
  if (rc != CREDPLUG_HOST_OK) {
    fprintf(stderr, "open: %s\n", err ? err : "?");
    return 1;
  }
  /* Nothing cached yet: no headers, and no token request started. */
  h2 = (credplug_headers *)1;
  CHECK(credplug_headers_get_cached(cred, &h2, &err) == CREDPLUG_HOST_OK && h2 == NULL && err == NULL);
  CHECK(credplug_headers_get_cached(cred, NULL, NULL) == CREDPLUG_HOST_ERR_MISUSE);
  CHECK(credplug_headers_get(cred, &h1, &err) == CREDPLUG_HOST_OK);
  CHECK(credplug_headers_get_cached(cred, &h2, NULL) == CREDPLUG_HOST_OK && h2 != NULL);
  CHECK(h2 != NULL && credplug_headers_generation(h2) == credplug_headers_generation(h1));
  credplug_headers_release(h2);
  CHECK(credplug_headers_count(h1) == 1);
  CHECK(strcmp(credplug_headers_name(h1, 0), "Authorization") == 0);
  CHECK(strncmp(credplug_headers_value(h1, 0), "Bearer ", 7) == 0);
  CHECK(credplug_headers_secret(h1, 0) == 1);
  CHECK(credplug_headers_name(h1, 1) == NULL);
  CHECK(credplug_headers_expires_at(h1) > 0);
  CHECK(credplug_headers_generation(h1) == 1);
  CHECK(credplug_headers_get(cred, &h2, NULL) == CREDPLUG_HOST_OK);
  CHECK(credplug_headers_generation(h2) == 1);
  CHECK(strcmp(credplug_headers_value(h1, 0), credplug_headers_value(h2, 0)) == 0);

  /* Borrowed: the same token, no handle to release. */
  {
    const credplug_headers *view = NULL;
    CHECK(credplug_headers_borrow(cred, &view, &err) == CREDPLUG_HOST_OK && view != NULL && err == NULL);
    CHECK(view != NULL && credplug_headers_generation(view) == 1);
    CHECK(view != NULL && strcmp(credplug_headers_value(view, 0), credplug_headers_value(h1, 0)) == 0);
    CHECK(credplug_headers_borrow(cred, NULL, NULL) == CREDPLUG_HOST_ERR_MISUSE);
    CHECK(credplug_headers_borrow(NULL, &view, NULL) == CREDPLUG_HOST_ERR_MISUSE && view == NULL);
  }

  /* A 401 from the API: invalidate, and the next call brings a new token. */
  CHECK(credplug_invalidate(cred, h1, NULL) == CREDPLUG_HOST_OK);
  CHECK(credplug_headers_get(cred, &h3, NULL) == CREDPLUG_HOST_OK);
  CHECK(credplug_headers_generation(h3) == 2);
  {
    const credplug_headers *view = NULL;
    CHECK(credplug_headers_borrow(cred, &view, NULL) == CREDPLUG_HOST_OK && credplug_headers_generation(view) == 2);
  }
  /* Released headers of an old token stay readable until released. */
  CHECK(strncmp(credplug_headers_value(h1, 0), "Bearer ", 7) == 0);
  credplug_headers_release(h1);
  credplug_headers_release(h2);
  credplug_headers_release(h3);
  credplug_headers_release(NULL);

  CHECK(credplug_cache_status(cred, &json, NULL) == CREDPLUG_HOST_OK);
  CHECK(strstr(json, "\"generation\":2") != NULL && strstr(json, "\"has_token\":true") != NULL);
  credplug_free(json);
  CHECK(credplug_test(cred, &json, &err) == CREDPLUG_HOST_OK);
  CHECK(json != NULL && strstr(json, "\"ok\":true") != NULL && strstr(json, "Bearer") == NULL);
  credplug_free(json);

  /* A wrong secret: rejected, and the message never carries it. */
  text = credential(ainua, "CANARY-capi-wrong-secret");
  CHECK(credplug_open(host, "ainua", text, strlen(text), &bad, NULL) == CREDPLUG_HOST_OK);
  free(text);
  rc = credplug_headers_get(bad, &h1, &err);
  CHECK(rc == CREDPLUG_HOST_ERR_REJECTED && h1 == NULL);
  CHECK(err != NULL && strstr(err, "CANARY-capi-wrong-secret") == NULL && strstr(err, "not retried") != NULL);
  credplug_free(err);

  credplug_credential_free(bad);
  credplug_host_free(host); /* credentials may outlive their host */
  CHECK(credplug_headers_get(cred, &h1, NULL) == CREDPLUG_HOST_OK);
  credplug_headers_release(h1);
  /* References: the credential closes with the last. */
  CHECK(credplug_credential_ref(cred) == cred);
  credplug_credential_free(cred);
  CHECK(credplug_headers_get(cred, &h1, NULL) == CREDPLUG_HOST_OK);
  credplug_headers_release(h1);
  CHECK(credplug_credential_ref(NULL) == NULL);
  credplug_credential_free(cred);
  credplug_free(NULL);

  /* Operators: a label given at open names the credential in every log
  ** line (here JSON lines) and in its status. */
  {
    credplug_open_options open_options;
    credplug_credential *tenant = NULL;
    memset(&open_options, 0, sizeof open_options);
    open_options.label = "tenant-c";
    options.log = capture;
    options.log_format = CREDPLUG_LOG_FORMAT_JSON;
    CHECK(credplug_host_new(&options, &host, NULL) == CREDPLUG_HOST_OK);
    text = credential(ainua, "CANARY-capi-wrong-secret");
    rc = credplug_open_with(host, "ainua", text, strlen(text), &open_options, &tenant, &err);
    CHECK(rc == CREDPLUG_HOST_ERR_MISUSE && err != NULL && strstr(err, "sizeof(credplug_open_options)") != NULL);
    credplug_free(err);
    open_options.struct_size = sizeof open_options;
    CHECK(credplug_open_with(host, "ainua", text, strlen(text), &open_options, &tenant, NULL) == CREDPLUG_HOST_OK);
    CHECK(credplug_credential_status(tenant, &json, NULL) == CREDPLUG_HOST_OK);
    CHECK(strstr(json, "\"state\":\"idle\"") != NULL && strstr(json, "\"label\":\"tenant-c\"") != NULL);
    credplug_free(json);
    CHECK(credplug_headers_get(tenant, &h1, NULL) == CREDPLUG_HOST_ERR_REJECTED);
    CHECK(credplug_credential_status(tenant, &json, NULL) == CREDPLUG_HOST_OK);
    CHECK(strstr(json, "\"state\":\"rejected\"") != NULL && strstr(json, "\"last_error_kind\":\"rejected\"") != NULL);
    credplug_free(json);
    CHECK(strstr(logged, "{\"time\":") == logged);
    CHECK(strstr(logged,
                 "\"level\":\"error\",\"plugin\":\"ainua\",\"credential\":\"tenant-c\",\"event\":"
                 "\"token_request_failed\"") != NULL);
    CHECK(strstr(logged, "\"state\":\"rejected\"") != NULL);
    CHECK(strstr(logged, "CANARY-capi-wrong-secret") == NULL);
    CHECK(credplug_host_metrics_prometheus(host, &json, NULL) == CREDPLUG_HOST_OK);
    CHECK(strstr(json, "credplug_credentials{plugin=\"ainua\",state=\"rejected\"} 1") != NULL);
    credplug_free(json);
    open_options.label = "bad\nlabel";
    rc = credplug_open_with(host, "ainua", text, strlen(text), &open_options, &bad, &err);
    CHECK(rc == CREDPLUG_HOST_ERR_INVALID_INPUT && bad == NULL && strstr(err, "label") != NULL);
    credplug_free(err);
    free(text);
    credplug_credential_free(tenant);
    credplug_host_free(host);
    options.log_format = 7;
    CHECK(credplug_host_new(&options, &host, &err) == CREDPLUG_HOST_ERR_MISUSE && host == NULL);
    credplug_free(err);
    options.log_format = CREDPLUG_LOG_FORMAT_DEFAULT;
    options.log = NULL;
  }

  /* Isolation: a plugin that crashes or never returns fails its own calls
  ** with CREDPLUG_HOST_ERR_PLUGIN, naming what happened; this process and
  ** its other credentials go on. */
  {
    const char *both[3];
    credplug_credential *crash = NULL, *loop = NULL, *good = NULL;
    static const char crash_json[] = "{\"action\": \"crash\", \"where\": \"authenticate\"}";
    static const char loop_json[] = "{\"action\": \"loop\", \"where\": \"authenticate\"}";
    both[0] = env("CREDPLUG_TEST_HOSTILE_DIR");
    both[1] = env("CREDPLUG_TEST_PLUGIN_DIR");
    both[2] = NULL;
    options.plugin_dirs = both;
    options.isolation = CREDPLUG_ISOLATION_PROCESS;
    options.total_timeout_ms = 300; /* the plugin's deadline is 2 s more */
    CHECK(credplug_host_new(&options, &host, NULL) == CREDPLUG_HOST_OK);
    /* Crashes while loading are rows of the plugin list, not this process's end. */
    CHECK(credplug_host_plugins(host, &json, NULL) == CREDPLUG_HOST_OK);
    CHECK(json != NULL && strstr(json, "crashed while loading (SIGABRT)") != NULL);
    CHECK(json != NULL && strstr(json, "\"id\":\"hostile\"") != NULL && strstr(json, "\"id\":\"ainua\"") != NULL);
    credplug_free(json);
    text = credential(ainua, secret);
    CHECK(credplug_open(host, "ainua", text, strlen(text), &good, NULL) == CREDPLUG_HOST_OK);
    free(text);
    CHECK(credplug_open(host, "hostile", crash_json, strlen(crash_json), &crash, NULL) == CREDPLUG_HOST_OK);
    CHECK(credplug_open(host, "hostile", loop_json, strlen(loop_json), &loop, NULL) == CREDPLUG_HOST_OK);
    CHECK(credplug_headers_get(crash, &h1, &err) == CREDPLUG_HOST_ERR_PLUGIN && h1 == NULL);
    CHECK(err != NULL && strstr(err, "plugin 'hostile' crashed (SIGSEGV) during authenticate") != NULL);
    credplug_free(err);
    CHECK(credplug_headers_get(loop, &h1, &err) == CREDPLUG_HOST_ERR_PLUGIN && h1 == NULL);
    CHECK(err != NULL && strstr(err, "did not finish authenticate within 2300 ms") != NULL);
    credplug_free(err);
    CHECK(credplug_headers_get(good, &h1, NULL) == CREDPLUG_HOST_OK);
    credplug_headers_release(h1);
    /* Metrics, as JSON and as Prometheus text. */
    CHECK(credplug_host_metrics(host, &json, &err) == CREDPLUG_HOST_OK);
    CHECK(json != NULL && strstr(json, "\"l1_hits\":") != NULL && strstr(json, "\"ainua\":{\"outcomes\"") != NULL);
    credplug_free(json);
    CHECK(credplug_host_metrics_prometheus(host, &text, &err) == CREDPLUG_HOST_OK);
    CHECK(text != NULL && strstr(text, "credplug_token_requests_total{plugin=\"ainua\",outcome=\"ok\"}") != NULL);
    credplug_free(text);
    CHECK(credplug_host_metrics(NULL, &json, NULL) == CREDPLUG_HOST_ERR_MISUSE);
    credplug_host_free(host);
    options.isolation = 7;
    CHECK(credplug_host_new(&options, &host, &err) == CREDPLUG_HOST_ERR_MISUSE);
    CHECK(err != NULL && strstr(err, "CREDPLUG_ISOLATION_") != NULL);
    credplug_free(err);
    credplug_credential_free(crash);
    credplug_credential_free(loop);
    credplug_credential_free(good);
  }

  /* Per-request signing (AWS Signature Version 4), in both isolation
  ** modes: the published suite's get-vanilla, signed at its time. */
  {
    static const char aws_json[] =
        "{\"access_key_id\":\"AKIDEXAMPLE\",\"secret_access_key\":\"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\","
        "\"region\":\"us-east-1\",\"service\":\"service\"}";
    static const char expected[] =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    const int32_t modes[2] = {CREDPLUG_ISOLATION_PROCESS, CREDPLUG_ISOLATION_IN_PROCESS};
    int m;
    for (m = 0; m < 2; ++m) {
      credplug_credential *aws = NULL;
      credplug_signed *sig = NULL;
      credplug_request request;
      credplug_headers *none = NULL;
      const char *sent[] = {"Host", "example.amazonaws.com", NULL};
      dirs[0] = env("CREDPLUG_TEST_PLUGIN_DIR");
      dirs[1] = NULL;
      credplug_host_options_init(&options);
      options.plugin_dirs = dirs;
      options.isolation = modes[m];
      CHECK(credplug_host_new(&options, &host, NULL) == CREDPLUG_HOST_OK);
      CHECK(credplug_open(host, "aws", aws_json, sizeof aws_json - 1, &aws, NULL) == CREDPLUG_HOST_OK);
      memset(&request, 0, sizeof request);
      request.struct_size = sizeof request;
      request.url = "https://example.amazonaws.com/";
      request.headers = sent;
      request.time_ms = 1440938160000LL;
      CHECK(credplug_credential_sign(aws, &request, &sig, &err) == CREDPLUG_HOST_OK);
      CHECK(credplug_signed_header_count(sig) == 2);
      CHECK(strcmp(credplug_signed_header_name(sig, 0), "Authorization") == 0);
      CHECK(strcmp(credplug_signed_header_value(sig, 0), expected) == 0);
      CHECK(credplug_signed_header_secret(sig, 0) == 1);
      CHECK(strcmp(credplug_signed_header_value(sig, 1), "20150830T123600Z") == 0);
      CHECK(credplug_signed_header_secret(sig, 1) == 0);
      CHECK(credplug_signed_query_count(sig) == 0);
      CHECK(strcmp(credplug_signed_url(sig), "https://example.amazonaws.com/") == 0);
      CHECK(credplug_signed_header_value(sig, 2) == NULL);
      credplug_signed_release(sig);
      /* No token: empty headers that never expire. */
      CHECK(credplug_headers_get(aws, &none, NULL) == CREDPLUG_HOST_OK);
      CHECK(credplug_headers_count(none) == 0);
      CHECK(credplug_headers_expires_at(none) == INT64_MAX);
      credplug_headers_release(none);
      /* Not a request: refused, naming why. */
      request.url = "http://example.amazonaws.com/";
      sig = NULL;
      CHECK(credplug_credential_sign(aws, &request, &sig, &err) == CREDPLUG_HOST_ERR_INVALID_INPUT && sig == NULL);
      CHECK(err != NULL && strstr(err, "not https://") != NULL);
      credplug_free(err);
      err = NULL;
      request.struct_size = 4;
      CHECK(credplug_credential_sign(aws, &request, &sig, NULL) == CREDPLUG_HOST_ERR_MISUSE);
      credplug_credential_free(aws);
      credplug_host_free(host);
    }
  }

  /* A provider described in JSON (examples/json-provider), no code: an API
  ** key in a header, against the emulator's API that takes it; in both
  ** isolation modes (the host interprets a description in either). */
  {
    const int32_t modes[2] = {CREDPLUG_ISOLATION_PROCESS, CREDPLUG_ISOLATION_IN_PROCESS};
    int m;
    for (m = 0; m < 2; ++m) {
      char keyed_json[512];
      credplug_credential *keyed = NULL, *wrong = NULL;
      credplug_headers *h = NULL;
      char *result = NULL;
      dirs[0] = env("CREDPLUG_TEST_DESCRIBED_DIR");
      dirs[1] = NULL;
      credplug_host_options_init(&options);
      options.plugin_dirs = dirs;
      options.use_environment = CREDPLUG_OFF;
      options.use_default_dir = CREDPLUG_OFF;
      options.ca_file = env("CREDPLUG_CA_FILE");
      options.isolation = modes[m];
      CHECK(credplug_host_new(&options, &host, NULL) == CREDPLUG_HOST_OK);
      snprintf(keyed_json, sizeof keyed_json, "{\"api_url\":\"https://%s\",\"api_key\":\"%s\"}", ainua,
               env("CREDPLUG_TEST_STATIC_KEY"));
      CHECK(credplug_open(host, "keyed-api", keyed_json, strlen(keyed_json), &keyed, NULL) == CREDPLUG_HOST_OK);
      CHECK(credplug_headers_get(keyed, &h, NULL) == CREDPLUG_HOST_OK);
      CHECK(credplug_headers_count(h) == 1);
      CHECK(strcmp(credplug_headers_name(h, 0), "X-Api-Key") == 0);
      CHECK(strcmp(credplug_headers_value(h, 0), env("CREDPLUG_TEST_STATIC_KEY")) == 0);
      CHECK(credplug_headers_secret(h, 0) == 1);
      CHECK(credplug_headers_expires_at(h) == INT64_MAX); /* a static key never expires */
      credplug_headers_release(h);
      CHECK(credplug_test(keyed, &result, &err) == CREDPLUG_HOST_OK);
      CHECK(result != NULL && strstr(result, "keyed-account") != NULL);
      CHECK(result != NULL && strstr(result, env("CREDPLUG_TEST_STATIC_KEY")) == NULL);
      credplug_free(result);
      snprintf(keyed_json, sizeof keyed_json, "{\"api_url\":\"https://%s\",\"api_key\":\"not-the-key-1\"}", ainua);
      CHECK(credplug_open(host, "keyed-api", keyed_json, strlen(keyed_json), &wrong, NULL) == CREDPLUG_HOST_OK);
      CHECK(credplug_test(wrong, NULL, &err) == CREDPLUG_HOST_ERR_REJECTED);
      CHECK(err != NULL && strstr(err, "refused the key") != NULL);
      credplug_free(err);
      err = NULL;
      credplug_credential_free(wrong);
      credplug_credential_free(keyed);
      credplug_host_free(host);
    }
  }

  check_state();
  check_authorization();

  if (failures) {
    fprintf(stderr, "capi_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_test: OK\n");
  return 0;
}
