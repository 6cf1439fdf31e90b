// The fleet-wide level of the token cache against a real redis-server, on a
// clock the test drives: each SharedCredential stands for one process.
#include "fleet/shared_token_store.hpp"

#include "base/unix_time.hpp"
#include "fleet/fleet_state.hpp"

#include <support/fake_clock.hpp>
#include <support/redis_server.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

using namespace credplug;
using namespace credplug::host;
using credplug::testing::FakeClock;

namespace {

const std::string kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

struct Fleet {
  credplug::testing::RedisServer redis;
  std::shared_ptr<SharedTokenStore> store = std::make_shared<SharedTokenStore>(
      parse_redis_url(redis.url()), KeyRing::from_text(kKey, "the test's key"), "the test's key", 250, nullptr);
  FakeClock clock;
  CachePolicy policy;
  std::unique_ptr<SharedCredential> process() {
    auto c = std::make_unique<SharedCredential>();
    c->store = store;
    c->names = store->names("ainua", R"({"client_id":"fleet"})");
    return c;
  }
  Fetched fetch(SharedCredential &c, const std::function<Fetched(FetchKind)> &here) {
    return fetch_shared(c, FetchKind::Authenticate, policy, 5000, clock, here);
  }
};

// A token as a plugin reports it: a JWT's whole-second expiry, 2 s or so
// after the request, which starts `latency_ms` into here().
Fetched obtain(FakeClock &clock, int64_t latency_ms, const std::string &token) {
  clock.advance_ms(latency_ms);
  Fetched f;
  f.sent_ns = clock.now_ns();
  const int64_t sent_ms = clock.unix_ms();
  f.expires_unix_ms = (sent_ms / 1000 + 3) * 1000;
  f.lifetime_ms = long(f.expires_unix_ms - sent_ms);
  f.set = std::make_shared<HeaderSet>();
  f.set->headers.push_back(Header{"Authorization", kit::SecretString("Bearer " + token), true});
  f.set->expires_at = f.expires_unix_ms / 1000;
  return f;
}

}  // namespace

TEST_CASE("shared token store: a token taken from the fleet has its obtainer's expiry, to the millisecond") {
  Fleet fleet;
  fleet.clock.advance_ms(400);
  auto a = fleet.process(), b = fleet.process();
  // The plugin call starts a few ms after fetch_shared does.
  Fetched mine = fleet.fetch(*a, [&](FetchKind) { return obtain(fleet.clock, 3, "t1"); });
  fleet.clock.advance_ms(250);
  int b_requests = 0;
  Fetched taken = fleet.fetch(*b, [&](FetchKind) {
    ++b_requests;
    return obtain(fleet.clock, 0, "t2");
  });
  CHECK(b_requests == 0);
  REQUIRE(taken.set->headers.size() == 1);
  CHECK(taken.set->headers[0].value.view() == "Bearer t1");
  CHECK(taken.set->expires_at == mine.set->expires_at);
  CHECK(taken.expires_unix_ms == mine.expires_unix_ms);
  // Installed as if requested when it was: expiry on the monotonic clock
  // too, 1 ms sooner (the wall clock's milliseconds are truncated).
  CHECK(taken.sent_ns + int64_t(taken.lifetime_ms) * FakeClock::kMs ==
        mine.sent_ns + int64_t(mine.lifetime_ms) * FakeClock::kMs - FakeClock::kMs);
}

