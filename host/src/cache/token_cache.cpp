#include "cache/token_cache.hpp"

#include "base/backoff.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace credplug::host {
namespace {

constexpr int64_t kNsPerMs = 1000000;
// "Never" for a grant gone for good: a year, far from overflowing in ns.
constexpr long kReauthorizeHoldMs = 365L * 24 * 3600 * 1000;

std::string seconds_text(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", double(std::max<int64_t>(ns, 0)) / 1e9);
  return buf;
}

}  // namespace

TokenCache::TokenCache(const CachePolicy &policy, Fetcher fetch, RefreshPool &pool, const CacheClock &clock,
                       Metrics *metrics, Observer observer)
    : policy_(policy),
      fetch_(std::move(fetch)),
      pool_(pool),
      clock_(clock),
      metrics_(metrics),
      observer_(std::move(observer)),
      coarse_inline_(&clock == &system_cache_clock() && clock.coarse_max_lag_ns() > 0),
      coarse_lag_ns_(std::max<int64_t>(clock.coarse_max_lag_ns(), 0)) {
  if (metrics_) metrics_->attach(this);
}

TokenCache::~TokenCache() {
  close();
  if (metrics_) metrics_->detach(this, l1_hits());
}

const credplug_headers &TokenCache::borrow_slow() {
  get_slow();  // fills this thread's reader with what it returns
  const ReaderSlot *slot = reader_slot(id_);
  if (slot == nullptr || slot->owner != id_)
    throw Error(ErrorKind::Plugin, "headers cannot be borrowed while the thread exits: take a reference instead");
  return static_cast<Reader *>(slot->reader)->served;
}

HeadersPtr TokenCache::get_cached() {
  if (Reader *r = fresh_reader()) return r->served.set;
  std::unique_lock<std::mutex> lock(mutex_);  // held by no network call: the fetch runs unlocked
  const int64_t now = now_ns();
  if (!current_ || now >= expire_at_) return nullptr;
  if (now >= refresh_at_ && !inflight_ && now >= next_attempt_ && !closing_) start_background(lock);
  if (metrics_) metrics_->count<&MetricsSnapshot::l1_hits>();
  return serve(lock);
}

