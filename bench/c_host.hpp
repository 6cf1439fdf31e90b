// A C API host over the built plugins, trusting the test CA: what the
// benchmarks that measure the C API (as an embedder links it) start from.
#pragma once

#include <credplug/host.h>

#include <string>

namespace credplug::bench {

// NULL when credplug_host_new() fails. Free with credplug_host_free().
inline credplug_host *new_c_host(const std::string &ca_file, int32_t isolation = CREDPLUG_ISOLATION_DEFAULT) {
  static const char *const dirs[] = {CREDPLUG_PLUGIN_DIR, nullptr};
  credplug_host_options o;
  credplug_host_options_init(&o);
  o.plugin_dirs = dirs;
  o.use_environment = 0;
  o.use_default_dir = 0;
  o.ca_file = ca_file.c_str();
  o.isolation = isolation;
  credplug_host *host = nullptr;
  return credplug_host_new(&o, &host, nullptr) == CREDPLUG_HOST_OK ? host : nullptr;
}

}  // namespace credplug::bench
