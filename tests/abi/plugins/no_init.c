/* A descriptor without init(): it could never receive the host API, so the
** host refuses it, saying why. */
#include "abi_common.h"

static const credplug_plugin descriptor = {
    sizeof(credplug_plugin), 1,    0,    "no-init", "No init", "1.0.0", ABI_SCHEMA, 0,   NULL, NULL, abi_create,
    abi_authenticate,        NULL, NULL, NULL,      0,         NULL,    NULL,       NULL};

ABI_ENTRY(descriptor)
