/* A plugin built against the minor-3 header, frozen in tests/abi/minor3/ as
** it was released: the proof that minor 4 (the credential's state,
** CREDPLUG_ERR_REAUTHORIZE) did not break plugins built before it. It
** requires minor 3 and uses its helpers: authenticate() emits
** "X-Minor3-Digest: <hex of the SHA-256 of the name>" and a header that
** never expires; sign() adds "X-Minor3-Signed: <method>". */
#include <credplug/plugin.h>

#include <stdlib.h>
#include <string.h>

#if CREDPLUG_ABI_MINOR != 3
#error "this plugin must be built against the frozen minor-3 header"
#endif

static const credplug_host_api *host;

typedef struct {
  char name[64];
} minor3_instance;

static int32_t m3_init(const credplug_host_api *h) {
  if (!CREDPLUG_HAS_FIELD(h, credplug_host_api, jwt_sign)) return CREDPLUG_ERR_INCOMPATIBLE;
  host = h;
  return CREDPLUG_OK;
}

static int32_t m3_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  const char *name = host->json_string(call, json, len, "name");
  minor3_instance *m;
  if (name == NULL || strlen(name) >= sizeof m->name) {
    host->set_error(call, CREDPLUG_ERR_INVALID_CONFIG, "name: expected a string of at most 63 bytes");
    return CREDPLUG_ERR_INVALID_CONFIG;
  }
  m = calloc(1, sizeof *m);
  if (m == NULL) return CREDPLUG_ERR_PLUGIN;
  strcpy(m->name, name);
  *out = (credplug_instance *)(void *)m;
  return CREDPLUG_OK;
}

static int32_t m3_authenticate(credplug_instance *inst, credplug_call *call) {
  const minor3_instance *m = (const minor3_instance *)(void *)inst;
  uint8_t digest[32];
  if (host->sha256(m->name, strlen(m->name), digest) != CREDPLUG_OK) return CREDPLUG_ERR_PLUGIN;
  host->out_header(call, "X-Minor3-Digest", host->hex_encode(call, digest, sizeof digest, 0), 0);
  host->out_expires_at(call, CREDPLUG_EXPIRES_NEVER);
  return CREDPLUG_OK;
}

static int32_t m3_sign(credplug_instance *inst, credplug_call *call, const credplug_sign_request *req) {
  (void)inst;
  host->out_header(call, "X-Minor3-Signed", req->method, 0);
  return CREDPLUG_OK;
}

static void m3_destroy(credplug_instance *inst) { free(inst); }

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           CREDPLUG_ABI_MAJOR,
                                           CREDPLUG_ABI_MINOR,
                                           "minor3",
                                           "Built against ABI 1.3",
                                           "1.3.0",
                                           "{\"type\":\"object\",\"required\":[\"name\"],"
                                           "\"properties\":{\"name\":{\"type\":\"string\"}}}",
                                           0,
                                           m3_init,
                                           NULL,
                                           m3_create,
                                           m3_authenticate,
                                           NULL,
                                           m3_destroy,
                                           NULL,
                                           0,
                                           m3_sign};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                                               credplug_interface_answer *answer) {
  answer->major = CREDPLUG_ABI_MAJOR;
  answer->minor = 3;
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 3)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->minor = CREDPLUG_ABI_MINOR;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
