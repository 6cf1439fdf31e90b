// The token cache on a clock the test drives: skew, refresh window, expiry,
// backoff with jitter, Retry-After, held rejections and many threads across
// many lifetimes, without sleeping through any of it and without depending
// on how busy the machine is.
#include "cache/token_cache.hpp"

#include <support/fake_clock.hpp>
#include <support/on_threads.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <string>
#include <thread>

using namespace credplug;
using namespace credplug::host;
using credplug::testing::FakeClock;

namespace {

constexpr int64_t kMs = 1000000;

// A provider whose answers the test scripts: tokens of `lifetime_ms`, or the
// failures queued in `failures` first. Each token's one header says its
// expiry on the fake clock: "exp_ns=<n>".
struct ScriptedProvider {
  explicit ScriptedProvider(FakeClock &c) : clock(c) {}
  FakeClock &clock;
  long lifetime_ms = 100000;
  std::mutex mutex;
  std::deque<FetchFailure> failures;
  std::atomic<int> calls{0};
  std::atomic<bool> never_expires{false};  // the plugin says the headers never expire

  Fetched operator()(FetchKind) {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failures.empty()) {
        FetchFailure f = failures.front();
        failures.pop_front();
        throw f;
      }
    }
    Fetched out;
    out.sent_ns = clock.now_ns();
    out.lifetime_ms = lifetime_ms;
    out.set = std::make_shared<HeaderSet>();
    out.set->headers.push_back(
        Header{"Authorization", SecretString("exp_ns=" + std::to_string(out.sent_ns + lifetime_ms * kMs)), true});
    out.set->expires_at = (clock.unix_ms() + lifetime_ms) / 1000;
    if (never_expires) {  // as Credential::Impl says it
      out.never_expires = out.set->never_expires = true;
      out.lifetime_ms = kNeverExpiresLifetimeMs;
      out.set->expires_at.reset();
    }
    return out;
  }
  void fail(ErrorKind kind, std::optional<long> retry_after_ms = std::nullopt) {
    std::lock_guard<std::mutex> lock(mutex);
    failures.emplace_back(kind, "scripted failure", retry_after_ms);
  }
};

struct Rig {
  FakeClock clock;
  ScriptedProvider provider{clock};
  CachePolicy policy;
  RefreshPool pool{2};
  Metrics metrics;
  std::mutex events_mutex;
  std::vector<CacheEvent> events;  // what the observer was told, in order
  std::unique_ptr<TokenCache> cache;
  explicit Rig(CachePolicy p = {}) : policy(p) {
    cache = std::make_unique<TokenCache>(
        policy, [this](FetchKind k) { return provider(k); }, pool, clock, &metrics,
        [this](const CacheEvent &e) {
          // The observer may ask the cache (a log sink that reads the status):
          // it is called outside the cache's lock, or this would deadlock.
          (void)cache->status();
          std::lock_guard<std::mutex> lock(events_mutex);
          events.push_back(e);
        });
  }
  CacheEvent last_event() {
    std::lock_guard<std::mutex> lock(events_mutex);
    REQUIRE_FALSE(events.empty());
    return events.back();
  }
  size_t event_count() {
    std::lock_guard<std::mutex> lock(events_mutex);
    return events.size();
  }
  ~Rig() { cache->close(); }
  // Waits (in real time, for a background refresh to finish) until the
  // provider was asked `calls` times and no refresh is still under way. Both
  // are waited for: the provider counts a call as it starts, so the count
  // alone arrives before the refresh has installed its token.
  bool calls_reach(int calls) {
    auto settled = [&] { return provider.calls.load() >= calls && !cache->status().refreshing; };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!settled() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return settled();
  }
  long next_attempt_in_ms() { return long(*cache->status().next_attempt_ms - clock.unix_ms()); }
  std::string error_of_get() {
    try {
      cache->get();
    } catch (const Error &e) {
      return e.what();
    }
    return "";
  }
};

