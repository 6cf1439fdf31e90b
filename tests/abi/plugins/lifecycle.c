/* Records every lifecycle call (init, create, destroy, shutdown) in the file
** named by $CREDPLUG_TEST_LIFECYCLE_LOG, so tests can check plugin.h's
** promise: init() once per process, shutdown() once and last. */
#include "abi_common.h"

#include <stdio.h>
#include <stdlib.h>

static void note(const char *what) {
  const char *path = getenv("CREDPLUG_TEST_LIFECYCLE_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (f == NULL) return;
  fprintf(f, "%s\n", what);
  fclose(f);
}

static int32_t lc_init(const credplug_host_api *host) {
  note("init");
  return abi_init(host);
}

static void lc_shutdown(void) { note("shutdown"); }

static int32_t lc_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  note("create");
  return abi_create(call, json, len, out);
}

static void lc_destroy(credplug_instance *inst) {
  (void)inst;
  note("destroy");
}

static const credplug_plugin descriptor = {offsetof(credplug_plugin, refresh),
                                           1,
                                           0,
                                           "lifecycle",
                                           "Lifecycle",
                                           "1.0.0",
                                           ABI_SCHEMA,
                                           0,
                                           lc_init,
                                           lc_shutdown,
                                           lc_create,
                                           abi_authenticate,
                                           NULL,
                                           lc_destroy,
                                           NULL,
                                           0,
                                           NULL,
                                           NULL,
                                           NULL};

ABI_ENTRY(descriptor)
