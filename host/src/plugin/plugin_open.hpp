// Opening one plugin file, the part shared by the host (in-process mode) and
// the plugin runner (process mode): check that the file exports the entry
// symbol before any of its code runs, load it RTLD_NOW|RTLD_LOCAL with
// Boost.DLL, negotiate the ABI and check the descriptor. What happens next
// (compiling the schema, init() with which host services) is the caller's.
// A loaded library is never unloaded (plugin.h, "Lifetime").
#pragma once

#include <credplug/plugin.h>

#include <stdexcept>
#include <string>

namespace credplug::host {

// Why a file could not be used as a plugin. The message names the file's
// problem and, for version mismatches, both versions.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A descriptor's entries as far as the negotiated minor defines them and its
// struct_size covers them; an absent optional entry is NULL (or 0).
struct OpenedPlugin {
  const credplug_plugin *descriptor = nullptr;  // static in the plugin
  uint32_t abi_major = 0, abi_minor = 0;        // negotiated
  decltype(credplug_plugin::init) init = nullptr;
  decltype(credplug_plugin::shutdown) shutdown = nullptr;
  decltype(credplug_plugin::test) test = nullptr;
  decltype(credplug_plugin::destroy) destroy = nullptr;
  decltype(credplug_plugin::refresh) refresh = nullptr;      // minor 1
  uint32_t default_token_lifetime_s = 0;                     // minor 1; 0: unknown
  decltype(credplug_plugin::sign) sign = nullptr;            // minor 3
  decltype(credplug_plugin::authorize) authorize = nullptr;  // minor 4
  decltype(credplug_plugin::revoke) revoke = nullptr;        // minor 5
  bool concurrent_instance = false;
};

// Throws LoadError. Runs the plugin's static constructors and its
// credplug_get_interface(), nothing else.
OpenedPlugin open_plugin(const std::string &path);

}  // namespace credplug::host
