/* A hostile plugin, for the isolation tests: its credential says what to do
** and in which entry point, e.g. {"action": "crash", "where": "test"}.
**
** actions: ok (a Bearer header), crash (SIGSEGV), abort (SIGABRT), loop
** (forever), open (read "path" and return it in the error), socket (connect
** to 127.0.0.1:"port"), exec (system("touch " "path")), execve (the same by
** execve() in place), egress (an HTTPS GET
** of "url", else https://localhost:"port"/, through the host), leaky (secrets
** output without the SECRET flag: an add_secret() value and "api_key"), huge (a 16 MiB header, then 10000 logs),
** stderr (a line on its stderr, then on as "ok"), secrets (40,000 distinct
** add_secret() values), logs (200,000 log lines), flood (a thread outputs
** 1 KB info frames for the call straight to the channel, without end,
** while the call waits on an HTTPS request to "url"), spin (a thread left
** computing without end, then on as "ok"), threads (3,000 threads that
** sleep, as many as it can start, then on as "ok"), getcwd (a system call
** the sandbox stops a plugin for, once loaded), sigsys (takes SIGSYS's
** handler over). "timeout" (ms) goes with egress and flood requests.
** where: create, authenticate, test, refresh, destroy.
**
** Built three more times with HOSTILE_IN=1 (a crash in
** credplug_get_interface) and HOSTILE_IN=2 (a crash in init), and once as
** its own upgrade: HOSTILE_RELEASE=2 is version 2.0.0, whose token is
** "hostile-token-2". */
#define _GNU_SOURCE
#include <credplug/plugin.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef HOSTILE_IN
#define HOSTILE_IN 0
#endif
#if HOSTILE_IN == 1
#define HOSTILE_ID "crash-entry"
#elif HOSTILE_IN == 2
#define HOSTILE_ID "crash-init"
#else
#define HOSTILE_ID "hostile"
#endif
#ifndef HOSTILE_RELEASE
#define HOSTILE_RELEASE 1
#endif
#if HOSTILE_RELEASE == 1
#define HOSTILE_VERSION "1.0.0"
#define HOSTILE_TOKEN "Bearer hostile-token"
#else
#define HOSTILE_VERSION "2.0.0"
#define HOSTILE_TOKEN "Bearer hostile-token-2"
#endif

static const credplug_host_api *host;

typedef struct credplug_instance {
  char action[32], where[32], path[512], url[512], api_key[128], host[128];
  int port, timeout;
} hostile;

static void *spin(void *unused) {
  volatile unsigned long n = 0;
  (void)unused;
  for (;;) ++n;
  return NULL;
}

static void *sleep_forever(void *unused) {
  struct timespec hour = {3600, 0};
  (void)unused;
  for (;;) nanosleep(&hour, NULL);
  return NULL;
}

/* The flood's thread: as an attacker who knows the runner protocol would,
** well-formed OutInfo frames for the waiting call, written straight to the
** channel (descriptor 3) without end. The call's id is the first field of
** the runner's credplug_call. Small frames: each write() then reaches the
** host whole, never interleaved with the runner's own frames. */
static void *flood_call(void *call) {
  enum { kValue = 1000 };
  static unsigned char frame[9 + 4 + 5 + 4 + kValue + 4];
  uint32_t id = *(const uint32_t *)call, length = (uint32_t)(sizeof frame - 4), n;
  unsigned char *p = frame;
  memcpy(p, &length, 4);
  p[4] = 8; /* Msg::OutInfo */
  memcpy(p + 5, &id, 4);
  p += 9;
  static const char key[5] = {'f', 'l', 'o', 'o', 'd'}; /* a str: its length, no NUL */
  n = sizeof key;
  memcpy(p, &n, 4);
  memcpy(p + 4, key, sizeof key);
  p += 9;
  n = kValue;
  memcpy(p, &n, 4);
  memset(p + 4, 'f', kValue);
  p += 4 + kValue;
  memset(p, 0, 4); /* flags */
  for (;;)
    if (write(3, frame, sizeof frame) < 0) return NULL;
}

/* The string value of "key" in a flat JSON object, or "". */
static void field(const char *json, const char *key, char *out, size_t n) {
  char pattern[64];
  const char *p;
  size_t i = 0;
  out[0] = '\0';
  snprintf(pattern, sizeof pattern, "\"%s\"", key);
  p = strstr(json, pattern);
  if (p == NULL) return;
  p = strchr(p + strlen(pattern), ':');
  if (p == NULL) return;
  while (*++p == ' ') {
  }
  if (*p == '"') {
    ++p;
    while (*p && *p != '"' && i + 1 < n) out[i++] = *p++;
  } else {
    while (*p && *p != ',' && *p != '}' && i + 1 < n) out[i++] = *p++;
  }
  out[i] = '\0';
}

