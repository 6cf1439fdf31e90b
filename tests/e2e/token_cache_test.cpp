// Credential::headers() and its token cache against the emulator: single-
// flight, refresh ahead of expiry, retries with backoff and Retry-After, no
// retry of rejections, invalidate(), sharing by credential, and a steady
// state in which the API never sees an expired token.
#include "fixture.hpp"
#include "support/ainua_api.hpp"
#include "support/on_threads.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace credplug;
using namespace credplug::testing;

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point start) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// True once headers() returns token `generation` (a held error counts as
// "not yet"), within timeout_ms.
bool serves_generation(Credential &cred, uint64_t generation, int timeout_ms) {
  return eventually(
      [&] {
        try {
          return cred.headers()->generation == generation;
        } catch (const Error &) {
          return false;
        }
      },
      timeout_ms);
}

HostOptions fast_retries(HostOptions o) {
  o.cache.backoff_initial_ms = 50;
  o.cache.max_wait_ms = 2000;
  return o;
}

}  // namespace

TEST_CASE("cache: headers() reuses one token; the cache key holds no secret; handles of one credential share it") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto cred = host.open("ainua", env.ainua_credential());
  auto first = cred->headers();
  for (int i = 0; i < 100; ++i) CHECK(cred->headers()->generation == first->generation);
  CHECK(env.emu->count("ainua.token") == 1);
  CHECK(first->generation == 1);
  REQUIRE(first->find("Authorization") != nullptr);
  CHECK(first->find("Authorization")->secret);
  CHECK(first->expires_at.has_value());

  auto again = host.open("ainua", env.ainua_credential());  // same text: same cache
  CHECK(again->headers()->generation == 1);
  CHECK(env.emu->count("ainua.token") == 1);
  auto other = host.open("ainua", env.ainua_credential(R"("scope":"profile")"));
  other->headers();
  CHECK(env.emu->count("ainua.token") == 2);
  CHECK(cred->cache_status().token_requests == 1);
}

TEST_CASE("cache: 64 threads on an expired token cause exactly one token request, and share its result") {
  auto &env = E2E::get();
  env.reset();
  // Whole-second expiry: a 2 s token lives 1-2 s, longer than the 200 ms flight below.
  env.emu->switches("ainua").token_lifetime_s = 2;
  Host host(env.host_options());
  auto cred = host.open("ainua", env.ainua_credential());
  CHECK(cred->headers()->generation == 1);
  REQUIRE(eventually([&] { return !cred->cache_status().has_token; }, 3000));
  const int before = env.emu->count("ainua.token");
  env.emu->switches("ainua").delay_ms = 200;  // a slow token endpoint: everyone piles up
  std::vector<uint64_t> seen(64);
  on_threads(64, [&](int i) { seen[i] = cred->headers()->generation; });
  CHECK(env.emu->count("ainua.token") - before == 1);
  for (auto g : seen) CHECK(g == 2);

  // And a failure is shared the same way: one request, 64 errors.
  REQUIRE(eventually([&] { return !cred->cache_status().has_token; }, 3000));
  env.emu->switches("ainua").fail_status = 500;
  const int failed_before = env.emu->count("ainua.token");
  std::atomic<int> errors{0};
  on_threads(64, [&](int) {
    try {
      cred->headers();
    } catch (const Error &e) {
      if (e.kind() == ErrorKind::Provider) ++errors;
    }
  });
  CHECK(errors == 64);
  // max_attempts (3) requests at most, whoever led; never one per caller.
  CHECK(env.emu->count("ainua.token") - failed_before <= 3);
  env.reset();
}

TEST_CASE("cache: in the refresh window callers keep the valid token while one refresh runs behind them") {
  auto &env = E2E::get();
  env.reset();
  HostOptions options = env.host_options();
  options.cache.refresh_fraction = 1.0;  // the whole lifetime is the window
  Host host(options);
  auto cred = host.open("ainua", env.ainua_credential());
  auto first = cred->headers();
  env.emu->switches("ainua").delay_ms = 3000;  // the refresh takes three seconds
  // Nobody waits for it: a caller that did would get its token (generation 2).
  for (int i = 0; i < 50; ++i) CHECK(cred->headers()->generation == first->generation);
  CHECK(cred->cache_status().refreshing);
  REQUIRE(eventually([&] { return cred->cache_status().generation == 2; }));
  CHECK(env.emu->count("ainua.token") == 2);  // one refresh for 50 callers
  CHECK(cred->cache_status().background_refreshes == 1);
  env.reset();
}

