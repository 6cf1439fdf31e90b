// The one place the library reads its process environment. Every CREDPLUG_*
// variable becomes an option value here, and only when the embedder allows
// it (HostOptions::use_environment); nothing else in host/ calls getenv()
// (scripts/check-source.sh enforces it).
#pragma once

#include <credplug/kit/secret.hpp>

#include <optional>
#include <string>
#include <vector>

namespace credplug::host {

// What the environment says, each field unset when its variable is unset
// (or empty, for the ones where empty means nothing).
struct EnvironmentOptions {
  std::optional<std::string> ca_file;                 // CREDPLUG_CA_FILE
  std::optional<std::string> shared_cache_url;        // CREDPLUG_SHARED_CACHE
  std::optional<std::string> shared_cache_key_file;   // CREDPLUG_SHARED_CACHE_KEY_FILE
  std::optional<std::string> authorization_key_file;  // CREDPLUG_AUTHORIZATION_KEY_FILE
  std::optional<std::string> pin_file;                // CREDPLUG_PIN_FILE
  std::optional<std::string> isolation;               // CREDPLUG_ISOLATION, as written (not empty)
  std::optional<std::string> log_format;              // CREDPLUG_LOG_FORMAT, as written (not empty)
  // CREDPLUG_RUNNER: the program that receives every credential of an
  // isolated plugin; so it obeys use_environment like the rest.
  std::optional<std::string> runner;
  bool runner_stderr = false;              // CREDPLUG_RUNNER_STDERR=1: keep the runners' stderr
  bool allow_unsafe_plugin_paths = false;  // CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS=1
  std::vector<std::string> plugin_path;    // CREDPLUG_PLUGIN_PATH, split at ':' (empty entries dropped)
};

// The CREDPLUG_* variables as they are now.
EnvironmentOptions read_environment();

// The variable a credential names with {"$env": NAME}, or nullopt when it
// is unset: a secret, so it comes wrapped (credential_file.cpp).
std::optional<kit::SecretString> environment_secret(const std::string &name);

}  // namespace credplug::host
