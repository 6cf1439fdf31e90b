#include "api/environment.hpp"

#include <cstdlib>
#include <string_view>

namespace credplug::host {
namespace {

std::optional<std::string> variable(const char *name, bool empty_is_unset = false) {
  const char *value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): credplug never sets the environment
  if (value == nullptr || (empty_is_unset && *value == '\0')) return std::nullopt;
  return std::string(value);
}

bool is_one(const char *name) {
  auto value = variable(name);
  return value && *value == "1";
}

std::vector<std::string> split_path_list(const std::optional<std::string> &text) {
  std::vector<std::string> out;
  if (!text) return out;
  size_t start = 0;
  while (start <= text->size()) {
    size_t end = text->find(':', start);
    std::string part = text->substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

EnvironmentOptions read_environment() {
  EnvironmentOptions e;
  e.ca_file = variable("CREDPLUG_CA_FILE");
  e.shared_cache_url = variable("CREDPLUG_SHARED_CACHE");
  e.shared_cache_key_file = variable("CREDPLUG_SHARED_CACHE_KEY_FILE");
  e.authorization_key_file = variable("CREDPLUG_AUTHORIZATION_KEY_FILE");
  e.pin_file = variable("CREDPLUG_PIN_FILE");
  e.isolation = variable("CREDPLUG_ISOLATION", /*empty_is_unset=*/true);
  e.log_format = variable("CREDPLUG_LOG_FORMAT", /*empty_is_unset=*/true);
  e.runner = variable("CREDPLUG_RUNNER", /*empty_is_unset=*/true);
  e.runner_stderr = is_one("CREDPLUG_RUNNER_STDERR");
  e.allow_unsafe_plugin_paths = is_one("CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS");
  e.plugin_path = split_path_list(variable("CREDPLUG_PLUGIN_PATH"));
  return e;
}

std::optional<kit::SecretString> environment_secret(const std::string &name) {
  const char *value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): as above
  if (value == nullptr) return std::nullopt;
  return kit::SecretString(std::string_view(value));
}

}  // namespace credplug::host
