// The table every isolated plugin's init() receives, in its runner.
#include "runner_services.hpp"

#include <support/host_api_table.hpp>

#include <doctest/doctest.h>

TEST_CASE("host API tables: the runner's sets every entry of every minor, by name") {
  const credplug_host_api *api = credplug::runner::runner_services();
  REQUIRE(api != nullptr);
  CHECK(api->struct_size == sizeof(credplug_host_api));
  CHECK(api->abi_major == CREDPLUG_ABI_MAJOR);
  CHECK(api->abi_minor == CREDPLUG_ABI_MINOR);
  auto unset = credplug::test::unset_host_api_entries(*api);
  CHECK_MESSAGE(unset.empty(), "unset entries: " << credplug::test::describe(unset));
  CHECK((api->oauth2_token != nullptr));
  CHECK((api->json_bool != nullptr));
}
