/* One step of connecting an account, through the C API, in a process of its
** own: a web platform whose redirect lands on another process than the one
** that sent the person away.
**   authorization_step begin PLUGIN_DIR CA_FILE KEY_FILE PLUGIN CREDENTIAL_FILE REDIRECT_URI
**     prints the authorization URL, then the sealed pending authorization
**   authorization_step complete PLUGIN_DIR CA_FILE KEY_FILE PENDING REDIRECT_URL
**     prints the credential's state
** Exits with the C API's status (0 when done); the message on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <credplug/host.h>

#include <stdio.h>
#include <string.h>

/* Says why, and releases everything (a leak checker watches these runs). */
static int fail(int32_t rc, char *err, credplug_host *host) {
  fprintf(stderr, "authorization_step: %s\n", err ? err : credplug_status_name(rc));
  credplug_free(err);
  credplug_host_free(host);
  return (int)rc;
}

int main(int argc, char **argv) {
  credplug_host_options o;
  credplug_host *host = NULL;
  const char *dirs[2];
  char *err = NULL, *url = NULL, *pending = NULL, *state = NULL;
  static char text[65536];
  size_t len;
  int32_t rc;
  FILE *f;
  const int begin = argc == 8 && strcmp(argv[1], "begin") == 0;
  if (!begin && !(argc == 7 && strcmp(argv[1], "complete") == 0)) {
    fprintf(stderr,
            "usage: authorization_step begin PLUGIN_DIR CA_FILE KEY_FILE PLUGIN CREDENTIAL_FILE REDIRECT_URI\n"
            "       authorization_step complete PLUGIN_DIR CA_FILE KEY_FILE PENDING REDIRECT_URL\n");
    return 2;
  }
  dirs[0] = argv[2];
  dirs[1] = NULL;
  credplug_host_options_init(&o);
  o.plugin_dirs = dirs;
  o.use_environment = CREDPLUG_OFF;
  o.use_default_dir = CREDPLUG_OFF;
  o.ca_file = argv[3];
  o.authorization_key_file = argv[4];
  if ((rc = credplug_host_new(&o, &host, &err)) != CREDPLUG_HOST_OK) return fail(rc, err, host);
  if (begin) {
    f = fopen(argv[6], "rb");
    if (f == NULL) return fail(CREDPLUG_HOST_ERR_INVALID_INPUT, NULL, host);
    len = fread(text, 1, sizeof text, f);
    fclose(f);
    rc = credplug_begin_authorization(host, argv[5], text, len, argv[7], &url, &pending, NULL, &err);
    memset(text, 0, sizeof text);
    if (rc != CREDPLUG_HOST_OK) return fail(rc, err, host);
    printf("%s\n%s\n", url, pending);
  } else {
    rc = credplug_complete_authorization(host, argv[5], argv[6], &state, &err);
    if (rc != CREDPLUG_HOST_OK) return fail(rc, err, host);
    printf("%s\n", state);
  }
  credplug_free(url);
  credplug_free(pending);
  credplug_free(state);
  credplug_host_free(host);
  return 0;
}
