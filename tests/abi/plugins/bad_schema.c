/* A descriptor whose credential schema is not JSON. */
#include "abi_common.h"

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           "bad-schema",
                                           "Bad schema",
                                           "1.0.0",
                                           "{not json",
                                           0,
                                           abi_init,
                                           NULL,
                                           abi_create,
                                           abi_authenticate,
                                           NULL,
                                           NULL,
                                           NULL,
                                           0};

ABI_ENTRY(descriptor)
