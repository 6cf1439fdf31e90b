/* A shared library without the entry symbol: never loaded. Its constructor
** would abort the host if it ran. */
#include <credplug/plugin.h>
#include <stdlib.h>

__attribute__((constructor)) static void must_not_run(void) { abort(); }

CREDPLUG_EXPORT int credplug_something_else(void) { return 0; }
