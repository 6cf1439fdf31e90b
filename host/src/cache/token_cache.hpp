// TokenCache: one credential's token, served to any number of threads.
//
//   - The read path (get() with a fresh token) takes no lock and writes no
//     line another thread touches: each thread reads through a reader of its
//     own (thread_readers.hpp), checked against the cache's version number
//     and a coarse clock (cache_clock.hpp), and copies a shared_ptr whose
//     control block belongs to that reader.
//   - In the refresh window the first caller queues one background refresh
//     on the RefreshPool; everyone keeps the still-valid token meanwhile.
//   - With no valid token, the first caller fetches (single-flight); the
//     others wait for that one request and share its token or its error.
//   - Failures are retried with backoff (base/backoff.hpp, net/retry_after.hpp); between attempts
//     callers get the held error, saying when the next attempt will be.
// The cache does not know plugins: a Fetcher makes the token request.
#pragma once

#include "cache/cache_clock.hpp"
#include "cache/headers_handle.hpp"
#include "cache/metrics.hpp"
#include "cache/refresh_pool.hpp"
#include "cache/thread_readers.hpp"

#include <credplug/types.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace credplug::host {

enum class FetchKind {
  Authenticate,  // a new token from the credential (first, after expiry, after invalidate)
  Refresh,       // renew a still-valid token (the plugin's refresh hook, if any)
};

// A token request's result.
struct Fetched {
  std::shared_ptr<HeaderSet> set;  // the cache sets its generation
  int64_t sent_ns = 0;             // when the request started, on the cache's clock
  long lifetime_ms = 0;            // from `sent_ns` to expiry, > 0
  // The same expiry on the Unix clock, to the millisecond, as the fleet
  // shares it (every token request sets it).
  int64_t expires_unix_ms = 0;
  // The plugin said the headers never expire: served until invalidate(),
  // never renewed ahead. lifetime_ms and expires_unix_ms then say
  // kNeverExpiresLifetimeMs from now (for the fleet's keys' lifetime).
  bool never_expires = false;
  const char *expiry_source = "";  // AuthResult::expiry_source
};

// What a token that never expires counts as where a number is needed.
constexpr long kNeverExpiresLifetimeMs = 10L * 365 * 24 * 3600 * 1000;

// A failed token request: an Error, and the server's Retry-After if it sent one.
class FetchFailure : public Error {
 public:
  FetchFailure(ErrorKind kind, const std::string &message, std::optional<long> retry_after_ms)
      : Error(kind, message), retry_after_ms(retry_after_ms) {}
  std::optional<long> retry_after_ms;
};

// What became of a token request or a refused token, for the owner's logs.
struct CacheEvent {
  enum Type {
    Obtained,     // a new token
    Failed,       // a token request failed
    Invalidated,  // the API refused the current token (invalidate(generation))
  } type = Obtained;
  int64_t unix_ms = 0;      // when, on the cache's clock
  bool background = false;  // a refresh ahead of expiry (Obtained, Failed)
  uint64_t generation = 0;  // Obtained: the new token's; Invalidated: the refused one's
  long lifetime_ms = 0;     // Obtained: from the request to expiry
  // Obtained: the failures in a row it ends, and how long since the first.
  // Failed: the failures in a row, this one included.
  int failures = 0;
  int64_t failing_for_ms = 0;
  // Failed: what, and what comes next.
  ErrorKind kind = ErrorKind::Plugin;
  std::string message;          // redacted by the fetcher
  bool retryable = false;       // retried by itself (network, provider)
  int attempt = 0;              // within this request's attempts (1, 2, ...)
  bool retry_now = false;       // the caller waits next_attempt_in_ms and tries again
  long next_attempt_in_ms = 0;  // no request before then
  long token_valid_ms = 0;      // the current token still serves this long (0: none)
  // Invalidated: how many newly issued tokens the API refused in a row, and
  // whether that many means backing off (a held failure, kind Rejected).
  int refused_in_a_row = 0;
  bool held = false;
};

class TokenCache final : private HitSource {
 public:
  // Makes one token request; throws FetchFailure (or Error) on failure.
  using Fetcher = std::function<Fetched(FetchKind)>;
  // Told of every CacheEvent, outside the cache's lock, on the thread that
  // caused it (a caller's, or a refresh thread). Must not throw.
  using Observer = std::function<void(const CacheEvent &)>;

  // `metrics` (may be null) counts hits, misses, waits and refreshes ahead.
  TokenCache(const CachePolicy &policy, Fetcher fetch, RefreshPool &pool,
             const CacheClock &clock = system_cache_clock(), Metrics *metrics = nullptr, Observer observer = {});
  const CacheClock &clock() const { return clock_; }
  ~TokenCache();  // close()
  TokenCache(const TokenCache &) = delete;
  TokenCache &operator=(const TokenCache &) = delete;

