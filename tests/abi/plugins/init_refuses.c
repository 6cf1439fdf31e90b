/* A plugin whose init() refuses the host. */
#include "abi_common.h"

static int32_t refuse(const credplug_host_api *host) {
  (void)host;
  return CREDPLUG_ERR_PLUGIN;
}

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           "init-refuses",
                                           "Init refuses",
                                           "1.0.0",
                                           ABI_SCHEMA,
                                           0,
                                           refuse,
                                           NULL,
                                           abi_create,
                                           abi_authenticate,
                                           NULL,
                                           NULL,
                                           NULL,
                                           0,
                                           NULL,
                                           NULL,
                                           NULL};

ABI_ENTRY(descriptor)