CachePolicy one_attempt() {
  CachePolicy p;
  p.max_attempts = 1;
  return p;
}

}  // namespace

TEST_CASE("cache clock: the skew is capped at a quarter of the lifetime, and expiry means a new token") {
  CachePolicy p;
  p.refresh_fraction = 0;  // no refresh window: only expiry renews
  Rig rig(p);              // 100 s tokens, skew 30 s capped at 25 s: usable for 75 s
  auto first = rig.cache->get();
  CHECK(first->generation == 1);
  rig.clock.advance_ms(74999);
  CHECK(rig.cache->get().get() == first.get());
  CHECK(rig.provider.calls == 1);
  rig.clock.advance_ms(1);
  CHECK(rig.cache->get()->generation == 2);  // fetched by the caller: nothing valid was left
  CHECK(rig.provider.calls == 2);
  CHECK(rig.cache->status().background_refreshes == 0);
}

TEST_CASE("cache clock: in the refresh window one background refresh runs; callers keep the valid token") {
  Rig rig;  // usable 75 s, window 20 % of it: refresh from 60 s
  auto first = rig.cache->get();
  rig.clock.advance_ms(59999);
  CHECK(rig.cache->get().get() == first.get());
  CHECK(rig.provider.calls == 1);  // not yet in the window
  rig.clock.advance_ms(1);
  CHECK(rig.cache->get().get() == first.get());  // served at once, refresh behind it
  REQUIRE(rig.calls_reach(2));
  CHECK(rig.cache->get()->generation == 2);
  CHECK(rig.cache->status().background_refreshes == 1);
  CHECK(rig.provider.calls == 2);
}

TEST_CASE("cache clock: get_cached() never fetches: the valid token, or null") {
  Rig rig;                          // usable 75 s, refresh from 60 s
  CHECK(!rig.cache->get_cached());  // nothing yet: no token request started
  CHECK(rig.provider.calls == 0);
  auto first = rig.cache->get();
  CHECK(rig.cache->get_cached().get() == first.get());
  rig.clock.advance_ms(60000);  // in the refresh window: served, refresh queued as get() does
  CHECK(rig.cache->get_cached().get() == first.get());
  REQUIRE(rig.calls_reach(2));
  CHECK(rig.cache->get_cached()->generation == 2);
  rig.clock.advance_ms(75000);  // past the second token's use: nothing valid
  CHECK(!rig.cache->get_cached());
  CHECK(rig.provider.calls == 2);
  rig.cache->invalidate(0);
  CHECK(!rig.cache->get_cached());
}

TEST_CASE("cache clock: failures back off exponentially with equal jitter; callers in between get the held error") {
  CachePolicy p = one_attempt();
  p.backoff_initial_ms = 200;
  Rig rig(p);
  for (int i = 0; i < 3; ++i) rig.provider.fail(ErrorKind::Network);
  long expected = 200;
  for (int failure = 1; failure <= 3; ++failure) {
    std::string error = rig.error_of_get();
    CHECK(rig.provider.calls == failure);
    long wait = rig.next_attempt_in_ms();
    CHECK(wait >= expected / 2);  // equal jitter: between half and all of it
    CHECK(wait <= expected);
    // Until then, callers get the failure with when it is retried, and no request.
    rig.clock.advance_ms(wait - 1);
    error = rig.error_of_get();
    CHECK(error.find("failed " + std::to_string(failure) + " time(s) in a row; the next attempt is in") !=
          std::string::npos);
    CHECK(rig.provider.calls == failure);
    rig.clock.advance_ms(1);
    expected *= 2;
  }
  CHECK(rig.cache->get()->generation == 1);  // the fourth attempt succeeds
  CHECK(rig.provider.calls == 4);
}

