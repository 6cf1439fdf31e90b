/* What happens when a process ends with calls in flight: 8 threads, each
** with its own reference to its own credential, keep a token request under
** way (the emulator delays each by DELAY_MS) while the main thread ends the
** process, as a service does on SIGTERM:
**   exit_in_flight PLUGIN_DIR CA_FILE CREDENTIAL_FILE HOW ISOLATION
** HOW "exit": exit(0) with everything still open; "free": release the main
** thread's references and the host, then return from main. ISOLATION
** "process" or "in-process". Prints the pids of the plugin runners it had
** ("runners: 12 13"), then ends: the caller (run.sh) checks it ended at once,
** with status 0, and its runners with it. Each open() while the requests of
** those before are held also checks a runner starts a call while others
** wait on the network. */
#define _POSIX_C_SOURCE 200809L
#include <credplug/host.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8

static void *keep_requesting(void *arg) {
  credplug_credential *mine = arg;
  for (;;) {
    credplug_headers *h = NULL;
    char *err = NULL;
    credplug_headers_get(mine, &h, &err);
    credplug_headers_release(h);
    credplug_free(err);
    credplug_invalidate(mine, NULL, NULL); /* so the next call asks again */
  }
  return NULL;
}

/* Whether the credential's token request is under way now. */
static int in_flight(credplug_credential *c) {
  char *json = NULL;
  int yes = credplug_credential_status(c, &json, NULL) == CREDPLUG_HOST_OK && strstr(json, "\"refreshing\"");
  credplug_free(json);
  return yes;
}

/* This process's children: its plugin runners. */
static void print_runners(void) {
  char path[64];
  DIR *tasks = opendir("/proc/self/task");
  struct dirent *t;
  printf("runners:");
  while (tasks && (t = readdir(tasks)) != NULL) {
    FILE *f;
    long pid;
    if (t->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%.20s/children", t->d_name);
    if ((f = fopen(path, "r")) == NULL) continue;
    while (fscanf(f, "%ld", &pid) == 1) printf(" %ld", pid);
    fclose(f);
  }
  if (tasks) closedir(tasks);
  printf("\n");
  fflush(stdout);
}

/* The credential file's text (small: a test's), or NULL. */
static char *read_file(const char *path) {
  static char text[4096];
  FILE *f = fopen(path, "r");
  size_t n;
  if (f == NULL) return NULL;
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  return text;
}

int main(int argc, char **argv) {
  const char *dirs[2];
  const char *credential;
  credplug_host_options options;
  credplug_host *host = NULL;
  credplug_credential *creds[THREADS];
  char *err = NULL;
  int i;
  if (argc != 6) {
    fprintf(stderr, "usage: exit_in_flight PLUGIN_DIR CA_FILE CREDENTIAL_FILE exit|free process|in-process\n");
    return 2;
  }
  if ((credential = read_file(argv[3])) == NULL) {
    fprintf(stderr, "exit_in_flight: cannot read %s\n", argv[3]);
    return 2;
  }
  dirs[0] = argv[1];
  dirs[1] = NULL;
  credplug_host_options_init(&options);
  options.plugin_dirs = dirs;
  options.use_environment = CREDPLUG_OFF;
  options.use_default_dir = CREDPLUG_OFF;
  options.ca_file = argv[2];
  options.cache_max_attempts = 1;
  options.isolation = strcmp(argv[5], "in-process") == 0 ? CREDPLUG_ISOLATION_IN_PROCESS : CREDPLUG_ISOLATION_PROCESS;
  if (credplug_host_new(&options, &host, &err) != CREDPLUG_HOST_OK) {
    fprintf(stderr, "exit_in_flight: %s\n", err);
    return 3;
  }
  for (i = 0; i < THREADS; ++i) {
    /* A label each: one credential each, so each has its own request. */
    char label[32];
    credplug_open_options open_options;
    pthread_t thread;
    memset(&open_options, 0, sizeof open_options);
    open_options.struct_size = sizeof open_options;
    snprintf(label, sizeof label, "tenant-%d", i);
    open_options.label = label;
    if (credplug_open_with(host, "ainua", credential, strlen(credential), &open_options, &creds[i], &err) !=
        CREDPLUG_HOST_OK) {
      fprintf(stderr, "exit_in_flight: %s\n", err);
      return 3;
    }
    pthread_create(&thread, NULL, keep_requesting, credplug_credential_ref(creds[i]));
    pthread_detach(thread);
  }
  /* Every credential's request is under way (the emulator holds each). */
  for (i = 0; i < THREADS; ++i)
    while (!in_flight(creds[i])) {
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, NULL);
    }
  print_runners();
  if (strcmp(argv[4], "exit") == 0) exit(0);
  for (i = 0; i < THREADS; ++i) credplug_credential_free(creds[i]);
  credplug_host_free(host);
  return 0;
}
