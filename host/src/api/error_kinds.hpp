// Reading the error table (error_kinds.cpp) from inside the host.
#pragma once

#include <credplug/types.hpp>

#include <cstdint>

namespace credplug {

// The kind a plugin's CREDPLUG_ERR_* status means; anything unknown
// (CREDPLUG_ERR_INCOMPATIBLE, a number no header defines) is the plugin's fault.
ErrorKind kind_of_plugin_status(int32_t status);

}  // namespace credplug
