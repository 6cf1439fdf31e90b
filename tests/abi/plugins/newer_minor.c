/* A plugin that needs a newer minor than any host offers today. */
#include <credplug/plugin.h>

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t minor_max,
                                               credplug_interface_answer *answer) {
  (void)name;
  (void)major;
  answer->major = 1;
  answer->minor = 99;
  if (minor_max < 99) return CREDPLUG_ERR_INCOMPATIBLE;
  return CREDPLUG_ERR_INCOMPATIBLE; /* never loads in this test */
}