TEST_CASE("shared token store: a stale writer never overwrites a newer token; invalidation drops only its fence") {
  Fleet fleet;
  auto c = fleet.process();
  const std::string &name = c->names[0];
  SharedTokenStore::LeaseHeld first, second;
  REQUIRE(fleet.store->try_lease(name, 5000, &first) == SharedTokenStore::Lease::Acquired);
  CHECK(fleet.store->try_lease(name, 5000, &second) == SharedTokenStore::Lease::Held);
  fleet.store->release(name, first.value);
  REQUIRE(fleet.store->try_lease(name, 5000, &second) == SharedTokenStore::Lease::Acquired);
  CHECK(second.fence > first.fence);
  auto token = [&](uint64_t fence, const std::string &text) {
    const int64_t now = fleet.clock.unix_ms();
    return SharedToken{fence, now, now + 60000, {Header{"Authorization", kit::SecretString(text), true}}};
  };
  CHECK(fleet.store->publish(name, token(second.fence, "newer"), second.value));
  CHECK_FALSE(fleet.store->publish(name, token(first.fence, "older"), first.value));  // the late writer
  auto read = fleet.store->read(c->names);
  REQUIRE(read);
  CHECK(read->fence == second.fence);
  CHECK(read->headers[0].value.view() == "newer");
  fleet.store->invalidate(c->names, first.fence);  // a late 401 on the old token
  CHECK(fleet.store->read(c->names));
  fleet.store->invalidate(c->names, second.fence);
  CHECK_FALSE(fleet.store->read(c->names));
}

