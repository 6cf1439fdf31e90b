/* A plugin that reads one byte past a heap block in authenticate(): the
** sanitizer builds' canary. Built sanitized (unlike the hostile plugins,
** whose crashes must be real signals), so in an ASan build the runner that
** loads it reports a heap-buffer-overflow, which must reach a file
** (host/runner/sanitizer_reports.hpp). Only those builds load it. */
#include "abi_common.h"

#include <stdlib.h>

static int32_t overflow(credplug_instance *inst, credplug_call *call) {
  volatile size_t end = 8; /* not a constant: the compiler would refuse the read */
  char *heap = calloc(end, 1);
  volatile char past = heap != NULL ? heap[end] : 0;
  (void)inst;
  (void)call;
  free(heap);
  return past == 0x7f ? CREDPLUG_ERR_PLUGIN : CREDPLUG_OK;
}

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           "overflow",
                                           "Sanitizer canary",
                                           "1.0.0",
                                           ABI_SCHEMA,
                                           0,
                                           abi_init,
                                           NULL,
                                           abi_create,
                                           overflow,
                                           NULL,
                                           NULL,
                                           NULL,
                                           0,
                                           NULL};

ABI_ENTRY(descriptor)
