// An entry point written in C++ with the wrong signature (void * for the
// answer): an overload with a C++ (mangled) name, not the C entry point.
// The host says so instead of "does not export".
#include <credplug/plugin.h>

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *, uint32_t, uint32_t, void *) { return CREDPLUG_OK; }
