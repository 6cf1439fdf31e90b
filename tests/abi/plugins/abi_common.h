/* Shared pieces of the C test plugins: each one breaks (or bends) one ABI
** rule on purpose, and uses these for everything else. */
#ifndef ABI_COMMON_H
#define ABI_COMMON_H

#include <credplug/plugin.h>
#include <string.h>

#define ABI_UNUSED __attribute__((unused))

ABI_UNUSED static const credplug_host_api *abi_host;
ABI_UNUSED static int abi_instance;

ABI_UNUSED static int32_t abi_init(const credplug_host_api *host) {
  abi_host = host;
  return CREDPLUG_OK;
}

ABI_UNUSED static int32_t abi_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  (void)call;
  (void)json;
  (void)len;
  *out = (credplug_instance *)(void *)&abi_instance;
  return CREDPLUG_OK;
}

ABI_UNUSED static int32_t abi_authenticate(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  abi_host->out_header(call, "X-Abi-Test", "ok", 0);
  return CREDPLUG_OK;
}

/* The entry point answering with `descriptor` at minor 0. */
#define ABI_ENTRY(descriptor)                                                                             \
  CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t minor_max,    \
                                                 credplug_interface_answer *answer) {                     \
    (void)minor_max;                                                                                      \
    if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != 1) return CREDPLUG_ERR_INCOMPATIBLE; \
    answer->major = 1;                                                                                    \
    answer->minor = 0;                                                                                    \
    answer->iface = &(descriptor);                                                                        \
    return CREDPLUG_OK;                                                                                   \
  }

#define ABI_SCHEMA "{\"type\":\"object\"}"

#endif