TEST_CASE("cache clock: Retry-After holds the next attempt off for as long as the server asks") {
  Rig rig(one_attempt());
  rig.provider.fail(ErrorKind::Provider, 30000);
  CHECK_FALSE(rig.error_of_get().empty());
  rig.clock.advance_ms(29999);
  CHECK(rig.error_of_get().find("the next attempt is in 0.0 s") != std::string::npos);
  CHECK(rig.provider.calls == 1);
  rig.clock.advance_ms(1);
  CHECK(rig.cache->get()->generation == 1);
  CHECK(rig.provider.calls == 2);
}

TEST_CASE("cache clock: a rejection is held, not retried, until the hold ends or invalidate()") {
  Rig rig(one_attempt());  // rejection_hold_ms 60 s
  rig.provider.fail(ErrorKind::Rejected);
  rig.provider.fail(ErrorKind::Rejected);
  CHECK(rig.error_of_get().find("scripted failure") != std::string::npos);
  rig.clock.advance_ms(59999);
  CHECK(rig.error_of_get().find("not retried automatically") != std::string::npos);
  CHECK(rig.provider.calls == 1);
  rig.clock.advance_ms(1);
  CHECK_FALSE(rig.error_of_get().empty());  // the hold ended: asked again, rejected again
  CHECK(rig.provider.calls == 2);
  rig.cache->invalidate(0);  // the caller fixed something
  CHECK(rig.cache->get()->generation == 1);
  CHECK(rig.provider.calls == 3);
}

TEST_CASE("cache clock: over 40 two-second lifetimes, 8 threads never get a token with less than its skew left") {
  Rig rig;
  rig.provider.lifetime_ms = 2000;  // skew: a quarter, 500 ms
  std::atomic<bool> done{false};
  std::atomic<long> served{0}, short_lived{0};
  std::thread driver([&] {
    for (int step = 0; step < 1600; ++step) {  // 80 s of fake time in 50 ms steps
      // The readers set the pace: each step waits until they asked at the
      // time it set (a busy machine, or a sanitizer, only makes it slower).
      const long before = served.load();
      while (served.load() < before + 8) std::this_thread::yield();
      rig.clock.advance_ms(50);
    }
    done = true;
  });
  credplug::testing::on_threads(8, [&](int) {
    while (!done) {
      const int64_t asked_at = rig.clock.now_ns();
      auto h = rig.cache->get();
      int64_t exp_ns = std::stoll(h->headers.at(0).value.reveal().substr(7));
      // Served only while now < expiry - skew, and now >= asked_at.
      if (exp_ns - asked_at <= 500 * kMs) ++short_lived;
      ++served;
    }
  });
  driver.join();
  CHECK(served > 1000);
  CHECK(short_lived == 0);
  CHECK(rig.provider.calls >= 40);  // renewed every lifetime
}

namespace {

// A provider that holds every request at a gate until the test opens it.
struct GatedProvider {
  explicit GatedProvider(FakeClock &c) : clock(c) {}
  FakeClock &clock;
  std::mutex mutex;
  std::condition_variable changed;
  bool open = true;
  int entered = 0;
  std::atomic<int> calls{0};

  Fetched operator()(FetchKind) {
    ++calls;
    {
      std::unique_lock<std::mutex> lock(mutex);
      ++entered;
      changed.notify_all();
      changed.wait(lock, [this] { return open; });
    }
    Fetched out;
    out.sent_ns = clock.now_ns();
    out.lifetime_ms = 100000;
    out.set = std::make_shared<HeaderSet>();
    out.set->headers.push_back(Header{"Authorization", SecretString(std::string("token")), true});
    return out;
  }
};

}  // namespace

