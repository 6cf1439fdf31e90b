// The one reader of the process environment.
#include "api/environment.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace credplug::host;

TEST_CASE("environment: CREDPLUG_* become option values; unset stays unset") {
  const char *names[] = {"CREDPLUG_CA_FILE",
                         "CREDPLUG_SHARED_CACHE",
                         "CREDPLUG_SHARED_CACHE_KEY_FILE",
                         "CREDPLUG_PIN_FILE",
                         "CREDPLUG_ISOLATION",
                         "CREDPLUG_RUNNER",
                         "CREDPLUG_RUNNER_STDERR",
                         "CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS",
                         "CREDPLUG_PLUGIN_PATH"};
  for (const char *name : names) ::unsetenv(name);
  EnvironmentOptions none = read_environment();
  CHECK_FALSE(none.ca_file);
  CHECK_FALSE(none.runner);
  CHECK_FALSE(none.runner_stderr);
  CHECK(none.plugin_path.empty());

  ::setenv("CREDPLUG_CA_FILE", "/etc/ca.pem", 1);
  ::setenv("CREDPLUG_ISOLATION", "", 1);  // empty: as if unset
  ::setenv("CREDPLUG_RUNNER", "/opt/runner", 1);
  ::setenv("CREDPLUG_RUNNER_STDERR", "yes", 1);  // only "1" keeps it
  ::setenv("CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS", "1", 1);
  ::setenv("CREDPLUG_PLUGIN_PATH", "/a::relative:/b:", 1);
  EnvironmentOptions e = read_environment();
  CHECK(e.ca_file == "/etc/ca.pem");
  CHECK_FALSE(e.isolation);
  CHECK(e.runner == "/opt/runner");
  CHECK_FALSE(e.runner_stderr);
  CHECK(e.allow_unsafe_plugin_paths);
  CHECK(e.plugin_path == std::vector<std::string>{"/a", "relative", "/b"});  // relative ones are the Host's to refuse
  for (const char *name : names) ::unsetenv(name);
}

TEST_CASE("environment: a $env secret comes wrapped, and unset is not empty") {
  ::setenv("CREDPLUG_TEST_SECRET", "s3cret", 1);
  auto value = environment_secret("CREDPLUG_TEST_SECRET");
  REQUIRE(value);
  CHECK(value->view() == "s3cret");
  ::setenv("CREDPLUG_TEST_SECRET", "", 1);
  REQUIRE(environment_secret("CREDPLUG_TEST_SECRET"));
  CHECK(environment_secret("CREDPLUG_TEST_SECRET")->view().empty());
  ::unsetenv("CREDPLUG_TEST_SECRET");
  CHECK_FALSE(environment_secret("CREDPLUG_TEST_SECRET"));
}
