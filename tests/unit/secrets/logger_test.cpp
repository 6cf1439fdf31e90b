#include "secrets/logger.hpp"
#include "transport/host_services.hpp"

#include <doctest/doctest.h>

using namespace credplug::host;

TEST_CASE("a Host going away clears the plugin-level logger only if it is its own") {
  std::vector<std::string> a_lines, b_lines;
  Logger a{[&](int, const std::string &m) { a_lines.push_back(m); }, 3};
  Logger b{[&](int, const std::string &m) { b_lines.push_back(m); }, 3};
  const credplug_host_api *api = host_services();
  set_process_logger(&a);
  set_process_logger(&b);
  clear_process_logger(&a);  // the older Host goes: b stays
  api->log(nullptr, CREDPLUG_LOG_INFO, "from init");
  CHECK(a_lines.empty());
  REQUIRE(b_lines.size() == 1);
  CHECK(b_lines[0] == "[plugin] from init");
  clear_process_logger(&b);
  api->log(nullptr, CREDPLUG_LOG_INFO, "nobody listens");
  CHECK(b_lines.size() == 1);
}