static void crash(void) {
  volatile int *nothing = NULL;
  *nothing = 1;
}

/* Does `action` in `where`; returns a status, with the error set. */
static int32_t act(hostile *h, const char *where, credplug_call *call) {
  char message[4096];
  if (h == NULL || strcmp(h->where, where) != 0 || strcmp(h->action, "ok") == 0) return CREDPLUG_OK;
  if (strcmp(h->action, "stderr") == 0) {
    static const char line[] = "hostile plugin: a line on stderr\n";
    return write(2, line, sizeof line - 1) == (ssize_t)(sizeof line - 1) ? CREDPLUG_OK : CREDPLUG_ERR_PLUGIN;
  }
  if (strcmp(h->action, "crash") == 0) crash();
  if (strcmp(h->action, "abort") == 0) abort();
  if (strcmp(h->action, "loop") == 0)
    for (volatile unsigned long spin = 0;; ++spin) {
    }
  if (strcmp(h->action, "open") == 0) {
    FILE *f = fopen(h->path, "r");
    size_t got = 0;
    if (f == NULL) {
      snprintf(message, sizeof message, "open %s: %s", h->path, strerror(errno));
    } else {
      got = fread(message, 1, sizeof message - 1, f);
      message[got] = '\0';
      fclose(f);
    }
  } else if (strcmp(h->action, "getcwd") == 0) {
    char dir[512];
    snprintf(message, sizeof message, "getcwd: %s", getcwd(dir, sizeof dir) ? dir : strerror(errno));
  } else if (strcmp(h->action, "sigsys") == 0) {
    snprintf(message, sizeof message, "SIGSYS ignored: %s",
             signal(SIGSYS, SIG_IGN) == SIG_ERR ? strerror(errno) : "done");
  } else if (strcmp(h->action, "socket") == 0) {
    struct sockaddr_in to;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)h->port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
      snprintf(message, sizeof message, "socket: %s", strerror(errno));
    else if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0)
      snprintf(message, sizeof message, "connect: %s", strerror(errno));
    else
      snprintf(message, sizeof message, "connected to port %d", h->port);
    if (fd >= 0) close(fd);
  } else if (strcmp(h->action, "exec") == 0) {
    char command[600];
    int rc;
    snprintf(command, sizeof command, "touch %s", h->path);
    rc = system(command);
    snprintf(message, sizeof message, "system: %d (%s)", rc, rc == 0 ? "ran" : strerror(errno));
  } else if (strcmp(h->action, "execve") == 0) {
    /* Not through a child: this very process replaced by a shell. */
    char *argv[4];
    char command[600];
    snprintf(command, sizeof command, "touch %s", h->path);
    argv[0] = (char *)"/bin/sh";
    argv[1] = (char *)"-c";
    argv[2] = command;
    argv[3] = NULL;
    execve("/bin/sh", argv, environ);
    snprintf(message, sizeof message, "execve: %s", strerror(errno));
  } else if (strcmp(h->action, "egress") == 0) {
    credplug_http_request req;
    credplug_http_response *resp = NULL;
    int32_t rc;
    char url[600];
    memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    /* Without "url", a port of this machine the credential does not name;
    ** with "host", https://<host>/ made from it (a field that is no URL). */
    if (h->host[0] != '\0')
      snprintf(url, sizeof url, "https://%s/", h->host);
    else if (h->url[0] == '\0')
      snprintf(url, sizeof url, "https://localhost:%d/", h->port);
    else
      snprintf(url, sizeof url, "%s", h->url);
    req.url = url;
    req.timeout_ms = (uint32_t)h->timeout;
    rc = host->http_send(call, &req, &resp);
    snprintf(message, sizeof message, "egress: status %d, %s", (int)host->http_status(resp),
             host->http_error(resp) ? host->http_error(resp) : "no error");
    host->http_release(resp);
    if (rc != CREDPLUG_OK) {
      host->set_error(call, rc, message);
      return rc;
    }
  } else if (strcmp(h->action, "secrets") == 0) {
    int i;
    for (i = 0; i < 40000; ++i) {
      char value[64];
      snprintf(value, sizeof value, "declared-secret-number-%d", i);
      host->add_secret(call, value, strlen(value));
    }
    return CREDPLUG_OK;
  } else if (strcmp(h->action, "logs") == 0) {
    int i;
    for (i = 0; i < 200000; ++i) host->log(call, CREDPLUG_LOG_ERROR, "hostile log flood");
    return CREDPLUG_OK;
  } else if (strcmp(h->action, "flood") == 0) {
    credplug_http_request req;
    credplug_http_response *resp = NULL;
    pthread_t thread;
    memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.url = h->url;
    req.timeout_ms = (uint32_t)h->timeout;
    pthread_create(&thread, NULL, flood_call, call);
    host->http_send(call, &req, &resp);
    host->http_release(resp);
    snprintf(message, sizeof message, "the flood's request returned");
  } else if (strcmp(h->action, "spin") == 0 || strcmp(h->action, "threads") == 0) {
    pthread_attr_t small;
    pthread_t thread;
    int i, n = strcmp(h->action, "spin") == 0 ? 1 : 3000;
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, (size_t)64 * 1024);
    for (i = 0; i < n; ++i)
      if (pthread_create(&thread, &small, n == 1 ? spin : sleep_forever, NULL) != 0) break;
    pthread_attr_destroy(&small);
    host->out_header(call, "Authorization", "Bearer hostile-ok", CREDPLUG_FLAG_SECRET);
    return CREDPLUG_OK;
  } else if (strcmp(h->action, "huge") == 0) {
    size_t big = 16u << 20;
    char *value = malloc(big + 1);
    int i;
    if (value == NULL) return CREDPLUG_ERR_PLUGIN;
    memset(value, 'x', big);
    value[big] = '\0';
    for (i = 0; i < 10000; ++i) host->log(call, CREDPLUG_LOG_ERROR, "hostile log line");
    host->out_header(call, "X-Huge", value, 0);
    free(value);
    return CREDPLUG_OK;
  } else {
    snprintf(message, sizeof message, "unknown action '%s'", h->action);
  }
  host->set_error(call, CREDPLUG_ERR_PROVIDER, message);
  return CREDPLUG_ERR_PROVIDER;
}

