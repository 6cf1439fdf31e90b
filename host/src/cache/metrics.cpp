#include "cache/metrics.hpp"

#include <algorithm>

namespace credplug::host {

size_t this_thread_slot() {
  static std::atomic<size_t> next{0};
  thread_local size_t slot = next.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

void ShardedCounter::add(uint64_t n) {
  slots_[this_thread_slot() % slots_.size()].value.fetch_add(n, std::memory_order_relaxed);
}

uint64_t ShardedCounter::total() const {
  uint64_t sum = 0;
  for (const auto &s : slots_) sum += s.value.load(std::memory_order_relaxed);
  return sum;
}

void LatencyHistogram::observe(double ms) {
  size_t i = size_t(std::lower_bound(kBoundsMs.begin(), kBoundsMs.end(), ms) - kBoundsMs.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(uint64_t(std::max(ms, 0.0) * 1000), std::memory_order_relaxed);
}

Histogram LatencyHistogram::snapshot() const {
  Histogram h;
  h.bounds_ms.assign(kBoundsMs.begin(), kBoundsMs.end());
  for (const auto &b : buckets_) h.counts.push_back(b.load(std::memory_order_relaxed));
  h.count = count_.load(std::memory_order_relaxed);
  h.sum_ms = double(sum_us_.load(std::memory_order_relaxed)) / 1000;
  return h;
}

void Metrics::token_request(const std::string &plugin, const char *outcome, double ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto &p = plugins_[plugin];
  if (!p) p = std::make_unique<PerPlugin>();
  ++p->outcomes[outcome];
  p->latency.observe(ms);
}

void Metrics::credential_event(const std::string &plugin, const char *type) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++events_[plugin][type];
}

void Metrics::attach(const HitSource *source) {
  std::lock_guard<std::mutex> lock(sources_mutex_);
  sources_.push_back(source);
}

void Metrics::detach(const HitSource *source, uint64_t final_hits) {
  std::lock_guard<std::mutex> lock(sources_mutex_);  // a snapshot sees it before or after, counted once
  sources_.erase(std::remove(sources_.begin(), sources_.end(), source), sources_.end());
  count<&MetricsSnapshot::l1_hits>(final_hits);
}

MetricsSnapshot Metrics::snapshot(bool shared_cache, uint64_t redis_errors) const {
  MetricsSnapshot s;
  s.shared_cache = shared_cache;
  for (size_t i = 0; i < kMetricRows; ++i) {
    const MetricRow &row = kMetricCatalogue[i];
    if (row.histogram) s.*row.histogram = histograms_[histogram_slot(i)].snapshot();
    if (counted_here(row)) s.*row.counter = counters_[counter_slot(i)].total();
  }
  for (const MetricRow &row : kMetricCatalogue)  // after their histograms
    if (row.count_of) s.*row.counter = (s.*row.count_of).count;
  s.redis_errors = redis_errors;  // the catalogue's one row counted elsewhere
  {
    std::lock_guard<std::mutex> lock(sources_mutex_);
    // Read again under the lock detach() folds a source's count in under:
    // read outside it, a cache detached in between would be counted nowhere.
    s.l1_hits = counters_[counter_slot(metric_row(&MetricsSnapshot::l1_hits))].total();
    for (const HitSource *source : sources_) s.l1_hits += source->l1_hits();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto &[plugin, p] : plugins_) s.token_requests.push_back({plugin, p->outcomes, p->latency.snapshot()});
  for (const auto &[plugin, counts] : events_) s.credential_events.push_back({plugin, counts});
  return s;
}

}  // namespace credplug::host
