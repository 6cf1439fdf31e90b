/* One worker of a fleet, through the C API: opens a credential with the
** shared cache and asks for its headers every 10 ms for a while, as a
** service calling an API would. Checks every token it gets is unexpired.
**   fleet_worker PLUGIN_DIR CA_FILE REDIS_URL KEY_FILE PLUGIN CREDENTIAL_FILE MS
** Prints "calls=N errors=E expired=X"; exits 0 when E and X are 0. */
#define _POSIX_C_SOURCE 200809L
#include <credplug/host.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ms(int clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  credplug_host_options o;
  credplug_host *host = NULL;
  credplug_credential *cred = NULL;
  const char *dirs[2];
  char text[65536], *err = NULL;
  size_t len;
  long calls = 0, errors = 0, expired = 0;
  long long until;
  FILE *f;
  if (argc != 8) {
    fprintf(stderr, "usage: fleet_worker PLUGIN_DIR CA_FILE REDIS_URL KEY_FILE PLUGIN CREDENTIAL_FILE MS\n");
    return 2;
  }
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
  o.shared_cache_url = argv[3];
  o.shared_cache_key_file = argv[4];
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
      credplug_headers_release(h);
    }
    {
      struct timespec pause = {0, 10 * 1000000};
      nanosleep(&pause, NULL);
    }
  } while (now_ms(CLOCK_MONOTONIC) < until);
  credplug_credential_free(cred);
  credplug_host_free(host);
  printf("calls=%ld errors=%ld expired=%ld\n", calls, errors, expired);
  return errors == 0 && expired == 0 ? 0 : 1;
}