  HeadersPtr get() {
    if (Reader *r = fresh_reader()) return r->served.set;
    return get_slow();
  }
  // get() when it would not wait: the valid token, or null when there is
  // none now (a token request is then not started, nor waited for). In
  // the refresh window it queues the background refresh as get() does.
  HeadersPtr get_cached();
  // get(), borrowed: the calling thread's own handle, valid until this
  // thread's next get(), get_cached() or borrow() on this cache, or until
  // the cache is destroyed. No reference is counted. Throws Error while the
  // thread's thread-local objects are being destroyed.
  const credplug_headers &borrow() {
    if (Reader *r = fresh_reader()) return r->served;
    return borrow_slow();
  }
  // Drops the token of this generation if it is still the current one; 0
  // drops whatever is current and forgets held failures.
  void invalidate(uint64_t generation);
  // Installs a token obtained outside the cache (Credential::authenticate()).
  HeadersPtr publish(Fetched fetched);
  CacheStatus status() const;
  // How many threads' readers the cache holds (one per thread that read it
  // and is alive, or whose reader no new thread has taken yet).
  size_t reader_count() const;
  // No new background refresh; waits for the one under way. Idempotent.
  void close();

 private:
  // One thread's reader (thread_readers.hpp). Its fields are written by
  // its thread alone, under mutex_ (refill()), and read by it with no lock.
  struct alignas(64) Reader {
    uint64_t version = 0;                  // version_ when filled; 0: never
    int64_t serve_until = 0;               // ns on the coarse clock, its lag taken off
    credplug_headers served;               // aliases current_ through a holder of this reader's
    std::atomic<uint64_t> hits{0};         // l1 hits, stored by its thread alone
    std::shared_ptr<ReaderThread> thread;  // under readers_mutex_
  };

  struct Held {  // the last failure, repeated until next_attempt_
    ErrorKind kind;
    std::string message;
    bool retryable;
  };

  int64_t now_ns() const { return clock_.now_ns(); }
  // The calling thread's reader while its token is fresh, else null: the
  // read path of get(), get_cached() and borrow(), inline in theirs.
  Reader *fresh_reader() {
    const ReaderSlot *slot = reader_slot(id_);
    if (slot == nullptr || slot->owner != id_) return nullptr;
    auto *r = static_cast<Reader *>(slot->reader);
    if (r->version != version_.load(std::memory_order_acquire)) return nullptr;
    const int64_t now = coarse_inline_ ? coarse_monotonic_ns() : clock_.coarse_now_ns();
    if (now >= r->serve_until) return nullptr;
    r->hits.store(r->hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // no other writer
    return r;
  }
  HeadersPtr get_slow();
  const credplug_headers &borrow_slow();
  // The calling thread's reader, found or made; null while the thread exits.
  Reader *this_thread_reader();  // lock held
  // current_ (valid) to the caller, through its reader when it has one.
  HeadersPtr serve(std::unique_lock<std::mutex> &lock);
  uint64_t l1_hits() const override;
  void install(std::unique_lock<std::mutex> &lock, Fetched fetched);  // lock held
  // install(), and the event that tells of it (with the failures it ends).
  CacheEvent install_told(std::unique_lock<std::mutex> &lock, Fetched fetched);
  // What readers may serve changed: until `readable_until` (ns, steady).
  void publish_readable(int64_t readable_until);              // lock held
  void start_background(std::unique_lock<std::mutex> &lock);  // lock held
  // Runs one flight (inflight_ already set), lock held on entry and exit.
  void fly(std::unique_lock<std::mutex> &lock, FetchKind kind, int attempts);
  void end_flight();                                             // lock held
  void tell(std::unique_lock<std::mutex> &lock, CacheEvent &e);  // unlocks for the observer
  [[noreturn]] void throw_held(int64_t now) const;               // lock held

  const CachePolicy policy_;
  const Fetcher fetch_;
  RefreshPool &pool_;
  const CacheClock &clock_;
  Metrics *const metrics_;
  const Observer observer_;
  const uint64_t id_ = new_reader_owner_id();
  // The read path's clock: the coarse monotonic clock inline when the cache
  // runs on the system clock, else clock_'s coarse_now_ns(); its lag bound.
  const bool coarse_inline_;
  const int64_t coarse_lag_ns_;
  std::atomic<uint64_t> version_{1};  // bumped under mutex_ by publish_readable()

  mutable std::mutex readers_mutex_;  // readers_ and each reader's `thread`; after mutex_
  std::vector<std::unique_ptr<Reader>> readers_;

  mutable std::mutex mutex_;  // everything below
  std::condition_variable changed_;
  std::shared_ptr<const HeaderSet> current_;
  int64_t expire_at_ = 0, refresh_at_ = 0;  // ns, steady
  int64_t readable_until_ = 0;              // ns, steady: readers serve current_ until then
  uint64_t generation_ = 0;
  bool inflight_ = false;
  uint64_t flights_started_ = 0, flights_finished_ = 0;
  std::optional<Held> held_;  // set when the last flight failed
  int64_t next_attempt_ = 0;  // ns, steady
  int failures_ = 0;
  int invalidations_in_a_row_ = 0;
  uint64_t token_requests_ = 0, background_refreshes_ = 0;
  int64_t last_success_ms_ = 0, failing_since_ms_ = 0;  // Unix ms, 0: never, not failing
  bool closing_ = false;
};

}  // namespace credplug::host