TokenCache::Reader *TokenCache::this_thread_reader() {
  if (const ReaderSlot *slot = reader_slot(id_); slot != nullptr && slot->owner == id_)
    return static_cast<Reader *>(slot->reader);
  const std::shared_ptr<ReaderThread> *thread = this_reader_thread();  // makes the table
  if (thread == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(readers_mutex_);
  Reader *found = nullptr;
  Reader *orphan = nullptr;  // a reader whose thread has exited: given to this one
  for (const auto &r : readers_) {
    if (r->thread == *thread) {
      found = r.get();
      break;
    }
    if (orphan == nullptr && !r->thread->alive.load(std::memory_order_acquire)) orphan = r.get();
  }
  if (found == nullptr && orphan != nullptr) {
    found = orphan;
    found->version = 0;
  }
  if (found == nullptr) found = readers_.emplace_back(std::make_unique<Reader>()).get();
  found->thread = *thread;
  *reader_slot(id_) = ReaderSlot{id_, found};
  return found;
}

HeadersPtr TokenCache::serve(std::unique_lock<std::mutex> &) {
  Reader *r = this_thread_reader();
  if (r == nullptr) return current_;
  const uint64_t version = version_.load(std::memory_order_relaxed);  // written under this lock
  if (r->version != version) {
    if (r->served.set.get() != current_.get()) {
      // A holder of the reader's own: its thread's copies count references
      // on a line no other thread writes.
      auto holder = std::make_shared<std::shared_ptr<const HeaderSet>>(current_);
      r->served.set = HeadersPtr(holder, holder->get());
    }
    const int64_t until = readable_until_;
    r->serve_until = until == std::numeric_limits<int64_t>::max() ? until : until - coarse_lag_ns_;
    r->version = version;
  }
  return r->served.set;
}

size_t TokenCache::reader_count() const {
  std::lock_guard<std::mutex> lock(readers_mutex_);
  return readers_.size();
}

uint64_t TokenCache::l1_hits() const {
  std::lock_guard<std::mutex> lock(readers_mutex_);
  uint64_t sum = 0;
  for (const auto &r : readers_) sum += r->hits.load(std::memory_order_relaxed);
  return sum;
}

HeadersPtr TokenCache::get_slow() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    int64_t now = now_ns();
    if (current_ && now < expire_at_) {
      if (now >= refresh_at_ && !inflight_ && now >= next_attempt_ && !closing_) start_background(lock);
      if (metrics_) metrics_->count<&MetricsSnapshot::l1_hits>();
      return serve(lock);
    }
    if (inflight_) {
      // Single-flight: wait for the request under way and take its outcome.
      const uint64_t flight = flights_started_;
      const int64_t waited_from = now;
      changed_.wait(lock, [&] { return flights_finished_ >= flight; });
      now = now_ns();
      if (metrics_) metrics_->observe<&MetricsSnapshot::wait_duration>(double(now - waited_from) / kNsPerMs);
      if (current_ && now < expire_at_) return serve(lock);
      if (held_ && flights_finished_ == flight) throw_held(now);
      continue;
    }
    if (held_ && now < next_attempt_) {
      if (metrics_) metrics_->count<&MetricsSnapshot::refused>();
      throw_held(now);
    }
    if (closing_) throw Error(ErrorKind::Plugin, "the credential is being closed");
    if (metrics_) metrics_->count<&MetricsSnapshot::misses>();
    inflight_ = true;
    ++flights_started_;
    fly(lock, FetchKind::Authenticate, std::max(1, policy_.max_attempts));
    now = now_ns();
    if (current_ && now < expire_at_) return serve(lock);
    if (held_) throw_held(now);
  }
}

void TokenCache::start_background(std::unique_lock<std::mutex> &) {
  inflight_ = true;
  ++flights_started_;
  ++background_refreshes_;
  if (metrics_) metrics_->count<&MetricsSnapshot::refreshes_ahead>();
  publish_readable(expire_at_);  // readers keep the token without asking again
  pool_.submit([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    // One attempt: a failure is retried by a later caller after the backoff,
    // so no pool thread sleeps through a Retry-After.
    if (closing_) return end_flight();
    fly(lock, FetchKind::Refresh, 1);
  });
}

