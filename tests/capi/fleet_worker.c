/* One worker of a fleet, through the C API: opens a credential with the
** shared cache and asks for its headers every 10 ms for a while, as a
** service calling an API would. Checks every token it gets is unexpired;
** with API_URL, also presents the headers there (libcurl, verified against
** CA_FILE), as the documented loop does: on a 401, invalidate and go on.
**   fleet_worker PLUGIN_DIR CA_FILE REDIS_URL KEY_FILE PLUGIN CREDENTIAL_FILE MS [API_URL]
** REDIS_URL "-": no shared cache (a process on its own, as a baseline).
** Prints "calls=N errors=E expired=X rejected=R"; exits 0 when all are 0. */
#define _POSIX_C_SOURCE 200809L
#include <credplug/host.h>

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int main(int argc, char **argv) {
  credplug_host_options o;
  credplug_host *host = NULL;
  credplug_credential *cred = NULL;
  const char *dirs[2];
  char text[65536], *err = NULL;
  size_t len;
  long calls = 0, errors = 0, expired = 0, rejected = 0;
  long long until;
  const char *api_url = argc == 9 ? argv[8] : NULL;
  CURL *curl = NULL;
  FILE *f;
  if (argc != 8 && argc != 9) {
    fprintf(stderr, "usage: fleet_worker PLUGIN_DIR CA_FILE REDIS_URL KEY_FILE PLUGIN CREDENTIAL_FILE MS [API_URL]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (api_url != NULL && (curl = curl_easy_init()) == NULL) return 2;
  f = fopen(argv[6], "rb");
  if (f == NULL) return 2;
  len = fread(text, 1, sizeof text, f);
  fclose(f);
  dirs[0] = argv[1];
  dirs[1] = NULL;
  credplug_host_options_init(&o);
  o.plugin_dirs = dirs;
  o.use_environment = CREDPLUG_OFF;
  o.use_default_dir = CREDPLUG_OFF;
  o.ca_file = argv[2];
  if (strcmp(argv[3], "-") != 0) {
    o.shared_cache_url = argv[3];
    o.shared_cache_key_file = argv[4];
  }
  o.cache_skew_ms = 200;
  if (credplug_host_new(&o, &host, &err) != CREDPLUG_HOST_OK ||
      credplug_open(host, argv[5], text, len, &cred, &err) != CREDPLUG_HOST_OK) {
    fprintf(stderr, "fleet_worker: %s\n", err ? err : "failed");
    return 1;
  }
  memset(text, 0, sizeof text);
  until = now_ms(CLOCK_MONOTONIC) + atol(argv[7]);
  do {
    credplug_headers *h = NULL;
    ++calls;
    if (credplug_headers_get(cred, &h, &err) != CREDPLUG_HOST_OK) {
      ++errors;
      fprintf(stderr, "fleet_worker: %s\n", err);
      credplug_free(err);
      err = NULL;
    } else {
      long long expires = credplug_headers_expires_at(h);
      if (expires != 0 && expires * 1000 <= now_ms(CLOCK_REALTIME)) ++expired;
      if (curl != NULL) {
        long status = present(curl, api_url, argv[2], h);
        if (status == 401) {
          ++rejected;
          credplug_invalidate(cred, h, NULL);
        } else if (status != 200) {
          ++errors;
          fprintf(stderr, "fleet_worker: %s answered %ld\n", api_url, status);
        }
      }
      credplug_headers_release(h);
    }
    {
      struct timespec pause = {0, 10L * 1000000};
      nanosleep(&pause, NULL);
    }
  } while (now_ms(CLOCK_MONOTONIC) < until);
  credplug_credential_free(cred);
  credplug_host_free(host);
  if (curl != NULL) curl_easy_cleanup(curl);
  curl_global_cleanup();
  printf("calls=%ld errors=%ld expired=%ld rejected=%ld\n", calls, errors, expired, rejected);
  return errors == 0 && expired == 0 && rejected == 0 ? 0 : 1;
}
