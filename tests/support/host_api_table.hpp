// Checks a credplug_host_api table as a plugin of any minor sees it: every
// entry from the first service (log) to the end of the struct this header
// declares is set. Each minor's entries are a prefix of the current struct,
// so one walk covers minor 0, 1 and 2 alike; an entry added to plugin.h and
// forgotten in a table fills no slot and is reported by its offset.
#pragma once

#include <credplug/plugin.h>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace credplug::test {

// The byte offsets of the unset entries (empty: every one is set).
inline std::vector<size_t> unset_host_api_entries(const credplug_host_api &api) {
  std::vector<size_t> unset;
  using Entry = void (*)();
  static_assert(offsetof(credplug_host_api, log) % sizeof(Entry) == 0, "entries are pointer-aligned");
  for (size_t at = offsetof(credplug_host_api, log); at + sizeof(Entry) <= sizeof(credplug_host_api);
       at += sizeof(Entry)) {
    Entry entry;
    std::memcpy(&entry, reinterpret_cast<const char *>(&api) + at, sizeof entry);
    if (entry == nullptr) unset.push_back(at);
  }
  return unset;
}

inline std::string describe(const std::vector<size_t> &offsets) {
  std::string out;
  for (size_t at : offsets) out += (out.empty() ? "" : ", ") + std::to_string(at);
  return out.empty() ? "none" : "at byte offsets " + out;
}

// The checks both tables must pass (the host's and the runner's).
inline void check_host_api_table(const credplug_host_api *api) {
  REQUIRE(api != nullptr);
  CHECK(api->struct_size == sizeof(credplug_host_api));
  CHECK(api->abi_major == CREDPLUG_ABI_MAJOR);
  CHECK(api->abi_minor == CREDPLUG_ABI_MINOR);
  auto unset = unset_host_api_entries(*api);
  CHECK_MESSAGE(unset.empty(), "unset entries: " << describe(unset));
}

}  // namespace credplug::test