void TokenCache::fly(std::unique_lock<std::mutex> &lock, FetchKind kind, int attempts) {
  const bool background = kind == FetchKind::Refresh;
  for (int attempt = 1;; ++attempt) {
    ++token_requests_;
    lock.unlock();
    std::optional<Fetched> fetched;
    std::optional<Held> failure;
    std::optional<long> retry_after;
    try {
      fetched = fetch_(kind);
    } catch (const FetchFailure &e) {
      // A state not saved is saved again on the next attempt, backing off.
      bool retryable =
          e.kind() == ErrorKind::Network || e.kind() == ErrorKind::Provider || e.kind() == ErrorKind::StateNotSaved;
      failure = Held{e.kind(), e.what(), retryable};
      retry_after = e.retry_after_ms;
    } catch (const Error &e) {
      failure = Held{e.kind(), e.what(), e.kind() == ErrorKind::Network || e.kind() == ErrorKind::Provider};
    } catch (const std::exception &e) {
      failure = Held{ErrorKind::Plugin, std::string("the token request failed: ") + e.what(), false};
    }
    lock.lock();
    const int64_t now = now_ns();
    if (fetched) {
      CacheEvent event = install_told(lock, std::move(*fetched));
      event.background = background;
      if (kind == FetchKind::Refresh) invalidations_in_a_row_ = 0;  // that token lived its life
      tell(lock, event);  // while still in flight: close() waits for the observer too
      return end_flight();
    }
    CacheEvent event;
    event.type = CacheEvent::Failed;
    event.background = background;
    if (failing_since_ms_ == 0) failing_since_ms_ = clock_.unix_ms();
    ++failures_;
    // A grant gone for good is never asked for again: only new state (which
    // invalidates) or invalidate() ends the hold.
    long wait_ms = failure->retryable
                       ? jittered_backoff_ms(failures_, policy_.backoff_initial_ms, policy_.backoff_max_ms)
                   : failure->kind == ErrorKind::Reauthorize ? kReauthorizeHoldMs
                                                             : policy_.rejection_hold_ms;
    if (failure->retryable && retry_after) wait_ms = std::max(wait_ms, std::min(*retry_after, 24L * 3600 * 1000));
    held_ = std::move(failure);
    next_attempt_ = now + wait_ms * kNsPerMs;
    if (current_ && now < expire_at_) publish_readable(std::min(next_attempt_, expire_at_));
    event.kind = held_->kind;
    event.message = held_->message;
    event.retryable = held_->retryable;
    event.failures = failures_;
    event.attempt = attempt;
    event.next_attempt_in_ms = wait_ms;
    event.token_valid_ms = current_ && now < expire_at_ ? long((expire_at_ - now) / kNsPerMs) : 0;
    event.retry_now = held_->retryable && attempt < attempts && wait_ms <= policy_.max_wait_ms && !closing_;
    tell(lock, event);
    if (!event.retry_now || closing_) return end_flight();
    clock_.wait_until(changed_, lock, now + wait_ms * kNsPerMs, [&] { return closing_; });
    if (closing_) return end_flight();
  }
}

void TokenCache::end_flight() {
  inflight_ = false;
  ++flights_finished_;
  changed_.notify_all();
}

void TokenCache::tell(std::unique_lock<std::mutex> &lock, CacheEvent &e) {
  if (!observer_) return;
  e.unix_ms = clock_.unix_ms();
  lock.unlock();
  observer_(e);
  lock.lock();
}

CacheEvent TokenCache::install_told(std::unique_lock<std::mutex> &lock, Fetched fetched) {
  CacheEvent event;
  event.type = CacheEvent::Obtained;
  event.failures = failures_;
  event.failing_for_ms = failing_since_ms_ ? clock_.unix_ms() - failing_since_ms_ : 0;
  event.lifetime_ms = fetched.lifetime_ms;
  install(lock, std::move(fetched));
  event.generation = generation_;
  return event;
}

void TokenCache::install(std::unique_lock<std::mutex> &, Fetched fetched) {
  const int64_t lifetime = std::max<int64_t>(fetched.lifetime_ms, 1) * kNsPerMs;
  const int64_t skew = std::min<int64_t>(policy_.skew_ms * kNsPerMs, lifetime / 4);
  const int64_t sent = fetched.sent_ns;
  const int64_t usable = lifetime - skew;
  const int64_t window =
      std::min<int64_t>(int64_t(double(usable) * policy_.refresh_fraction), policy_.max_refresh_window_ms * kNsPerMs);
  fetched.set->generation = ++generation_;
  current_ = std::move(fetched.set);
  expire_at_ = sent + usable;
  refresh_at_ = expire_at_ - std::max<int64_t>(window, 0);
  if (fetched.never_expires) expire_at_ = refresh_at_ = std::numeric_limits<int64_t>::max();
  held_.reset();
  failures_ = 0;
  failing_since_ms_ = 0;
  last_success_ms_ = clock_.unix_ms();
  next_attempt_ = 0;
  publish_readable(refresh_at_);
}

void TokenCache::publish_readable(int64_t readable_until) {
  readable_until_ = readable_until;
  version_.fetch_add(1, std::memory_order_release);  // every reader refills before serving again
}

