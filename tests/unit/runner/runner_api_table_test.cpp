// The table every isolated plugin's init() receives, in its runner.
#include "runner_services.hpp"

#include <support/host_api_table.hpp>

#include <doctest/doctest.h>

TEST_CASE("host API tables: the runner's sets every entry of every minor, by name") {
  credplug::test::check_host_api_table(credplug::runner::runner_services());
}