TEST_CASE("shared token store: while another process holds the lease, a caller waits and takes its token") {
  Fleet fleet;
  auto a = fleet.process(), b = fleet.process();
  std::promise<void> go;
  std::atomic<bool> a_in_request{false};
  std::thread holder([&] {
    fleet.fetch(*a, [&](FetchKind) {
      a_in_request = true;
      go.get_future().wait();
      return obtain(fleet.clock, 0, "from-a");
    });
  });
  while (!a_in_request) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::atomic<int> b_requests{0};
  // Every process hears when the record is written (the publish script).
  SharedCacheNews::Ticket heard(fleet.store->news(), a->names[0]);
  auto waiter = std::async(std::launch::async, [&] {
    return fleet.fetch(*b, [&](FetchKind) {
      ++b_requests;
      return obtain(fleet.clock, 0, "from-b");
    });
  });
  CHECK(waiter.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);  // waiting on the lease
  for (int i = 0; i < 1000 && !fleet.store->news().subscribed(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  go.set_value();
  holder.join();
  Fetched taken = waiter.get();
  CHECK(b_requests == 0);
  CHECK(taken.set->headers[0].value.view() == "Bearer from-a");
  CHECK(heard.wait(std::chrono::seconds(10)));
}

TEST_CASE("shared token store: news of a record ends a wait at once; a released lease is news too") {
  Fleet fleet;
  auto c = fleet.process();
  const std::string &name = c->names[0];
  SharedCacheNews &news = fleet.store->news();
  SharedCacheNews::Ticket ticket(news, name), other(news, "credplug:v1:another");
  CHECK_FALSE(ticket.wait(std::chrono::milliseconds(1)));  // nothing yet
  // The subscriber starts with the store; until it is subscribed,
  // what is published is lost (the waiters' polling covers that).
  for (int i = 0; i < 1000 && !news.subscribed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(news.subscribed());
  SharedTokenStore::LeaseHeld lease;
  REQUIRE(fleet.store->try_lease(name, 5000, &lease) == SharedTokenStore::Lease::Acquired);
  fleet.store->release(name, lease.value);
  CHECK(ticket.wait(std::chrono::seconds(10)));  // woken by the news, long before
  REQUIRE(fleet.store->try_lease(name, 5000, &lease) == SharedTokenStore::Lease::Acquired);
  const int64_t now = fleet.clock.unix_ms();
  CHECK(fleet.store->publish(
      name,
      SharedToken{lease.fence, now, now + 60000, {Header{"Authorization", kit::SecretString(std::string("t")), true}}},
      lease.value));
  CHECK(ticket.wait(std::chrono::seconds(10)));
  CHECK_FALSE(ticket.wait(std::chrono::milliseconds(1)));  // each piece of news once
  CHECK_FALSE(other.wait(std::chrono::milliseconds(1)));   // another record's waiters slept on
}

TEST_CASE("shared token store: a record is read as hostile input: a plugin's output limits, a sane lifetime") {
  const SharedToken good{7,
                         1800000000000,
                         1800000002000,
                         {Header{"Authorization", kit::SecretString(std::string("Bearer t")), true},
                          Header{"Accept", kit::SecretString(std::string("application/json")), false}}};
  auto back = parse_shared_token(serialise_shared_token(good));
  REQUIRE(back);
  CHECK(back->fence == 7);
  CHECK(back->issued_at_ms == good.issued_at_ms);
  CHECK(back->expires_at_ms == good.expires_at_ms);
  REQUIRE(back->headers.size() == 2);
  CHECK(back->headers[0].value.view() == "Bearer t");
  CHECK(back->headers[0].secret);
  CHECK_FALSE(back->headers[1].secret);
  auto refused = [&](SharedToken t) { return !parse_shared_token(serialise_shared_token(t)); };
  SharedToken t = good;
  t.headers[0].value = kit::SecretString(std::string("Bearer t\r\nX-Injected: 1"));
  CHECK(refused(t));
  t = good;
  t.headers[0].name = "Author ization";
  CHECK(refused(t));
  t = good;
  t.headers[0].value = kit::SecretString(std::string(64 * 1024 + 1, 'a'));
  CHECK(refused(t));
  t = good;
  t.headers.assign(33, good.headers[1]);
  CHECK(refused(t));
  t = good;
  t.headers.clear();
  CHECK(refused(t));
  t = good;
  t.expires_at_ms = t.issued_at_ms;  // no lifetime
  CHECK(refused(t));
  t = good;
  t.issued_at_ms = -5;
  CHECK(refused(t));
  t = good;
  t.expires_at_ms = t.issued_at_ms + 11LL * 365 * 24 * 3600 * 1000;
  CHECK(refused(t));
  t = good;
  t.fence = 0;
  CHECK(refused(t));
  CHECK_FALSE(parse_shared_token("{\"fence\":1"));
  CHECK_FALSE(parse_shared_token("[1,2,3]"));
  CHECK_FALSE(parse_shared_token(std::string(100, '[')));
}

// Issue 18: what a writer without the fleet's key puts in Redis cannot stop
// a correctly keyed process from starting or serving.
namespace {

const std::string kNewKey = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";
constexpr const char *kKeyring = "credplug:v1:keyring";
constexpr int64_t kEightDaysMs = 8LL * 24 * 3600 * 1000;

bool said(const std::vector<std::string> &lines, const std::string &part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string &l) { return l.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE(
    "shared token store: a keyring entry no key authenticates is logged, never refused; the fleet's own still refuses "
    "a ring without its key") {
  Fleet fleet;
  RedisClient &redis = fleet.store->redis();
  const auto address = parse_redis_url(fleet.redis.url());
  std::vector<std::string> logged;
  auto start = [&] {
    return SharedTokenStore(address, KeyRing::from_text(kKey, "the test's key"), "the test's key", 250,
                            [&](int, const std::string &line) { logged.push_back(line); });
  };
  const int64_t now = unix_ms_now();
  // The keyless writer's entry (this stopped every process for 7 days).
  REQUIRE(redis.run({"HSET", kKeyring, "00000000deadbeef", std::to_string(now)}));
  CHECK_NOTHROW(start());
  CHECK(said(logged, "names key 00000000deadbeef in its keyring, and no key in the test's key authenticates"));

  // A member of the fleet that rotated (the new key first, ours after it)
  // sealed with the new key: its entry carries a MAC under both, and a
  // process with the old key alone is refused, naming the new key.
  const KeyRing rotated = KeyRing::from_text(kNewKey + kKey, "the rotated file");
  REQUIRE(redis.run({"HSET", kKeyring, rotated.current_id(), keyring_entry(rotated, rotated.current_id(), now)}));
  try {
    start();
    FAIL("a ring without the key the fleet seals with started");
  } catch (const Error &e) {
    CHECK(std::string(e.what()).find("holds tokens sealed with key " + rotated.current_id()) != std::string::npos);
  }
  // Its entry made to look recent by a writer without the key: the MAC
  // no longer holds, so it is logged, not obeyed.
  std::string old_entry = keyring_entry(rotated, rotated.current_id(), now - kEightDaysMs);
  REQUIRE(redis.run({"HSET", kKeyring, rotated.current_id(), old_entry}));
  CHECK_NOTHROW(start());  // older than 7 days: no records left to miss
  old_entry.replace(0, old_entry.find(' '), std::to_string(now));
  REQUIRE(redis.run({"HSET", kKeyring, rotated.current_id(), old_entry}));
  logged.clear();
  CHECK_NOTHROW(start());
  CHECK(said(logged, "names key " + rotated.current_id()));
}

TEST_CASE(
    "shared token store: a lease without a TTL holds until its own deadline; one the fleet did not write, not at "
    "all") {
  Fleet fleet;
  auto c = fleet.process();
  const std::string &name = c->names[0];
  RedisClient &redis = fleet.store->redis();
  SharedTokenStore::LeaseHeld lease, other;
  // Forged, never expiring (this made every renewal wait the full 5 s).
  REQUIRE(redis.run({"SET", name + ":lease", "1"}));
  CHECK(fleet.store->try_lease(name, 5000, &lease) == SharedTokenStore::Lease::Acquired);
  // The fleet's own lease, its TTL removed: it holds until the deadline
  // sealed in it...
  REQUIRE(redis.run({"PERSIST", name + ":lease"}));
  CHECK(fleet.store->try_lease(name, 5000, &other) == SharedTokenStore::Lease::Held);
  // ...and is over after it (a lease whose deadline passed, as that one's
  // will have in 5 s).
  REQUIRE(redis.run({"SET", name + ":lease", lease_value(fleet.store->keys(), name, unix_ms_now() - 2000)}));
  CHECK(fleet.store->try_lease(name, 5000, &other) == SharedTokenStore::Lease::Acquired);
  CHECK(other.fence > lease.fence);
  // A lease of another name moved here does not hold either.
  REQUIRE(redis.run(
      {"SET", name + ":lease", lease_value(fleet.store->keys(), "credplug:v1:another", unix_ms_now() + 60000)}));
  CHECK(fleet.store->try_lease(name, 5000, &other) == SharedTokenStore::Lease::Acquired);
}

TEST_CASE("shared token store: a stale record replayed into Redis never takes a process below a fence it has seen") {
  Fleet fleet;
  auto a = fleet.process(), b = fleet.process();
  const std::string &name = a->names[0];
  RedisClient &redis = fleet.store->redis();
  fleet.fetch(*a, [&](FetchKind) { return obtain(fleet.clock, 0, "first"); });
  auto first_record = redis.run({"HGET", name, "rec"});
  REQUIRE(first_record);
  REQUIRE(first_record->type == RedisReply::String);
  const uint64_t first_fence = a->newest();
  a->invalidate(first_fence);  // a 401: dropped fleet-wide
  fleet.fetch(*a, [&](FetchKind) { return obtain(fleet.clock, 0, "second"); });
  int b_requests = 0;
  auto b_here = [&](FetchKind) {
    ++b_requests;
    return obtain(fleet.clock, 0, "from-b");
  };
  CHECK(fleet.fetch(*b, b_here).set->headers[0].value.view() == "Bearer second");  // b has seen the second fence
  // Someone with access to Redis, not to the key, puts the first record back.
  REQUIRE(redis.run({"HSET", name, "fence", std::to_string(first_fence), "rec", first_record->text}));
  Fetched again = fleet.fetch(*b, b_here);
  CHECK(again.set->headers[0].value.view() == "Bearer from-b");  // its own request, not the replayed token
  CHECK(b_requests == 1);
}
