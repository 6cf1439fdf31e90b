/* A plugin built against an older, smaller descriptor: it ends before
** `test` and `destroy`. The host must load it, read nothing past its
** struct_size, and report "no connection test". */
#include "abi_common.h"

static const credplug_plugin descriptor = {offsetof(credplug_plugin, test), 1, 0, "old-descriptor", "Old descriptor",
                                           "0.9.0", ABI_SCHEMA, 0, abi_init, NULL, abi_create, abi_authenticate,
                                           /* beyond struct_size: garbage the host must never call */
                                           (int32_t (*)(credplug_instance *, credplug_call *))1,
                                           (void (*)(credplug_instance *))1,
                                           (int32_t(*)(credplug_instance *, credplug_call *))1, 1, NULL, NULL, NULL};

ABI_ENTRY(descriptor)
