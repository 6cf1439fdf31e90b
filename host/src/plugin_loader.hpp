// Loading one plugin file: check it exports the entry symbol (before any of
// its code runs), load it RTLD_NOW|RTLD_LOCAL with Boost.DLL, negotiate the
// ABI, check the descriptor, compile its schema, call init(). A loaded
// library is never unloaded (see plugin.h, "Lifetime").
#pragma once

#include "schema_validator.hpp"

#include <credplug/plugin.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace credplug::host {

// Why a file could not be used as a plugin. The message names the file's
// problem and, for version mismatches, both versions.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedPlugin {
  std::string path;
  const credplug_plugin *descriptor = nullptr;
  uint32_t abi_major = 0, abi_minor = 0;  // negotiated
  std::unique_ptr<CompiledSchema> schema;
  std::mutex lifecycle;  // serialises create() and destroy()

  // Optional entries, NULL when absent from the plugin's descriptor.
  decltype(credplug_plugin::test) test = nullptr;
  decltype(credplug_plugin::destroy) destroy = nullptr;
  decltype(credplug_plugin::refresh) refresh = nullptr;  // minor 1
  uint32_t default_token_lifetime_s = 0;                  // minor 1; 0: unknown
  bool concurrent_instance = false;

  bool initialised = false;  // init() succeeded and shutdown() has not run
  decltype(credplug_plugin::shutdown) shutdown = nullptr;
  std::atomic<long> live_instances{0};  // created and not yet destroyed
};

// Loads `path` or returns the plugin already loaded from it in this process
// (shared by every Host, kept until exit: init() runs once per process, and
// shutdown() at exit once no instance is alive). Throws LoadError.
std::shared_ptr<LoadedPlugin> load_plugin(const std::string &path);

}  // namespace credplug::host
