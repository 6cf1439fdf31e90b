// Metrics: counters summed across threads, histogram buckets, and the
// Prometheus exposition's shape.
#include "cache/metrics.hpp"

#include <credplug/host_json.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

using namespace credplug;
using namespace credplug::host;

TEST_CASE("metrics: a sharded counter sums every thread's adds") {
  ShardedCounter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.add();
    });
  for (auto &t : threads) t.join();
  CHECK(c.total() == 80000);
}

TEST_CASE("metrics: histogram buckets hold what fell at or below their bound; the last holds the rest") {
  LatencyHistogram h;
  for (double ms : {0.1, 0.5, 0.6, 3.0, 12000.0}) h.observe(ms);
  Histogram s = h.snapshot();
  REQUIRE(s.counts.size() == s.bounds_ms.size() + 1);
  CHECK(s.counts[0] == 2);  // 0.1 and 0.5 <= 0.5
  CHECK(s.counts[1] == 1);  // 0.6 <= 1
  CHECK(s.counts[3] == 1);  // 3 <= 5
  CHECK(s.counts.back() == 1);
  CHECK(s.count == 5);
  CHECK(s.sum_ms == doctest::Approx(12004.2));
}

TEST_CASE("metrics: Prometheus text has cumulative buckets in seconds, +Inf, _sum and _count, labels escaped") {
  Metrics m;
  m.token_request("ainua", "ok", 3);
  m.token_request("ainua", "ok", 30);
  m.token_request("we\"ird", "rejected", 600);
  m.count<&MetricsSnapshot::l1_hits>(5);
  const std::string text = json::metrics_prometheus(m.snapshot(false, 0));
  CHECK(text.find("credplug_token_requests_total{plugin=\"ainua\",outcome=\"ok\"} 2\n") != std::string::npos);
  CHECK(text.find("credplug_token_requests_total{plugin=\"we\\\"ird\",outcome=\"rejected\"} 1\n") != std::string::npos);
  CHECK(text.find("credplug_token_request_duration_seconds_bucket{plugin=\"ainua\",le=\"0.005\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("credplug_token_request_duration_seconds_bucket{plugin=\"ainua\",le=\"0.05\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("credplug_token_request_duration_seconds_bucket{plugin=\"ainua\",le=\"+Inf\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("credplug_token_request_duration_seconds_sum{plugin=\"ainua\"} 0.033\n") != std::string::npos);
  CHECK(text.find("credplug_cache_lookups_total{result=\"l1_hit\"} 5\n") != std::string::npos);
  CHECK(text.find("credplug_shared_cache") == std::string::npos);
  CHECK(json::metrics_prometheus(m.snapshot(true, 3)).find("credplug_shared_cache_errors_total 3\n") !=
        std::string::npos);
  const std::string doc = json::metrics_json(m.snapshot(false, 0), json::JsonStyle::Line);
  CHECK(doc.find("\"shared_cache\":null") != std::string::npos);
  CHECK(doc.find("\"ainua\":{\"outcomes\":{\"ok\":2}") != std::string::npos);
}

// The documented outputs, byte for byte: metrics_golden.txt was written by
// the writers before they walked kMetricCatalogue (and must not change but
// by adding lines, or keys to a JSON object: dashboards and scrapers read
// them). CREDPLUG_UPDATE_GOLDEN=1 rewrites it: review the diff.
TEST_CASE("metrics: the JSON and Prometheus outputs match the golden file byte for byte") {
  Metrics m;
  m.token_request("ainua", "ok", 3);
  m.token_request("ainua", "rejected", 700);
  m.token_request("nexla", "ok", 12.5);
  m.count<&MetricsSnapshot::l1_hits>(5);
  m.count<&MetricsSnapshot::l2_hits>(2);
  m.count<&MetricsSnapshot::misses>(3);
  m.count<&MetricsSnapshot::refreshes_ahead>();
  m.count<&MetricsSnapshot::invalidations>();
  m.observe<&MetricsSnapshot::wait_duration>(4);
  m.observe<&MetricsSnapshot::wait_duration>(40);
  m.observe<&MetricsSnapshot::lease_wait_duration>(2);
  m.count<&MetricsSnapshot::refused>(4);
  // The gauge Host::metrics() adds: open credentials by plugin and state.
  auto with_credentials = [](MetricsSnapshot s) {
    s.credentials = {{"ainua", {{CredentialState::Ok, 3}, {CredentialState::Failing, 1}}},
                     {"nexla", {{CredentialState::Rejected, 2}}}};
    return s;
  };
  const std::string out = json::metrics_prometheus(with_credentials(m.snapshot(true, 7))) + "----\n" +
                          json::metrics_json(with_credentials(m.snapshot(true, 7)), json::JsonStyle::Line) +
                          "\n----\n" + json::metrics_json(m.snapshot(false, 0), json::JsonStyle::Pretty) + "\n----\n" +
                          json::metrics_prometheus(m.snapshot(false, 0));
  if (const char *update = std::getenv("CREDPLUG_UPDATE_GOLDEN"); update && *update == '1')
    std::ofstream(CREDPLUG_SOURCE_DIR "/tests/unit/cache/metrics_golden.txt") << out;
  std::ifstream in(CREDPLUG_SOURCE_DIR "/tests/unit/cache/metrics_golden.txt");
  REQUIRE(in);
  const std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(out == golden);
}
