/* A plugin built against the minor-2 header, frozen in tests/abi/minor2/ as
** it was released: the proof that minor 3 (sign(), crypto, keys, client
** certificates) did not break plugins built before it. It requires minor 2
** and uses its helpers: create() reads "name" with json_string(), and
** authenticate() emits "X-Minor2-Name: <base64 of the name>" and
** "X-Minor2-Form: <form_encode of it>". */
#include <credplug/plugin.h>

#include <stdlib.h>
#include <string.h>

#if CREDPLUG_ABI_MINOR != 2
#error "this plugin must be built against the frozen minor-2 header"
#endif

static const credplug_host_api *host;

typedef struct {
  char name[64];
} minor2_instance;

static int32_t m2_init(const credplug_host_api *h) {
  if (!CREDPLUG_HAS_FIELD(h, credplug_host_api, oauth2_token)) return CREDPLUG_ERR_INCOMPATIBLE;
  host = h;
  return CREDPLUG_OK;
}

static int32_t m2_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  const char *name = host->json_string(call, json, len, "name");
  minor2_instance *m;
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

static int32_t m2_authenticate(credplug_instance *inst, credplug_call *call) {
  const minor2_instance *m = (const minor2_instance *)(void *)inst;
  const char *fields[] = {"name", m->name, NULL};
  host->out_header(call, "X-Minor2-Name", host->base64_encode(call, m->name, strlen(m->name), 0), 0);
  host->out_header(call, "X-Minor2-Form", host->form_encode(call, fields, 0), 0);
  return CREDPLUG_OK;
}

static int32_t m2_test(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  host->out_info(call, "built_against", "ABI 1.2", 0);
  return CREDPLUG_OK;
}

static void m2_destroy(credplug_instance *inst) { free(inst); }

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           CREDPLUG_ABI_MAJOR,
                                           CREDPLUG_ABI_MINOR,
                                           "minor2",
                                           "Built against ABI 1.2",
                                           "1.2.0",
                                           "{\"type\":\"object\",\"required\":[\"name\"],"
                                           "\"properties\":{\"name\":{\"type\":\"string\"}}}",
                                           0,
                                           m2_init,
                                           NULL,
                                           m2_create,
                                           m2_authenticate,
                                           m2_test,
                                           m2_destroy,
                                           NULL,
                                           3600};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                                               credplug_interface_answer *answer) {
  answer->major = CREDPLUG_ABI_MAJOR;
  answer->minor = 2;
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 2)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->minor = CREDPLUG_ABI_MINOR;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
