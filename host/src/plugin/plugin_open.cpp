#include "plugin_open.hpp"

#include "elf_exports.hpp"
#include "plugin_paths.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace credplug::host {
namespace {

std::string version(uint32_t major, uint32_t minor) { return std::to_string(major) + "." + std::to_string(minor); }

// Libraries stay mapped for the life of the process: unloading is where
// plugin hosts crash (objects, type_info or deleters outliving the code).
void keep_loaded(boost::dll::shared_library library) {
  static auto *kept = new std::vector<boost::dll::shared_library>();  // never freed, by design
  kept->push_back(std::move(library));
}

// The bytes of credplug_plugin that ABI 1.<minor> defines.
size_t descriptor_layout_size(uint32_t minor) {
  if (minor == 0) return offsetof(credplug_plugin, destroy) + sizeof(credplug_plugin::destroy);
  if (minor <= 2)
    return offsetof(credplug_plugin, default_token_lifetime_s) + sizeof(credplug_plugin::default_token_lifetime_s);
  if (minor == 3) return offsetof(credplug_plugin, sign) + sizeof(credplug_plugin::sign);
  if (minor == 4) return offsetof(credplug_plugin, authorize) + sizeof(credplug_plugin::authorize);
  return sizeof(credplug_plugin);  // minor 5, this header's
}

// Checks the descriptor's required fields; returns an empty string when fine.
std::string descriptor_problem(const credplug_plugin *d) {
  if (!CREDPLUG_HAS_FIELD(d, credplug_plugin, authenticate))
    return "its descriptor is too small (struct_size " + std::to_string(d->struct_size) +
           "); it must cover at least the fields of ABI 1.0 up to authenticate";
  if (d->abi_major != CREDPLUG_ABI_MAJOR)
    return "its descriptor says ABI major " + std::to_string(d->abi_major) + ", expected " +
           std::to_string(CREDPLUG_ABI_MAJOR);
  if (d->id == nullptr) return "its descriptor has no id";
  if (!valid_plugin_id(d->id)) return "its id is not 1-64 characters of [a-z0-9_-]";
  if (d->display_name == nullptr) return "its descriptor has no display_name";
  if (d->version == nullptr) return "its descriptor has no version";
  if (d->credential_schema == nullptr) return "its descriptor has no credential_schema";
  if (d->init == nullptr)
    return "its descriptor has no init function: without init() the plugin never receives the host API "
           "(credplug_host_api) that it needs to output headers; set init to a function that keeps the pointer";
  if (d->create == nullptr) return "its descriptor has no create function";
  if (d->authenticate == nullptr) return "its descriptor has no authenticate function";
  return "";
}

}  // namespace

OpenedPlugin open_plugin(const std::string &path) {
  // 1. Look at the file before running any of its code.
  try {
    if (!elf_exports(path, CREDPLUG_ENTRY_SYMBOL)) {
      // The usual mistakes: a C++ name (no extern "C"), or a hidden one.
      for (const auto &name : elf_exports_containing(path, CREDPLUG_ENTRY_SYMBOL))
        throw LoadError("not a credplug plugin: it exports " CREDPLUG_ENTRY_SYMBOL "() only under the C++ name '" +
                        name + "'; it must have C linkage and the signature plugin.h declares");
      throw LoadError("not a credplug plugin: it does not export " CREDPLUG_ENTRY_SYMBOL
                      "(); define it with CREDPLUG_EXPORT (plugins build with hidden visibility) and extern \"C\" in "
                      "C++, or use CREDPLUG_PLUGIN from the C++ kit");
    }
  } catch (const ElfError &e) {
    throw LoadError(std::string("not a loadable shared library: the file ") + e.what());
  }

  // 2. Load it.
  boost::dll::shared_library library;
  try {
    library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception &e) {
    throw LoadError(std::string("cannot be loaded: ") + e.what());
  }
  auto entry =
      library.get<int32_t(const char *, uint32_t, uint32_t, credplug_interface_answer *)>(CREDPLUG_ENTRY_SYMBOL);
  keep_loaded(library);

  // 3. Negotiate.
  credplug_interface_answer answer{};
  answer.struct_size = sizeof answer;
  int32_t rc = entry(CREDPLUG_INTERFACE_CREDENTIAL, CREDPLUG_ABI_MAJOR, CREDPLUG_ABI_MINOR, &answer);
  const std::string ours = version(CREDPLUG_ABI_MAJOR, CREDPLUG_ABI_MINOR);
  if (rc == CREDPLUG_ERR_INCOMPATIBLE) {
    if (answer.major != 0 && answer.major != CREDPLUG_ABI_MAJOR)
      throw LoadError("incompatible: the plugin implements " CREDPLUG_INTERFACE_CREDENTIAL " ABI " +
                      version(answer.major, answer.minor) + "; this host speaks ABI " + ours);
    if (answer.minor > CREDPLUG_ABI_MINOR)
      throw LoadError("incompatible: the plugin requires " CREDPLUG_INTERFACE_CREDENTIAL " ABI " +
                      version(CREDPLUG_ABI_MAJOR, answer.minor) + "; this host supports up to ABI " + ours +
                      " (upgrade credplug)");
    throw LoadError("incompatible: the plugin refused " CREDPLUG_INTERFACE_CREDENTIAL " ABI " + ours);
  }
  if (rc != CREDPLUG_OK) throw LoadError(CREDPLUG_ENTRY_SYMBOL "() failed with status " + std::to_string(rc));
  if (answer.iface == nullptr) throw LoadError(CREDPLUG_ENTRY_SYMBOL "() succeeded but returned no interface");
  if (answer.major != CREDPLUG_ABI_MAJOR || answer.minor > CREDPLUG_ABI_MINOR)
    throw LoadError("the plugin answered with ABI " + version(answer.major, answer.minor) + ", which this host (ABI " +
                    ours + ") did not offer");

  // 4. Check the descriptor.
  const auto *d = static_cast<const credplug_plugin *>(answer.iface);
  if (std::string problem = descriptor_problem(d); !problem.empty()) throw LoadError("invalid plugin: " + problem);

  OpenedPlugin out;
  out.descriptor = d;
  out.abi_major = answer.major;
  out.abi_minor = answer.minor;
  // A field is read only if struct_size covers it *and* the negotiated minor
  // defines it: a struct_size of 0xFFFFFFFF under minor 0 must not make the
  // host read (and call) what lies beyond the minor-0 layout.
  const size_t readable = std::min<size_t>(d->struct_size, descriptor_layout_size(answer.minor));
  auto has = [readable](size_t offset, size_t size) { return readable >= offset + size; };
#define READABLE(field) has(offsetof(credplug_plugin, field), sizeof(d->field))
  out.init = READABLE(init) ? d->init : nullptr;
  out.shutdown = READABLE(shutdown) ? d->shutdown : nullptr;
  out.test = READABLE(test) ? d->test : nullptr;
  out.destroy = READABLE(destroy) ? d->destroy : nullptr;
  out.refresh = READABLE(refresh) ? d->refresh : nullptr;
  out.default_token_lifetime_s = READABLE(default_token_lifetime_s) ? d->default_token_lifetime_s : 0;
  out.sign = READABLE(sign) ? d->sign : nullptr;
  out.authorize = READABLE(authorize) ? d->authorize : nullptr;
  out.revoke = READABLE(revoke) ? d->revoke : nullptr;
#undef READABLE
  out.concurrent_instance = (d->capabilities & CREDPLUG_CAP_CONCURRENT_INSTANCE) != 0;
  return out;
}

}  // namespace credplug::host
