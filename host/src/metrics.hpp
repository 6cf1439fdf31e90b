// A Host's metrics (Host::metrics(), json::metrics_json/metrics_prometheus):
// counters and latency histograms updated on the hot paths. Counters that
// every headers() call touches are sharded by thread, so that threads do not
// write to one cache line; everything is relaxed atomics, read by summing.
#pragma once

#include <credplug/host.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace credplug::host {

// A number fixed for the calling thread, handed out round-robin: which shard
// of a sharded structure the thread uses (the token cache's, these counters').
size_t this_thread_slot();

class ShardedCounter {
 public:
  void add(uint64_t n = 1);
  uint64_t total() const;

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  std::array<Slot, 16> slots_;
};

// Fixed buckets (ms): what Prometheus histograms and the JSON both show.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBoundsMs = {0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  void observe(double ms);
  Histogram snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsMs.size() + 1> buckets_{};  // the last: above every bound
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

class Metrics {
 public:
  ShardedCounter l1_hits;
  std::atomic<uint64_t> l2_hits{0}, misses{0}, refreshes_ahead{0}, invalidations{0};
  LatencyHistogram wait_ms, lease_wait_ms;  // each wait, observed when it ends: their counts count them

  // A token request the plugin made: its plugin, outcome ("ok" or an error
  // kind's name) and duration.
  void token_request(const std::string &plugin, const char *outcome, double ms);
  // `redis_errors`: the shared cache's count, when there is one.
  MetricsSnapshot snapshot(bool shared_cache, uint64_t redis_errors) const;

 private:
  struct PerPlugin {
    std::map<std::string, uint64_t> outcomes;
    LatencyHistogram latency;
  };
  mutable std::mutex mutex_;  // the map; a token request is rare next to headers()
  std::map<std::string, std::unique_ptr<PerPlugin>> plugins_;
};

}  // namespace credplug::host