TEST_CASE("cache: a failing refresh keeps serving the old token, backs off, and recovers") {
  auto &env = E2E::get();
  env.reset();
  HostOptions options = fast_retries(env.host_options());
  options.cache.refresh_fraction = 1.0;
  Host host(options);
  auto cred = host.open("ainua", env.ainua_credential());
  auto first = cred->headers();
  env.emu->switches("ainua").fail_status = 503;
  env.emu->switches("ainua").retry_after_s = 3;
  const int64_t before_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  CHECK(cred->headers()->generation == first->generation);  // starts the refresh
  REQUIRE(
      eventually([&] { return cred->cache_status().consecutive_failures == 1 && !cred->cache_status().refreshing; }));
  auto status = cred->cache_status();
  CHECK(status.has_token);
  CHECK(contains(status.last_error, "503"));
  REQUIRE(status.next_attempt_ms.has_value());
  // Retry-After (3 s from the failure, which came after before_ms) outweighs
  // the 50 ms backoff: no request before it.
  CHECK(*status.next_attempt_ms - before_ms >= 2990);
  const int requests = env.emu->count("ainua.token");
  for (int i = 0; i < 200; ++i) CHECK(cred->headers()->generation == first->generation);
  CHECK(env.emu->count("ainua.token") == requests);  // the old token is served; no request storm
  env.emu->switches("ainua").fail_status = 0;
  env.emu->switches("ainua").retry_after_s = 0;
  REQUIRE(eventually(
      [&] {
        cred->headers();
        return cred->cache_status().generation >= 2;
      },
      15000));
  CHECK(cred->cache_status().last_error.empty());
  env.reset();
}

TEST_CASE("cache: a caller with no token retries with backoff, honours Retry-After, and says when it retries") {
  auto &env = E2E::get();
  env.reset();
  env.emu->switches("ainua").fail_status = 429;
  env.emu->switches("ainua").retry_after_s = 1;
  HostOptions options = fast_retries(env.host_options());
  options.cache.max_attempts = 2;
  Host host(options);
  auto cred = host.open("ainua", env.ainua_credential());
  auto start = Clock::now();
  try {
    cred->headers();
    FAIL("a 429 produced a token");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::Provider);
    CHECK(contains(e.what(), "rate-limiting"));
    CHECK(contains(e.what(), "failed 2 time(s) in a row; the next attempt is in"));
  }
  CHECK(ms_since(start) >= 950);  // it waited the Retry-After between its two attempts
  CHECK(env.emu->count("ainua.token") == 2);
  // Until the next attempt is due, callers get the held error at once: no
  // request, and well before the second that attempt is due in.
  start = Clock::now();
  CHECK_THROWS_AS(cred->headers(), Error);
  CHECK(ms_since(start) < 900);
  CHECK(env.emu->count("ainua.token") == 2);
  env.emu->switches("ainua").fail_status = 0;
  REQUIRE(serves_generation(*cred, 1, 3000));
  CHECK(env.emu->count("ainua.token") == 3);
  env.reset();
}

TEST_CASE("cache: a rejected credential is not retried; the error says so; invalidate() allows one new try") {
  auto &env = E2E::get();
  env.reset();
  Host host(fast_retries(env.host_options()));
  auto cred = host.open("ainua", env.ainua_credential("", "CANARY-wrong-secret-do-not-print"));
  for (int i = 0; i < 3; ++i) {
    try {
      cred->headers();
      FAIL("a wrong secret produced a token");
    } catch (const Error &e) {
      CHECK(e.kind() == ErrorKind::Rejected);
      CHECK(contains(e.what(), "not retried automatically"));
      CHECK_FALSE(contains(e.what(), "CANARY-wrong-secret"));
    }
  }
  CHECK(env.emu->count("ainua.token") == 1);
  cred->invalidate();
  CHECK_THROWS_AS(cred->headers(), Error);
  CHECK(env.emu->count("ainua.token") == 2);
}

TEST_CASE("cache: invalidate() after a 401 re-authenticates once for all threads; a loop of 401s backs off") {
  auto &env = E2E::get();
  env.reset();
  Host host(fast_retries(env.host_options()));
  auto cred = host.open("ainua", env.ainua_credential());
  AinuaApi api(env.emu->port(), env.pki.ca_cert);
  auto first = cred->headers();
  CHECK(api.patch(*first) == 200);
  env.emu->revoke_all("ainua");
  CHECK(api.patch(*first) == 401);
  on_threads(16, [&](int) { cred->invalidate(*first); });
  std::vector<uint64_t> seen(16);
  on_threads(16, [&](int i) { seen[i] = cred->headers()->generation; });
  for (auto g : seen) CHECK(g == 2);
  CHECK(env.emu->count("ainua.token") == 2);
  auto second = cred->headers();
  CHECK(api.patch(*second) == 200);
  cred->invalidate(*first);  // a stale report: the newer token stays
  CHECK(cred->headers()->generation == 2);

  // The API refuses the new token too: the second re-authentication in a
  // row waits a backoff instead of looping at the token endpoint.
  cred->invalidate(*second);
  try {
    cred->headers();
    FAIL("a second invalidation in a row re-authenticated at once");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::Rejected);
    CHECK(contains(e.what(), "refused 2 tokens in a row"));
    CHECK(contains(e.what(), "the next attempt is in"));
  }
  CHECK(env.emu->count("ainua.token") == 2);
  REQUIRE(serves_generation(*cred, 3, 3000));
  CHECK(env.emu->count("ainua.token") == 3);
}

// The soak "8 threads over several 2-second lifetimes against the emulator never
// send an expired token" is bench 3 (bench/lifecycle_bench.cpp): it needs an idle
// machine. Its guarantee is tested on a driven clock in tests/unit/cache/token_cache_test.cpp.
