// A Host's metrics (Host::metrics(), json::metrics_json/metrics_prometheus):
// counters and latency histograms updated on the hot paths. Counters are
// sharded by thread, so that threads do not write to one cache line;
// everything is relaxed atomics, read by summing.
//
// Every counter and histogram is one row of kMetricCatalogue below: its
// field in MetricsSnapshot, its JSON key and its Prometheus family and help.
// The JSON and Prometheus writers (api/host_json.cpp) walk the catalogue, so
// adding a metric is a field in MetricsSnapshot (credplug/types.hpp), a row
// here, and the count<>() or observe<>() where it happens.
#pragma once

#include <credplug/types.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace credplug::host {

// A number fixed for the calling thread, handed out round-robin: which shard
// of a sharded counter the thread uses.
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
  static constexpr std::array<double, 14> kBoundsMs = {0.5, 1,   2.5, 5,    10,   25,   50,
                                                       100, 250, 500, 1000, 2500, 5000, 10000};
  void observe(double ms);
  Histogram snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsMs.size() + 1> buckets_{};  // the last: above every bound
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

// One metric. Exactly one of counter and histogram is set. A counter with
// `count_of` set is read as that histogram's count (each wait is observed
// once, when it ends), and one `counted_elsewhere` is handed to snapshot();
// neither has storage of its own.
struct MetricRow {
  enum Group { kCache, kSharedCache } group;  // JSON: "cache" or "shared_cache" (null without one)
  const char *json_key;
  const char *family;  // Prometheus; rows of one family are written together, in catalogue order
  const char *label;   // the row's label within its family ("result=\"l1_hit\""), or nullptr
  const char *help;    // the family's HELP (its first row's)
  uint64_t MetricsSnapshot::*counter = nullptr;
  Histogram MetricsSnapshot::*histogram = nullptr;
  Histogram MetricsSnapshot::*count_of = nullptr;
  bool counted_elsewhere = false;
};

// Catalogue order is the order of the JSON keys and, by family, of the
// Prometheus text: never reorder (both are documented outputs).
inline constexpr MetricRow kMetricCatalogue[] = {
    {MetricRow::kCache, "l1_hits", "credplug_cache_lookups_total", "result=\"l1_hit\"",
     "headers() calls by where the token came from.", &MetricsSnapshot::l1_hits},
    {MetricRow::kCache, "l2_hits", "credplug_cache_l2_hits_total", nullptr,
     "Tokens taken from the shared cache instead of a request.", &MetricsSnapshot::l2_hits},
    {MetricRow::kCache, "misses", "credplug_cache_lookups_total", "result=\"miss\"",
     "headers() calls by where the token came from.", &MetricsSnapshot::misses},
    {MetricRow::kCache, "refreshes_ahead", "credplug_cache_refreshes_ahead_total", nullptr,
     "Token renewals started before expiry.", &MetricsSnapshot::refreshes_ahead},
    {MetricRow::kCache, "waits", "credplug_cache_waits_total", nullptr,
     "headers() calls that waited for a token request under way.", &MetricsSnapshot::waits, nullptr,
     &MetricsSnapshot::wait_duration},
    {MetricRow::kCache, "wait_duration", "credplug_cache_wait_duration_seconds", nullptr, "How long those waits took.",
     nullptr, &MetricsSnapshot::wait_duration},
    {MetricRow::kCache, "invalidations", "credplug_cache_invalidations_total", nullptr,
     "Tokens reported refused (invalidate()).", &MetricsSnapshot::invalidations},
    {MetricRow::kCache, "refused", "credplug_cache_lookups_total", "result=\"refused\"",
     "headers() calls by where the token came from.", &MetricsSnapshot::refused},
    // Counted by the shared cache's Redis client (Metrics::snapshot's argument).
    {MetricRow::kSharedCache, "redis_errors", "credplug_shared_cache_errors_total", nullptr,
     "Shared cache commands that failed: Redis down, slow or answering an error.", &MetricsSnapshot::redis_errors,
     nullptr, nullptr, /*counted_elsewhere=*/true},
    {MetricRow::kSharedCache, "lease_waits", "credplug_shared_cache_lease_waits_total", nullptr,
     "Waits for another process's token request.", &MetricsSnapshot::lease_waits, nullptr,
     &MetricsSnapshot::lease_wait_duration},
    {MetricRow::kSharedCache, "lease_wait_duration", "credplug_shared_cache_lease_wait_duration_seconds", nullptr,
     "How long those waits took.", nullptr, &MetricsSnapshot::lease_wait_duration},
};
inline constexpr size_t kMetricRows = sizeof kMetricCatalogue / sizeof kMetricCatalogue[0];

