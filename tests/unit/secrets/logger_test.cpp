#include "secrets/logger.hpp"
#include "secrets/output_rules.hpp"
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

TEST_CASE("log lines: text names the plugin and label; JSON lines are one object with every figure, escaped") {
  Logger text;
  const LogContext about{"ainua", "tenant-7"};
  CHECK(text.format_line(CREDPLUG_LOG_WARN, about, "token request failed", "token_request_failed", {}, 0) ==
        "[ainua 'tenant-7'] token request failed");
  CHECK(text.format_line(CREDPLUG_LOG_WARN, {"ainua", ""}, "x", nullptr, {}, 0) == "[ainua] x");
  CHECK(text.format_line(CREDPLUG_LOG_WARN, {}, "no credential", nullptr, {}, 0) == "no credential");

  Logger json;
  json.format = credplug::LogFormat::JsonLines;
  const std::string line = json.format_line(
      CREDPLUG_LOG_WARN, {"ainua", "t\"7"}, "failed: \"quoted\"\nnext\x01", "token_request_failed",
      {{"failures", int64_t(2)}, {"background", false}, {"state", std::string("failing")}}, 1780000000123);
  CHECK(line ==
        "{\"time\":\"2026-05-28T20:26:40.123Z\",\"level\":\"warn\",\"plugin\":\"ainua\",\"credential\":\"t\\\"7\","
        "\"event\":\"token_request_failed\",\"message\":\"failed: \\\"quoted\\\"\\nnext\\u0001\",\"failures\":2,"
        "\"background\":false,\"state\":\"failing\"}");
  CHECK(line.find('\n') == std::string::npos);  // one line, whatever the message holds
  CHECK(json.format_line(CREDPLUG_LOG_ERROR, {}, "m", nullptr, {}, 0) ==
        "{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"error\",\"message\":\"m\"}");
}

TEST_CASE("log lines: below the level nothing is made or sent") {
  int calls = 0;
  Logger l{[&](int, const std::string &) { ++calls; }, CREDPLUG_LOG_WARN};
  l.write(CREDPLUG_LOG_INFO, {"ainua", "t"}, "info");
  l.write(CREDPLUG_LOG_WARN, {"ainua", "t"}, "warn");
  CHECK(calls == 1);
  CHECK_FALSE(l.wants(CREDPLUG_LOG_DEBUG));
}

TEST_CASE("a credential's label: printable UTF-8, at most 128 bytes") {
  CHECK_FALSE(label_problem("").has_value());
  CHECK_FALSE(label_problem("tenant-42 (Zürich)").has_value());
  CHECK_FALSE(label_problem(std::string(128, 'a')).has_value());
  CHECK(label_problem(std::string(129, 'a'))->find("129 bytes") != std::string::npos);
  CHECK(label_problem("a\nb").has_value());
  CHECK(label_problem("a\x1b[2Jb").has_value());
  CHECK(label_problem("bad \xff utf-8").has_value());
}
