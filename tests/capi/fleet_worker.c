/* One worker of a fleet, through the C API: opens a credential with the
** shared cache and, from each of its threads, asks for its headers every
** 10 ms for a while, as a service calling an API would. Checks every token
** it gets is unexpired; with API_URL, also presents the headers there
** (libcurl, verified against CA_FILE), as the documented loop does: on a
** 401, invalidate and go on.
**   fleet_worker [OPTIONS] PLUGIN_DIR CA_FILE REDIS_URL KEY_FILE PLUGIN CREDENTIAL_FILE MS [API_URL]
** REDIS_URL "-": no shared cache (a process on its own, as a baseline).
** Options:
**   --threads N        N threads calling (default 1)
**   --in-process       plugins in this process (default: isolated)
**   --state FILE       the credential's state: read from FILE at start, and
**                      each new state written back to it (to FILE.tmp, then
**                      renamed), as a platform's database would keep it
**   --label L          the credential's label (an account's id)
**   --stop-file PATH   stops early once PATH exists (MS is then a limit)
**   --timeout-ms T     each HTTP request's limit (total_timeout_ms); a token
**                      request holds the fleet's lease at most T + 1 s
**   --die-in-sink      killed (SIGKILL) the first time a new state arrives,
**                      before writing it: a process that dies between the
**                      provider's answer and its own write-back
** Prints "calls=N errors=E expired=X rejected=R saves=S"; exits 0 when
** errors, expired and rejected are all 0. */
#define _POSIX_C_SOURCE 200809L
#include <credplug/host.h>

#include <curl/curl.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(int clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t discard(char *data, size_t size, size_t n, void *user) {
  (void)data, (void)user;
  return size * n;
}

/* GET url with the headers: the HTTP status, or -1 when it could not be sent. */
static long present(CURL *curl, const char *url, const char *ca_file, const credplug_headers *h) {
  struct curl_slist *list = NULL;
  char line[8192];
  long status = -1;
  size_t i;
  for (i = 0; i < credplug_headers_count(h); ++i) {
    snprintf(line, sizeof line, "%s: %s", credplug_headers_name(h, i), credplug_headers_value(h, i));
    list = curl_slist_append(list, line);
  }
  memset(line, 0, sizeof line);
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  return status;
}

/* What every calling thread shares. */
struct run {
  credplug_credential *cred;
  const char *ca_file, *api_url;
  long long until;
  pthread_mutex_t mutex; /* the counts, and stderr */
  long calls, errors, expired, rejected, saves;
  const char *state_file, *stop_file;
  int die_in_sink;
};

static int go_on(const struct run *r) {
  if (now_ms(CLOCK_MONOTONIC) >= r->until) return 0;
  return r->stop_file == NULL || access(r->stop_file, F_OK) != 0;
}

/* The state sink: FILE.tmp, then renamed over FILE. */
static int save_state(void *data, const char *json, size_t len) {
  struct run *r = data;
  char tmp[4096];
  FILE *f;
  int ok;
  if (r->die_in_sink) raise(SIGKILL);
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", r->state_file, (long)getpid());
  f = fopen(tmp, "wb");
  if (f == NULL) return 1;
  ok = fwrite(json, 1, len, f) == len;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, r->state_file) != 0) return 1;
  pthread_mutex_lock(&r->mutex);
  ++r->saves;
  pthread_mutex_unlock(&r->mutex);
  return 0;
}

static void *call_until_done(void *data) {
  struct run *r = data;
  CURL *curl = NULL;
  char *err = NULL;
  long calls = 0, errors = 0, expired = 0, rejected = 0;
  if (r->api_url != NULL && (curl = curl_easy_init()) == NULL) errors = 1;
  do {
    credplug_headers *h = NULL;
    /* Expired when served: past its expiry already when asked for (a token
    ** that expires while this thread waits for a core is not). */
    const long long asked_ms = now_ms(CLOCK_REALTIME);
    ++calls;
    if (credplug_headers_get(r->cred, &h, &err) != CREDPLUG_HOST_OK) {
      ++errors;
      pthread_mutex_lock(&r->mutex);
      fprintf(stderr, "fleet_worker: %s\n", err);
      pthread_mutex_unlock(&r->mutex);
      credplug_free(err);
      err = NULL;
    } else {
      long long expires = credplug_headers_expires_at(h);
      if (expires != 0 && expires * 1000 <= asked_ms) ++expired;
      if (curl != NULL) {
        long status = present(curl, r->api_url, r->ca_file, h);
        if (status == 401) {
          ++rejected;
          credplug_invalidate(r->cred, h, NULL);
        } else if (status != 200) {
          ++errors;
          pthread_mutex_lock(&r->mutex);
          fprintf(stderr, "fleet_worker: %s answered %ld\n", r->api_url, status);
          pthread_mutex_unlock(&r->mutex);
        }
      }
      credplug_headers_release(h);
    }
    {
      struct timespec pause = {0, 10L * 1000000};
      nanosleep(&pause, NULL);
    }
  } while (go_on(r));
  if (curl != NULL) curl_easy_cleanup(curl);
  pthread_mutex_lock(&r->mutex);
  r->calls += calls;
  r->errors += errors;
  r->expired += expired;
  r->rejected += rejected;
  pthread_mutex_unlock(&r->mutex);
  return NULL;
}