// Single-flight, proven without the wall clock: the token has expired, the
// one request is held at the provider's gate until all 64 callers are in
// headers(), and then exactly that request answers all of them.
TEST_CASE("cache clock: 64 threads on an expired token while its request is held make one request and share it") {
  CachePolicy p;
  p.refresh_fraction = 0;  // only expiry renews
  FakeClock clock;
  GatedProvider provider(clock);
  RefreshPool pool{2};
  TokenCache cache(
      p, [&](FetchKind k) { return provider(k); }, pool, clock);
  REQUIRE(cache.get()->generation == 1);
  clock.advance_ms(100000);  // past expiry: no caller may be served the old token
  {
    std::lock_guard<std::mutex> lock(provider.mutex);
    provider.open = false;
  }
  constexpr int kThreads = 64;
  std::atomic<int> calling{0};
  std::vector<uint64_t> generations(kThreads, 0);
  std::thread opener([&] {
    std::unique_lock<std::mutex> lock(provider.mutex);
    // Waits on state: the request under way, and every caller inside get().
    while (!(provider.entered >= 2 && calling.load() == kThreads))
      provider.changed.wait_for(lock, std::chrono::milliseconds(1));
    provider.open = true;
    provider.changed.notify_all();
  });
  credplug::testing::on_threads(kThreads, [&](int i) {
    ++calling;
    generations[size_t(i)] = cache.get()->generation;
  });
  opener.join();
  CHECK(provider.calls == 2);  // the first token, and the one renewal
  for (uint64_t g : generations) CHECK(g == 2);
  cache.close();
}

TEST_CASE("cache events: each failure tells its retry schedule, the success after them what it ended; status follows") {
  CachePolicy p = one_attempt();
  p.backoff_initial_ms = 200;
  Rig rig(p);
  CHECK(rig.cache->status().last_success_ms == std::nullopt);
  rig.provider.fail(ErrorKind::Network);
  rig.provider.fail(ErrorKind::Provider);
  const int64_t first_failure_ms = rig.clock.unix_ms();
  CHECK_FALSE(rig.error_of_get().empty());
  CacheEvent e = rig.last_event();
  CHECK(e.type == CacheEvent::Failed);
  CHECK(e.kind == ErrorKind::Network);
  CHECK(e.retryable);
  CHECK(e.failures == 1);
  CHECK(e.attempt == 1);
  CHECK_FALSE(e.retry_now);  // one attempt per call: the next caller retries
  CHECK(e.next_attempt_in_ms == rig.next_attempt_in_ms());
  CHECK(e.token_valid_ms == 0);
  CHECK(e.message == "scripted failure");
  CHECK(e.unix_ms == first_failure_ms);
  CacheStatus s = rig.cache->status();
  CHECK(s.last_error_kind == ErrorKind::Network);
  CHECK(s.retryable);
  CHECK(s.failing_since_ms == first_failure_ms);

  rig.error_of_get();  // held: refused without a request, and without an event
  CHECK(rig.event_count() == 1);
  CHECK(rig.metrics.snapshot(false, 0).refused == 1);
  rig.clock.advance_ms(rig.next_attempt_in_ms());
  CHECK_FALSE(rig.error_of_get().empty());
  e = rig.last_event();
  CHECK(e.kind == ErrorKind::Provider);
  CHECK(e.failures == 2);
  CHECK(rig.cache->status().failing_since_ms == first_failure_ms);  // the first of the run

  rig.clock.advance_ms(rig.next_attempt_in_ms());
  const int64_t recovered_ms = rig.clock.unix_ms();
  CHECK(rig.cache->get()->generation == 1);
  e = rig.last_event();
  CHECK(e.type == CacheEvent::Obtained);
  CHECK(e.generation == 1);
  CHECK(e.failures == 2);  // what it ended
  CHECK(e.failing_for_ms == recovered_ms - first_failure_ms);
  CHECK(e.lifetime_ms == 100000);
  s = rig.cache->status();
  CHECK(s.last_success_ms == recovered_ms);
  CHECK_FALSE(s.failing_since_ms.has_value());
  CHECK_FALSE(s.last_error_kind.has_value());
  CHECK(rig.event_count() == 3);
}

