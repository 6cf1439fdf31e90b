// The C API's headers handle (credplug/host.h's credplug_headers), defined
// beside the token cache: a thread's borrowed handle
// (credplug_headers_borrow()) lives in that thread's reader of the cache.
#pragma once

#include <credplug/types.hpp>

struct credplug_headers {
  credplug::HeadersPtr set;
};
