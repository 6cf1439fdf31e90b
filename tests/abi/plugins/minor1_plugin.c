/* A plugin built against the minor-1 header, frozen in tests/abi/minor1/ as
** it was released: the proof that minor 2 (the host's helpers) did not break
** plugins built before it. It answers at minor 1 and uses what minor 1
** added: refresh() and default_token_lifetime_s. The host must load it,
** apply its lifetime, and renew its headers through refresh().
** Each authenticate() or refresh() emits "X-Minor1-Call: <op> <n>". */
#include <credplug/plugin.h>

#include <stdio.h>
#include <string.h>

#if CREDPLUG_ABI_MINOR != 1
#error "this plugin must be built against the frozen minor-1 header"
#endif

static const credplug_host_api *host;
static int instance_token;
static unsigned calls;

static int32_t m1_init(const credplug_host_api *h) {
  host = h;
  return CREDPLUG_OK;
}

static int32_t m1_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  (void)call;
  (void)json;
  (void)len;
  *out = (credplug_instance *)(void *)&instance_token;
  return CREDPLUG_OK;
}

static int32_t emit(credplug_call *call, const char *op) {
  char value[48];
  snprintf(value, sizeof value, "%s %u", op, ++calls); /* the host serialises calls on one instance */
  host->out_header(call, "X-Minor1-Call", value, 0);
  return CREDPLUG_OK;
}

static int32_t m1_authenticate(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  return emit(call, "authenticate");
}

static int32_t m1_refresh(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  return emit(call, "refresh");
}

static int32_t m1_test(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  host->out_info(call, "built_against", "ABI 1.1", 0);
  return CREDPLUG_OK;
}

static void m1_destroy(credplug_instance *inst) { (void)inst; }

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           CREDPLUG_ABI_MAJOR,
                                           CREDPLUG_ABI_MINOR,
                                           "minor1",
                                           "Built against ABI 1.1",
                                           "1.1.0",
                                           "{\"type\":\"object\"}",
                                           0,
                                           m1_init,
                                           NULL,
                                           m1_create,
                                           m1_authenticate,
                                           m1_test,
                                           m1_destroy,
                                           m1_refresh,
                                           120};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                                               credplug_interface_answer *answer) {
  answer->major = CREDPLUG_ABI_MAJOR;
  answer->minor = CREDPLUG_ABI_MINOR;
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 1)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