TEST_CASE("cache events: a failed refresh says the current token still serves; retries within a call say so") {
  Rig rig;  // 3 attempts; usable 75 s, refresh from 60 s
  rig.cache->get();
  rig.clock.advance_ms(60000);
  rig.provider.fail(ErrorKind::Network);
  rig.cache->get();  // starts the background refresh, which fails
  REQUIRE(rig.calls_reach(2));
  CacheEvent e = rig.last_event();
  CHECK(e.type == CacheEvent::Failed);
  CHECK(e.background);
  CHECK(e.token_valid_ms == 15000);
  CHECK_FALSE(e.retry_now);  // a refresh makes one attempt

  Rig cold;  // no token: the caller makes up to 3 attempts, waiting between them
  cold.provider.fail(ErrorKind::Network);
  std::thread caller([&] { cold.cache->get(); });
  while (cold.event_count() == 0) std::this_thread::yield();
  e = cold.last_event();
  CHECK(e.retry_now);
  CHECK(e.attempt == 1);
  CHECK_FALSE(e.background);
  cold.clock.advance_ms(e.next_attempt_in_ms);
  caller.join();
  CHECK(cold.last_event().type == CacheEvent::Obtained);
}

TEST_CASE("cache events: a rejection is not retryable; the API refusing tokens twice in a row holds, and says so") {
  Rig rig(one_attempt());
  rig.provider.fail(ErrorKind::Rejected);
  rig.error_of_get();
  CacheEvent e = rig.last_event();
  CHECK_FALSE(e.retryable);
  CHECK(e.next_attempt_in_ms == 60000);
  CHECK_FALSE(rig.cache->status().retryable);
  rig.cache->invalidate(0);
  CHECK(rig.last_event().type == CacheEvent::Invalidated);
  CHECK(rig.last_event().generation == 0);
  CHECK_FALSE(rig.cache->status().last_error_kind.has_value());

  auto first = rig.cache->get();
  rig.cache->invalidate(first->generation);
  e = rig.last_event();
  CHECK(e.type == CacheEvent::Invalidated);
  CHECK(e.refused_in_a_row == 1);
  CHECK_FALSE(e.held);
  auto second = rig.cache->get();
  rig.cache->invalidate(second->generation);
  e = rig.last_event();
  CHECK(e.refused_in_a_row == 2);
  CHECK(e.held);
  CHECK(e.kind == ErrorKind::Rejected);
  CHECK(e.retryable);
  CHECK(rig.cache->status().failing_since_ms.has_value());
  const size_t told = rig.event_count();
  rig.cache->invalidate(first->generation);  // an older token: nothing happens, nothing is told
  CHECK(rig.event_count() == told);
}

TEST_CASE("cache clock: headers that never expire are served for ten years and more, until invalidate()") {
  Rig rig;
  rig.provider.never_expires = true;
  auto first = rig.cache->get();
  CHECK(first->never_expires);
  CHECK(rig.cache->status().never_expires);
  CHECK_FALSE(rig.cache->status().expires_at.has_value());
  for (int year = 0; year < 12; ++year) {
    rig.clock.advance_ms(int64_t(366) * 24 * 3600 * 1000);
    CHECK(rig.cache->get().get() == first.get());  // no refresh ahead, no expiry
  }
  CHECK(rig.provider.calls == 1);
  CHECK(rig.cache->status().background_refreshes == 0);
  // The API refused it: the next get() asks again, once.
  rig.cache->invalidate(first->generation);
  CHECK(rig.cache->get()->generation == 2);
  CHECK(rig.provider.calls == 2);
}

// The read path (thread_readers.hpp): each thread's own reader, a coarse
// clock, handles borrowed without a reference.

