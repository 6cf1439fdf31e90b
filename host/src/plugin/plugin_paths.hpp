// Where plugin code may come from. A plugin runs with everything the host
// process can reach, so a file anyone else could have replaced is as good
// as theirs: like OpenSSH with key files, the host refuses a plugin file
// when it, or any directory above it, is writable by every user (a sticky
// directory such as /tmp excepted) or owned by a user other than root and
// the one running the host.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace credplug::host {

// Why `file` is not safe to load, naming the offending path, or nullopt.
std::optional<std::string> unsafe_plugin_path(const std::string &file);

// A plugin id: 1-64 characters of [a-z0-9_-] (plugin.h, descriptor `id`).
bool valid_plugin_id(std::string_view id);

// The path with symlinks and ".." resolved (as far as it exists): one key per
// file for the process-wide registries of loaded plugins.
std::string canonical_path(const std::string &path);

// "ainua" for ".../credplug-ainua.so" (a plugin) or ".../credplug-ainua.provider.json"
// (a described provider); "" for a name without either shape.
std::string conventional_plugin_id(const std::string &file);

}  // namespace credplug::host