constexpr size_t metric_row(uint64_t MetricsSnapshot::*field) {
  for (size_t i = 0; i < kMetricRows; ++i)
    if (kMetricCatalogue[i].counter == field) return i;
  return kMetricRows;
}
constexpr size_t metric_row(Histogram MetricsSnapshot::*field) {
  for (size_t i = 0; i < kMetricRows; ++i)
    if (kMetricCatalogue[i].histogram == field) return i;
  return kMetricRows;
}

// Storage only where a row needs it: a ShardedCounter per counted row, a
// LatencyHistogram per histogram row, each numbered by its rank among them.
constexpr bool counted_here(const MetricRow &row) {
  return row.counter != nullptr && row.count_of == nullptr && !row.counted_elsewhere;
}
constexpr size_t counter_slot(size_t row) {
  size_t slot = 0;
  for (size_t i = 0; i < row; ++i) slot += counted_here(kMetricCatalogue[i]) ? 1 : 0;
  return slot;
}
constexpr size_t histogram_slot(size_t row) {
  size_t slot = 0;
  for (size_t i = 0; i < row; ++i) slot += kMetricCatalogue[i].histogram != nullptr ? 1 : 0;
  return slot;
}

// A count kept outside Metrics and read at each snapshot: a token cache's
// l1 hits, which each thread counts in its own reader so the read path
// writes no shared line.
class HitSource {
 public:
  virtual uint64_t l1_hits() const = 0;  // thread-safe

 protected:
  ~HitSource() = default;
};

class Metrics {
 public:
  // Adds `source`'s count to every snapshot until detach(), which folds its
  // last count (`final_hits`) into this Metrics' own.
  void attach(const HitSource *source);
  void detach(const HitSource *source, uint64_t final_hits);

  // metrics.count<&MetricsSnapshot::misses>(): the row is found at compile time.
  template <uint64_t MetricsSnapshot::*Field>
  void count(uint64_t n = 1) {
    constexpr size_t row = metric_row(Field);
    static_assert(row < kMetricRows, "a counter needs its row in kMetricCatalogue");
    static_assert(counted_here(kMetricCatalogue[row]), "this row's value comes from elsewhere (count_of, snapshot())");
    counters_[counter_slot(row)].add(n);
  }
  template <Histogram MetricsSnapshot::*Field>
  void observe(double ms) {
    constexpr size_t row = metric_row(Field);
    static_assert(row < kMetricRows, "a histogram needs its row in kMetricCatalogue");
    histograms_[histogram_slot(row)].observe(ms);
  }

  // A token request the plugin made: its plugin, outcome ("ok" or an error
  // kind's name) and duration.
  void token_request(const std::string &plugin, const char *outcome, double ms);
  // A credential event (CredentialEvent::Type's name) of a plugin's credential.
  void credential_event(const std::string &plugin, const char *type);
  // `redis_errors`: the shared cache's count, when there is one.
  MetricsSnapshot snapshot(bool shared_cache, uint64_t redis_errors) const;

 private:
  std::array<ShardedCounter, counter_slot(kMetricRows)> counters_;        // by counter_slot()
  std::array<LatencyHistogram, histogram_slot(kMetricRows)> histograms_;  // by histogram_slot()
  struct PerPlugin {
    std::map<std::string, uint64_t> outcomes;
    LatencyHistogram latency;
  };
  mutable std::mutex sources_mutex_;  // sources_; never held with mutex_
  std::vector<const HitSource *> sources_;
  mutable std::mutex mutex_;  // the map; a token request is rare next to headers()
  std::map<std::string, std::unique_ptr<PerPlugin>> plugins_;
  std::map<std::string, std::map<std::string, uint64_t>> events_;  // plugin -> type -> count, under mutex_
};

}  // namespace credplug::host
