/* A plugin that exports the entry point but aborts as soon as it is loaded
** (a static constructor). A lookup of another plugin by id must never load
** it; only a full scan (`credplug plugins`) can, until plugins run isolated. */
#include "abi_common.h"

#include <stdlib.h>

__attribute__((constructor)) static void abort_on_load(void) { abort(); }

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           "ctor-abort",
                                           "Aborts on load",
                                           "1.0.0",
                                           ABI_SCHEMA,
                                           0,
                                           abi_init,
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
