/* A descriptor that claims struct_size 0xFFFFFFFF but answers ABI minor 0:
** the host must read nothing beyond the minor-0 layout, however large the
** size claims to be. Its minor-1 fields hold garbage that would crash the
** host (refresh) or lie to it (default_token_lifetime_s) if read. */
#include "abi_common.h"

static const credplug_plugin descriptor = {
    0xFFFFFFFFu, 1,           1,
    "huge-size", "Huge size", "1.0.0",
    ABI_SCHEMA,  0,           abi_init,
    NULL,        abi_create,  abi_authenticate,
    NULL,        NULL,        (int32_t(*)(credplug_instance *, credplug_call *))1,
    1111638594u, NULL,        NULL,
    NULL};

ABI_ENTRY(descriptor)
