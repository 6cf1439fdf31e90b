/* A descriptor with a required function missing. */
#include "abi_common.h"

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           "null-create",
                                           "Null create",
                                           "1.0.0",
                                           ABI_SCHEMA,
                                           0,
                                           abi_init,
                                           NULL,
                                           NULL,
                                           abi_authenticate,
                                           NULL,
                                           NULL,
                                           NULL,
                                           0,
                                           NULL,
                                           NULL,
                                           NULL};

ABI_ENTRY(descriptor)