HeadersPtr TokenCache::publish(Fetched fetched) {
  std::unique_lock<std::mutex> lock(mutex_);
  CacheEvent event = install_told(lock, std::move(fetched));
  changed_.notify_all();
  HeadersPtr installed = current_;
  tell(lock, event);
  return installed;
}

void TokenCache::invalidate(uint64_t generation) {
  std::unique_lock<std::mutex> lock(mutex_);
  CacheEvent event;
  event.type = CacheEvent::Invalidated;
  event.generation = generation;
  if (generation == 0) {
    held_.reset();
    failures_ = 0;
    failing_since_ms_ = 0;
    next_attempt_ = 0;
    invalidations_in_a_row_ = 0;
  } else if (!current_ || current_->generation != generation) {
    // An older token: the current one is newer than what the API refused.
    // A held rejection still ends: the caller has acted on it.
    if (!current_ && held_ && !held_->retryable) next_attempt_ = 0;
    return;
  } else {
    // The API refused a token the provider just gave us. Once is normal;
    // again and again means re-authenticating will not help: back off.
    const int64_t now = now_ns();
    event.refused_in_a_row = ++invalidations_in_a_row_;
    if (invalidations_in_a_row_ >= 2) {
      const long wait_ms =
          jittered_backoff_ms(invalidations_in_a_row_ - 1, policy_.backoff_initial_ms, policy_.backoff_max_ms);
      next_attempt_ = now + wait_ms * kNsPerMs;
      held_ =
          Held{ErrorKind::Rejected,
               "the API refused " + std::to_string(invalidations_in_a_row_) +
                   " tokens in a row (Credential::invalidate); each was newly issued, so the credential works at the "
                   "token endpoint but not at the API (check its scope, audience or permissions)",
               true};
      if (failing_since_ms_ == 0) failing_since_ms_ = clock_.unix_ms();
      event.held = true;
      event.kind = held_->kind;
      event.message = held_->message;
      event.retryable = true;
      event.next_attempt_in_ms = wait_ms;
    } else {
      held_.reset();
      failing_since_ms_ = 0;
      next_attempt_ = 0;
    }
  }
  current_.reset();
  expire_at_ = refresh_at_ = 0;
  publish_readable(0);
  tell(lock, event);
}

void TokenCache::throw_held(int64_t now) const {
  std::string when;
  if (held_->kind == ErrorKind::Reauthorize) {
    when = " (not retried: connect the account again, which gives the credential new state)";
  } else if (held_->retryable) {
    when = " (failed " + std::to_string(std::max(failures_, invalidations_in_a_row_)) +
           " time(s) in a row; the next attempt is in " + seconds_text(next_attempt_ - now) + ")";
  } else {
    when = " (not retried automatically: the next attempt is in " + seconds_text(next_attempt_ - now) +
           ", or at once after invalidate())";
  }
  throw Error(held_->kind, held_->message + when);
}

CacheStatus TokenCache::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t now = now_ns();
  CacheStatus s;
  s.has_token = current_ && now < expire_at_;
  s.generation = generation_;
  if (current_) s.expires_at = current_->expires_at;
  s.never_expires = current_ && current_->never_expires;
  s.token_requests = token_requests_;
  s.background_refreshes = background_refreshes_;
  s.consecutive_failures = failures_;
  if (held_) s.last_error = held_->message;
  if (next_attempt_ > now) s.next_attempt_ms = clock_.unix_ms() + (next_attempt_ - now) / kNsPerMs;
  s.refreshing = inflight_;
  if (last_success_ms_) s.last_success_ms = last_success_ms_;
  if (failing_since_ms_ && held_) s.failing_since_ms = failing_since_ms_;
  if (held_) {
    s.last_error_kind = held_->kind;
    s.retryable = held_->retryable;
  }
  return s;
}

void TokenCache::close() {
  std::unique_lock<std::mutex> lock(mutex_);
  closing_ = true;
  changed_.notify_all();
  changed_.wait(lock, [&] { return !inflight_; });
}

}  // namespace credplug::host
