/* A plugin that fails without saying why. */
#include "abi_common.h"

static int32_t fail_silently(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  (void)call;
  return CREDPLUG_ERR_PROVIDER;
}

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           "silent-failure",
                                           "Silent failure",
                                           "1.0.0",
                                           ABI_SCHEMA,
                                           0,
                                           abi_init,
                                           NULL,
                                           abi_create,
                                           fail_silently,
                                           NULL,
                                           NULL,
                                           NULL,
                                           0,
                                           NULL,
                                           NULL,
                                           NULL};

ABI_ENTRY(descriptor)