/* FILE's bytes into buf (NUL-terminated); their count, or -1. */
static long read_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  size_t len;
  if (f == NULL) return -1;
  len = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[len] = '\0';
  return (long)len;
}

int main(int argc, char **argv) {
  credplug_host_options o;
  credplug_open_options open_options;
  credplug_host *host = NULL;
  const char *dirs[2];
  static char text[65536], state[65536];
  char *err = NULL;
  long len, state_len = -1;
  int threads = 1, in_process = 0, i, first = 1;
  long timeout_ms = 0;
  const char *label = NULL;
  pthread_t pool[64];
  struct run r;
  memset(&r, 0, sizeof r);
  pthread_mutex_init(&r.mutex, NULL);
  while (first < argc && strncmp(argv[first], "--", 2) == 0) {
    if (strcmp(argv[first], "--threads") == 0 && first + 1 < argc)
      threads = atoi(argv[++first]);
    else if (strcmp(argv[first], "--in-process") == 0)
      in_process = 1;
    else if (strcmp(argv[first], "--state") == 0 && first + 1 < argc)
      r.state_file = argv[++first];
    else if (strcmp(argv[first], "--label") == 0 && first + 1 < argc)
      label = argv[++first];
    else if (strcmp(argv[first], "--stop-file") == 0 && first + 1 < argc)
      r.stop_file = argv[++first];
    else if (strcmp(argv[first], "--timeout-ms") == 0 && first + 1 < argc)
      timeout_ms = atol(argv[++first]);
    else if (strcmp(argv[first], "--die-in-sink") == 0)
      r.die_in_sink = 1;
    else
      break;
    ++first;
  }
  argv += first - 1;
  argc -= first - 1;
  if ((argc != 8 && argc != 9) || threads < 1 || threads > 64) {
    fprintf(stderr,
            "usage: fleet_worker [--threads N] [--in-process] [--state FILE] [--label L] [--stop-file PATH] "
            "[--timeout-ms T] [--die-in-sink] "
            "PLUGIN_DIR CA_FILE REDIS_URL KEY_FILE PLUGIN CREDENTIAL_FILE MS [API_URL]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if ((len = read_file(argv[6], text, sizeof text)) < 0) return 2;
  if (r.state_file != NULL && (state_len = read_file(r.state_file, state, sizeof state)) < 0) return 2;
  dirs[0] = argv[1];
  dirs[1] = NULL;
  credplug_host_options_init(&o);
  o.plugin_dirs = dirs;
  o.use_environment = CREDPLUG_OFF;
  o.use_default_dir = CREDPLUG_OFF;
  o.ca_file = argv[2];
  if (in_process) o.isolation = CREDPLUG_ISOLATION_IN_PROCESS;
  if (strcmp(argv[3], "-") != 0) {
    o.shared_cache_url = argv[3];
    o.shared_cache_key_file = argv[4];
  }
  o.cache_skew_ms = 200;
  if (timeout_ms > 0) o.total_timeout_ms = timeout_ms;
  memset(&open_options, 0, sizeof open_options);
  open_options.struct_size = sizeof open_options;
  open_options.label = label;
  if (r.state_file != NULL) {
    open_options.state = state;
    open_options.state_len = (size_t)state_len;
    open_options.on_state = save_state;
    open_options.on_state_data = &r;
  }
  if (credplug_host_new(&o, &host, &err) != CREDPLUG_HOST_OK ||
      credplug_open_with(host, argv[5], text, (size_t)len, &open_options, &r.cred, &err) != CREDPLUG_HOST_OK) {
    fprintf(stderr, "fleet_worker: %s\n", err ? err : "failed");
    return 1;
  }
  memset(text, 0, sizeof text);
  memset(state, 0, sizeof state);
  r.ca_file = argv[2];
  r.api_url = argc == 9 ? argv[8] : NULL;
  r.until = now_ms(CLOCK_MONOTONIC) + atol(argv[7]);
  for (i = 0; i < threads; ++i)
    if (pthread_create(&pool[i], NULL, call_until_done, &r) != 0) return 2;
  for (i = 0; i < threads; ++i) pthread_join(pool[i], NULL);
  credplug_credential_free(r.cred);
  credplug_host_free(host);
  curl_global_cleanup();
  printf("calls=%ld errors=%ld expired=%ld rejected=%ld saves=%ld\n", r.calls, r.errors, r.expired, r.rejected,
         r.saves);
  return r.errors == 0 && r.expired == 0 && r.rejected == 0 ? 0 : 1;
}
