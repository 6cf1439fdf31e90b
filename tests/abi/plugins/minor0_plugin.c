/* A plugin built against the minor-0 header, frozen in tests/abi/minor0/ as
** it was released: the proof that minor 1 (refresh, default token lifetime)
** did not break plugins built before it. Its descriptor ends at destroy;
** it answers at minor 0. The host must load it, serve its headers from the
** token cache, renew them through authenticate() (it has no refresh hook)
** and apply the host's default lifetime (it declares none).
** Each authenticate() emits "X-Minor0-Call: <n>" so a test can count them. */
#include <credplug/plugin.h>

#include <stdio.h>
#include <string.h>

#if CREDPLUG_ABI_MINOR != 0
#error "this plugin must be built against the frozen minor-0 header"
#endif

static const credplug_host_api *host;
static int instance_token;
static unsigned calls;

static int32_t m0_init(const credplug_host_api *h) {
  host = h;
  return CREDPLUG_OK;
}

static int32_t m0_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  (void)call;
  (void)json;
  (void)len;
  *out = (credplug_instance *)(void *)&instance_token;
  return CREDPLUG_OK;
}

static int32_t m0_authenticate(credplug_instance *inst, credplug_call *call) {
  char value[32];
  (void)inst;
  snprintf(value, sizeof value, "%u", ++calls); /* the host serialises calls on one instance */
  host->out_header(call, "X-Minor0-Call", value, 0);
  return CREDPLUG_OK;
}

static int32_t m0_test(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  host->out_info(call, "built_against", "ABI 1.0", 0);
  return CREDPLUG_OK;
}

static void m0_destroy(credplug_instance *inst) { (void)inst; }

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           CREDPLUG_ABI_MAJOR,
                                           CREDPLUG_ABI_MINOR,
                                           "minor0",
                                           "Built against ABI 1.0",
                                           "1.0.0",
                                           "{\"type\":\"object\"}",
                                           0,
                                           m0_init,
                                           NULL,
                                           m0_create,
                                           m0_authenticate,
                                           m0_test,
                                           m0_destroy};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                                               credplug_interface_answer *answer) {
  (void)host_minor_max;
  answer->major = CREDPLUG_ABI_MAJOR;
  answer->minor = CREDPLUG_ABI_MINOR;
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR) return CREDPLUG_ERR_INCOMPATIBLE;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