TEST_CASE("cache read path: a coarse clock lagging by all its bound never serves a token at its deadline") {
  FakeClock clock;
  clock.set_coarse_lag(0, 100 * kMs);  // claims: at most 100 ms behind
  ScriptedProvider provider{clock};
  CachePolicy p;
  p.refresh_fraction = 0;  // usable 75 s, renewed at expiry only
  RefreshPool pool{1};
  Metrics metrics;
  TokenCache cache(
      p, [&](FetchKind k) { return provider(k); }, pool, clock, &metrics);
  auto first = cache.get();
  clock.advance_ms(74899);
  CHECK(cache.get().get() == first.get());  // 101 ms left: the coarse clock may say so alone
  clock.set_coarse_lag(100 * kMs, 100 * kMs);
  clock.advance_ms(101);  // now at the deadline; the coarse clock says 100 ms before it
  CHECK(cache.get()->generation == 2);
  CHECK(provider.calls == 2);
  CHECK(metrics.snapshot(false, 0).l1_hits == 1);
}

TEST_CASE("cache read path: a reader whose thread exited serves the next thread; its hits are kept") {
  FakeClock clock;
  ScriptedProvider provider{clock};
  RefreshPool pool{1};
  Metrics metrics;
  auto cache = std::make_unique<TokenCache>(
      CachePolicy{}, [&](FetchKind k) { return provider(k); }, pool, clock, &metrics);
  cache->get();  // a miss, which fetches
  for (int i = 0; i < 20; ++i)
    std::thread([&] {
      for (int k = 0; k < 5; ++k) CHECK(cache->get()->generation == 1);
    }).join();
  CHECK(cache->reader_count() == 2);  // this thread's, and one passed from each thread to the next
  CHECK(metrics.snapshot(false, 0).l1_hits == 100);
  cache.reset();
  CHECK(metrics.snapshot(false, 0).l1_hits == 100);  // folded in when the cache went
  CHECK(provider.calls == 1);
}

TEST_CASE("cache read path: a borrowed handle stays readable, unchanged, until its thread's next call") {
  Rig rig;
  const credplug_headers &view = rig.cache->borrow();
  const HeaderSet *first = view.set.get();
  const std::string value = first->headers.at(0).value.reveal();
  std::thread([&] {  // another thread: the token is refused and replaced
    rig.cache->invalidate(first->generation);
    CHECK(rig.cache->get()->generation == 2);
  })
      .join();
  CHECK(view.set.get() == first);
  CHECK(first->headers.at(0).value.reveal() == value);  // still held by this thread's reader
  CHECK(rig.cache->borrow().set->generation == 2);      // this thread's next call takes the new one
  CHECK(rig.provider.calls == 2);
}

TEST_CASE("cache read path: 8 readers while tokens are refused and replaced: no reader's generation goes back") {
  Rig rig;
  rig.cache->get();
  std::atomic<bool> done{false};
  std::atomic<long> reads{0}, backwards{0};
  std::thread refuser([&] {
    for (int i = 0; i < 200; ++i) {
      const long before = reads.load();
      while (reads.load() < before + 8) std::this_thread::yield();  // the readers set the pace
      rig.cache->invalidate(0);                                     // drops the token, holding nothing against the next
    }
    done = true;
  });
  credplug::testing::on_threads(8, [&](int t) {
    uint64_t last = 0;
    while (!done) {
      const uint64_t g = t % 2 ? rig.cache->get()->generation : rig.cache->borrow().set->generation;
      if (g < last) ++backwards;
      last = g;
      ++reads;
    }
  });
  refuser.join();
  CHECK(backwards == 0);
  CHECK(rig.provider.calls >= 200);
  CHECK(rig.cache->reader_count() <= 10);
}

TEST_CASE("system clock: the coarse reading is never ahead of the precise one; its lag bound is at least 64 ms") {
  const CacheClock &c = system_cache_clock();
  const int64_t bound = c.coarse_max_lag_ns();
  CHECK((bound == 0 || bound >= 64 * kMs));
  for (int i = 0; i < 100000; ++i) {
    const int64_t coarse = c.coarse_now_ns();
    const int64_t precise = c.now_ns();
    REQUIRE(coarse <= precise);
  }
}