static int32_t h_init(const credplug_host_api *api) {
  if (HOSTILE_IN == 2) crash();
  host = api;
  return CREDPLUG_OK;
}

static int32_t h_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  hostile *h = calloc(1, sizeof *h);
  char port[16];
  (void)len;
  if (h == NULL) return CREDPLUG_ERR_PLUGIN;
  field(json, "action", h->action, sizeof h->action);
  field(json, "where", h->where, sizeof h->where);
  field(json, "path", h->path, sizeof h->path);
  field(json, "url", h->url, sizeof h->url);
  field(json, "host", h->host, sizeof h->host);
  field(json, "port", port, sizeof port);
  {
    char timeout[16];
    field(json, "timeout", timeout, sizeof timeout);
    h->timeout = atoi(timeout);
  }
  field(json, "api_key", h->api_key, sizeof h->api_key);
  h->port = atoi(port);
  *out = h;
  return act(h, "create", call);
}

static int32_t h_authenticate(credplug_instance *h, credplug_call *call) {
  int32_t rc = act(h, "authenticate", call);
  if (rc != CREDPLUG_OK) return rc;
  if (strcmp(h->action, "leaky") == 0) {
    /* Secrets output without the SECRET flag: the host must mask them anyway. */
    static const char token[] = "leaky-token-value-7c1e";
    host->add_secret(call, token, sizeof token - 1);
    host->out_header(call, "X-Leak", token, 0);
    host->out_header(call, "X-Key", h->api_key, 0);
    host->out_info(call, "echo", token, 0);
  }
  host->out_header(call, "Authorization", HOSTILE_TOKEN, CREDPLUG_FLAG_SECRET);
  host->out_expires_at(call, host->now_ms() / 1000 + 3600);
  return CREDPLUG_OK;
}

static int32_t h_test(credplug_instance *h, credplug_call *call) { return act(h, "test", call); }

static int32_t h_refresh(credplug_instance *h, credplug_call *call) {
  int32_t rc = act(h, "refresh", call);
  if (rc != CREDPLUG_OK) return rc;
  return h_authenticate(h, call);
}

static void h_destroy(credplug_instance *h) {
  act(h, "destroy", NULL);
  free(h);
}

static const credplug_plugin descriptor = {
    sizeof(credplug_plugin), 1, 1, HOSTILE_ID, "Hostile", HOSTILE_VERSION,
    /* api_key lacks writeOnly on purpose: the host must treat it as secret and warn. */
    "{\"type\":\"object\",\"properties\":{\"action\":{\"type\":\"string\"},\"where\":{\"type\":\"string\"},"
    "\"api_key\":{\"type\":\"string\"}}}",
    0, h_init, NULL, h_create, h_authenticate, h_test, h_destroy, h_refresh, 0, NULL};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t minor_max,
                                               credplug_interface_answer *answer) {
  if (HOSTILE_IN == 1) crash();
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != 1 || minor_max < 1) return CREDPLUG_ERR_INCOMPATIBLE;
  answer->major = 1;
  answer->minor = 1;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
