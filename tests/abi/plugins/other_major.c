/* A plugin of a future major version. */
#include <credplug/plugin.h>

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t minor_max,
                                               credplug_interface_answer *answer) {
  (void)name;
  (void)major;
  (void)minor_max;
  answer->major = 2;
  answer->minor = 3;
  return CREDPLUG_ERR_INCOMPATIBLE;
}
