// The table every in-process plugin's init() receives.
#include "transport/host_services.hpp"

#include <support/host_api_table.hpp>

#include <doctest/doctest.h>

TEST_CASE("host API tables: the host's sets every entry of every minor, by name") {
  credplug::test::check_host_api_table(credplug::host::host_services());
}
