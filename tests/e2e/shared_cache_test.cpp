// The fleet-wide token cache (issue 11) against a real redis-server started
// here: several Hosts in this process stand for several processes (each has
// its own in-process cache, L1), and the CLI run as separate processes.
#include "fixture.hpp"
#include "fleet/fleet_state.hpp"
#include "support/redis_server.hpp"

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <credplug/plugin.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

extern char **environ;

using namespace credplug;
using namespace credplug::testing;

namespace {

std::string random_key() {
  std::string bytes(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char *>(bytes.data()), int(bytes.size()));
  return kit::hex_encode(bytes);
}

struct Fleet {
  RedisServer redis;
  std::string key_file;
  std::vector<std::string> logs;
  std::mutex logs_mutex;

  Fleet() { key_file = E2E::get().write_new("fleet-key", random_key() + "\n"); }

  HostOptions options(const std::string &keys = "") {
    HostOptions o = E2E::get().host_options();
    o.shared_cache_url = redis.url();
    o.shared_cache_key_file = keys.empty() ? key_file : keys;
    o.log_level = CREDPLUG_LOG_WARN;
    o.log = [this](int, const std::string &line) {
      std::lock_guard<std::mutex> lock(logs_mutex);
      logs.push_back(line);
    };
    return o;
  }
  int logged(const std::string &part) {
    std::lock_guard<std::mutex> lock(logs_mutex);
    int n = 0;
    for (const auto &l : logs) n += contains(l, part);
    return n;
  }
  // Every key in Redis and everything stored under it, as text.
  std::string dump() {
    std::string out;
    redisContext *c = redisConnect("127.0.0.1", redis.port());
    REQUIRE((c && !c->err));
    auto *keys = static_cast<redisReply *>(redisCommand(c, "KEYS *"));
    for (size_t i = 0; i < keys->elements; ++i) {
      std::string key(keys->element[i]->str, keys->element[i]->len);
      out += key + "\n";
      auto *type = static_cast<redisReply *>(redisCommand(c, "TYPE %b", key.data(), key.size()));
      const std::string t(type->str, type->len);
      freeReplyObject(type);
      auto *value =
          static_cast<redisReply *>(redisCommand(c, t == "hash" ? "HGETALL %b" : "GET %b", key.data(), key.size()));
      if (value->type == REDIS_REPLY_STRING) out += std::string(value->str, value->len) + "\n";
      for (size_t j = 0; j < value->elements; ++j)
        out += std::string(value->element[j]->str, value->element[j]->len) + "\n";
      freeReplyObject(value);
    }
    freeReplyObject(keys);
    redisFree(c);
    return out;
  }
};

std::string bearer(const HeadersPtr &h) { return h->find("Authorization")->value.reveal(); }

}  // namespace

TEST_CASE("shared cache: eight processes' worth of caches on one credential: one token request on a cold start") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  std::vector<std::unique_ptr<Host>> hosts;
  std::vector<std::unique_ptr<Credential>> creds;
  for (int i = 0; i < 8; ++i) {
    hosts.push_back(std::make_unique<Host>(fleet.options()));
    creds.push_back(hosts.back()->open("ainua", env.ainua_credential()));
  }
  std::vector<std::string> seen(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { seen[i] = bearer(creds[i]->headers()); });
  for (auto &t : threads) t.join();
  CHECK(env.emu->count("ainua.token") == 1);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 1);
  // Each Host's metrics: one made the request, the seven others took it from L2.
  uint64_t requests = 0, l2 = 0, misses = 0;
  for (const auto &h : hosts) {
    MetricsSnapshot m = h->metrics();
    CHECK(m.shared_cache);
    for (const auto &p : m.token_requests) requests += p.outcomes.count("ok") ? p.outcomes.at("ok") : 0;
    l2 += m.l2_hits;
    misses += m.misses;
  }
  CHECK(requests == 1);
  CHECK(l2 == 7);
  CHECK(misses == 8);
  // What Redis holds: HMAC names, sealed records, lease and fence counters —
  // no token, no secret, no credential text.
  const std::string stored = fleet.dump();
  CHECK(contains(stored, "credplug:v1:"));
  for (const auto &token : env.emu->issued_tokens()) CHECK_FALSE(contains(stored, token));
  for (const std::string &plain : {kCanary, kClientId, std::string("Bearer"), std::string("ainua_url")})
    CHECK_FALSE(contains(stored, plain));
}

TEST_CASE("shared cache: a token taken from another process's record is masked in this one's messages too") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  Host fetching(fleet.options()), taking(fleet.options());
  auto fetched = fetching.open("ainua", env.ainua_credential());
  auto taken = taking.open("ainua", env.ainua_credential());
  const std::string value = bearer(fetched->headers());
  REQUIRE(bearer(taken->headers()) == value);
  CHECK(env.emu->count("ainua.token") == 1);
  CHECK(taking.metrics().l2_hits == 1);  // never fetched in `taking`
  const std::string token = value.substr(value.find(' ') + 1);
  for (const auto *c : {fetched.get(), taken.get()}) {
    CHECK(c->redact("sent " + value + ".") == "sent [REDACTED].");
    CHECK(c->redact("the token " + token + " was refused") == "the token [REDACTED] was refused");
  }
}

TEST_CASE("shared cache: the CLI in six processes at once makes one token request") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  const std::string cred = env.write_new("fleet-cred", env.ainua_credential());
  std::vector<ProcessResult> results(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      results[i] = env.trusted(
          {"--shared-cache", fleet.redis.url(), "--shared-cache-key-file", fleet.key_file, "auth", "ainua", cred});
    });
  for (auto &t : threads) t.join();
  for (const auto &r : results) {
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Authorization: <secret"));
  }
  CHECK(env.emu->count("ainua.token") == 1);
}

TEST_CASE("shared cache: CLI test asks the provider every time and says so; auth after it still shares") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  const std::string cred = env.write_new("fleet-test-cred", env.ainua_credential(R"("scope":"tested")"));
  const std::vector<std::string> shared{"--shared-cache", fleet.redis.url(), "--shared-cache-key-file", fleet.key_file};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), shared.begin(), shared.end());
    return env.trusted(args);
  };
  for (int i = 1; i <= 2; ++i) {
    auto r = with({"test", "ainua", cred});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.err, "note: test asks the provider for a new token"));
    CHECK(env.emu->count("ainua.token") == i);  // a new token each time: the credential is proven now
  }
  auto json = with({"--json", "test", "ainua", cred});
  CHECK(json.exit_code == 0);
  CHECK(kit::JsonDocument::parse_object(json.out));  // the note stays off stdout
  CHECK(env.emu->count("ainua.token") == 3);
  // test neither read nor wrote the fleet's record: the first auth requests
  // it, the second takes it.
  CHECK(with({"auth", "ainua", cred}).exit_code == 0);
  CHECK(with({"auth", "ainua", cred}).exit_code == 0);
  CHECK(env.emu->count("ainua.token") == 4);
  // Without a shared cache, no note.
  CHECK_FALSE(contains(env.trusted({"test", "ainua", cred}).err, "note:"));
}

TEST_CASE(
    "shared cache: a key file that lacks the fleet's sealing key is refused at start, naming the key; another "
    "fleet's key is warned about") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  Host(fleet.options()).open("ainua", env.ainua_credential())->headers();
  // A key unrelated to the fleet's authenticates none of its keyring: the
  // process starts (it cannot read those records), and says so. (Refusing
  // it would let anyone who can write to Redis refuse every process.)
  const std::string other = env.write_new("other-key", random_key() + "\n");
  CHECK_NOTHROW(Host(fleet.options(other)));
  CHECK(fleet.logged("and no key in " + other + " authenticates that entry") == 1);
  // Rotation: the new key first, the old one after it: accepted, and the
  // old key's token is read (no new request).
  std::ifstream old_key(fleet.key_file);
  std::string old_line;
  std::getline(old_key, old_line);
  const std::string rotated = env.write_new("rotated-key", random_key() + "\n" + old_line + "\n");
  Host host(fleet.options(rotated));
  host.open("ainua", env.ainua_credential())->headers();
  CHECK(env.emu->count("ainua.token") == 1);
  // Once the rotated process seals with its new key (its keyring entry
  // authenticated under both its keys), a process with the old key alone
  // is refused, naming the new key.
  const host::KeyRing ring = host::KeyRing::load(rotated);
  redisContext *c = redisConnect("127.0.0.1", fleet.redis.port());
  REQUIRE((c && !c->err));
  const std::string entry = host::keyring_entry(ring, ring.current_id(), std::time(nullptr) * 1000LL);
  freeReplyObject(
      redisCommand(c, "HSET credplug:v1:keyring %s %b", ring.current_id().c_str(), entry.data(), entry.size()));
  redisFree(c);
  try {
    Host lagging(fleet.options());
    FAIL("a Host started without the key the fleet now seals with");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::InvalidInput);
    CHECK(contains(e.what(), "holds tokens sealed with key " + ring.current_id()));
    CHECK(contains(e.what(), "which the key file " + fleet.key_file + " lacks"));
  }
  // A shared cache without a key file: refused, saying how to make one.
  HostOptions no_key = fleet.options();
  no_key.shared_cache_key_file.clear();
  no_key.use_environment = false;
  try {
    Host bad(no_key);
    FAIL("a shared cache without a key file was accepted");
  } catch (const Error &e) {
    CHECK(contains(e.what(), "needs a key file"));
  }
}

TEST_CASE("shared cache: a process started with another key that sealed nothing does not bar the fleet") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  { Host stray(fleet.options(env.write_new("stray-key", random_key() + "\n"))); }  // opens nothing
  Host a(fleet.options()), b(fleet.options());
  CHECK(bearer(a.open("ainua", env.ainua_credential())->headers()) ==
        bearer(b.open("ainua", env.ainua_credential())->headers()));
  CHECK(env.emu->count("ainua.token") == 1);
}

TEST_CASE("shared cache: Redis killed mid-run: no caller error, logged once; back: sharing resumes") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  Host a(fleet.options()), b(fleet.options());
  auto ca = a.open("ainua", env.ainua_credential());
  auto cb = b.open("ainua", env.ainua_credential());
  CHECK(bearer(ca->headers()) == bearer(cb->headers()));
  CHECK(env.emu->count("ainua.token") == 1);
  fleet.redis.kill();
  // New credentials while it is down: each process obtains its own, no error.
  const std::string second = env.ainua_credential(R"("scope":"profile")");
  auto da = a.open("ainua", second);
  auto db = b.open("ainua", second);
  CHECK_NOTHROW(da->headers());
  CHECK_NOTHROW(db->headers());
  CHECK_NOTHROW(ca->headers());  // L1 still serves
  CHECK(env.emu->count("ainua.token") == 3);
  CHECK(fleet.logged("unavailable") == 2);  // once per outage in each process, not per call
  CHECK(a.metrics().redis_errors >= 1);
  fleet.redis.start();
  // Each process tries Redis again after its backoff (100 ms, doubling);
  // until then it obtains its own tokens. Wait for the state, not a time:
  // a new credential in both processes until one request serves the two.
  int round = 0;
  REQUIRE(eventually([&] {
    const std::string next = env.ainua_credential(R"("scope":"email )" + std::to_string(++round) + "\"");
    const int before = env.emu->count("ainua.token");
    auto ea = a.open("ainua", next);
    auto eb = b.open("ainua", next);
    return bearer(ea->headers()) == bearer(eb->headers()) && env.emu->count("ainua.token") == before + 1;
  }));
  CHECK(fleet.logged("reachable again") >= 1);
}

TEST_CASE("shared cache: a 401 drops that token fleet-wide once; a stale report never drops a newer one") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  Host a(fleet.options()), b(fleet.options()), c(fleet.options());
  auto ca = a.open("ainua", env.ainua_credential());
  auto cb = b.open("ainua", env.ainua_credential());
  auto first = ca->headers();
  auto first_b = cb->headers();
  CHECK(bearer(first) == bearer(first_b));
  ca->invalidate(*first);  // the API refused it
  auto second = ca->headers();
  CHECK(bearer(second) != bearer(first));
  CHECK(env.emu->count("ainua.token") == 2);
  // B reports the same old token late: its cache drops it, takes the newer
  // one from the fleet (no request), and the newer one stays in Redis.
  cb->invalidate(*first_b);
  CHECK(bearer(cb->headers()) == bearer(second));
  CHECK(bearer(c.open("ainua", env.ainua_credential())->headers()) == bearer(second));
  CHECK(env.emu->count("ainua.token") == 2);
}

namespace {

// Calls headers() from 8 threads over `credentials` for `ms`, counting
// expired tokens served and errors.
void hammer(std::vector<std::unique_ptr<Credential>> &credentials, int ms, std::atomic<int> &expired,
            std::atomic<int> &errors) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      while (!stop) {
        try {
          auto h = credentials[i % credentials.size()]->headers();
          const auto now_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
          if (h->expires_at && *h->expires_at * 1000 <= now_ms) ++expired;
        } catch (const std::exception &) {
          ++errors;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  stop = true;
  for (auto &t : threads) t.join();
}

}  // namespace

TEST_CASE("shared cache: over several token lifetimes the fleet makes the token requests of one process") {
  auto &env = E2E::get();
  env.reset();
  env.emu->switches("ainua").token_lifetime_s = 2;
  Fleet fleet;
  std::atomic<int> expired{0}, errors{0};
  auto make = [&](int hosts, std::vector<std::unique_ptr<Host>> &out, const std::string &cred) {
    std::vector<std::unique_ptr<Credential>> creds;
    for (int i = 0; i < hosts; ++i) {
      // The default policy: a 30 s skew, which the cache cuts to a quarter
      // of a 2 s token's life, in L1 and when taking it from L2 alike.
      out.push_back(std::make_unique<Host>(fleet.options()));
      creds.push_back(out.back()->open("ainua", cred));
    }
    return creds;
  };
  // The baseline, measured here: one process alone, over the same time.
  std::vector<std::unique_ptr<Host>> alone_hosts, fleet_hosts;
  auto alone = make(1, alone_hosts, env.ainua_credential(R"("scope":"alone")"));
  hammer(alone, 4000, expired, errors);
  const int one_process = env.emu->count("ainua.token");
  env.reset();
  env.emu->switches("ainua").token_lifetime_s = 2;
  auto four = make(4, fleet_hosts, env.ainua_credential(R"("scope":"fleet")"));
  hammer(four, 4000, expired, errors);
  const int fleet_requests = env.emu->count("ainua.token");
  CAPTURE(one_process);
  CAPTURE(fleet_requests);
  CHECK(errors == 0);
  CHECK(expired == 0);
  CHECK(one_process >= 3);  // several lifetimes did pass
  CHECK(fleet_requests <= one_process + 1);
}

TEST_CASE(
    "shared cache: the lease holder killed mid-request: another process obtains the token once the lease expires") {
  auto &env = E2E::get();
  env.reset();
  Fleet fleet;
  const std::string cred_text = env.ainua_credential(R"("scope":"lease")");
  const std::string cred = env.write_new("lease-cred", cred_text);
  env.emu->switches("ainua").delay_ms = 3000;  // the holder's request hangs
  // The holder: a CLI whose token request may take 1.5 s, so its lease lasts 2.5 s.
  const std::string cli = CREDPLUG_CLI;
  std::vector<std::string> args{cli,
                                "--ca-file",
                                env.pki.ca_cert,
                                "--plugin-dir",
                                CREDPLUG_PLUGIN_DIR,
                                "--timeout",
                                "1500",
                                "--shared-cache",
                                fleet.redis.url(),
                                "--shared-cache-key-file",
                                fleet.key_file,
                                "auth",
                                "ainua",
                                cred};
  pid_t holder = spawn_quiet(args);
  REQUIRE(eventually([&] { return env.emu->count("ainua.token") == 1; }));  // it holds the lease, its request is in
  const auto killed_at = std::chrono::steady_clock::now();
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  env.emu->switches("ainua").delay_ms = 0;
  HostOptions o = fleet.options();
  o.cache.max_wait_ms = 10000;
  Host other(o);
  auto headers = other.open("ainua", cred_text)->headers();
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  CHECK(headers->find("Authorization") != nullptr);
  CHECK(env.emu->count("ainua.token") == 2);  // the killed one's, and this one's after the lease ran out
  CHECK(waited.count() >= 1000);              // it waited for the lease instead of racing the holder
  CHECK(waited.count() < 6000);
}

TEST_CASE("metrics: credplug test --metrics after a bulk run, as Prometheus text and as JSON") {
  auto &env = E2E::get();
  env.reset();
  const std::string dir = env.new_dir("metrics");
  for (int i = 0; i < 3; ++i)
    env.write(dir + "/good-" + std::to_string(i) + ".json",
              env.ainua_credential("\"scope\":\"s" + std::to_string(i) + "\""));
  env.write(dir + "/bad.json", env.ainua_credential("", "wrong-secret"));
  auto r = env.trusted({"test", "ainua", env.dir + "/" + dir, "--metrics"});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.out, "# credplug metrics (Prometheus text format)"));
  CHECK(contains(r.out, "credplug_token_requests_total{plugin=\"ainua\",outcome=\"ok\"} 3\n"));
  CHECK(contains(r.out, "credplug_token_requests_total{plugin=\"ainua\",outcome=\"rejected\"} 1\n"));
  CHECK(contains(r.out, "# TYPE credplug_token_request_duration_seconds histogram\n"));
  CHECK(contains(r.out, "credplug_token_request_duration_seconds_bucket{plugin=\"ainua\",le=\"+Inf\"} 4\n"));
  CHECK(contains(r.out, "credplug_token_request_duration_seconds_count{plugin=\"ainua\"} 4\n"));
  CHECK_FALSE(contains(r.out, "credplug_shared_cache_errors_total"));  // no shared cache
  auto j = env.trusted({"--json", "test", "ainua", env.dir + "/" + dir, "--metrics"});
  const std::string last = j.out.substr(j.out.rfind("{\"metrics\": "));
  auto doc = kit::JsonDocument::parse_object(last);
  REQUIRE(doc);
  CHECK(doc->integer("/metrics/token_requests/ainua/outcomes/ok") == 3);
  CHECK(doc->integer("/metrics/token_requests/ainua/latency/count") == 4);
  CHECK(doc->has("/metrics/cache/l1_hits"));
}

TEST_CASE(
    "shared cache: C API processes: cold start one request; over token lifetimes, one process's requests; none "
    "expired") {
  auto &env = E2E::get();
  env.reset();
  env.emu->switches("ainua").token_lifetime_s = 2;
  Fleet fleet;
  auto worker = [&](const std::string &cred, int ms) {
    return run_process({CREDPLUG_FLEET_WORKER, CREDPLUG_PLUGIN_DIR, env.pki.ca_cert, fleet.redis.url(), fleet.key_file,
                        "ainua", cred, std::to_string(ms)});
  };
  // The baseline, measured here: one worker process alone.
  const std::string alone = env.write_new("fleet-alone", env.ainua_credential(R"("scope":"alone")"));
  auto r = worker(alone, 3500);
  CHECK(r.exit_code == 0);
  CAPTURE(r.err);
  const int one_process = env.emu->count("ainua.token");
  // The cold start: four processes at once, with tokens that outlive the
  // run (so no renewal can be counted, however slow the machine): one
  // request for all four.
  env.reset();
  const std::string cold = env.write_new("fleet-cold", env.ainua_credential(R"("scope":"cold")"));
  auto four_workers = [&](const std::string &cred, int ms) {
    std::vector<ProcessResult> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { results[i] = worker(cred, ms); });
    for (auto &t : threads) t.join();
    for (const auto &res : results) {
      CAPTURE(res.out);
      CAPTURE(res.err);
      CHECK(res.exit_code == 0);  // no error, no expired token served
    }
  };
  four_workers(cold, 300);
  CHECK(env.emu->count("ainua.token") == 1);
  // Over token lifetimes: the fleet's requests, against one process's.
  env.reset();
  env.emu->switches("ainua").token_lifetime_s = 2;
  four_workers(env.write_new("fleet-shared", env.ainua_credential(R"("scope":"shared")")), 3500);
  CAPTURE(one_process);
  const int fleet_requests = env.emu->count("ainua.token");
  CAPTURE(fleet_requests);
  CHECK(one_process >= 2);
  CHECK(fleet_requests <= one_process + 1);
}

TEST_CASE(
    "shared cache: Nexla with use_token_refresh (a rotating refresh) across processes: no process presents a revoked "
    "token") {
  auto &env = E2E::get();
  env.reset();
  auto &sw = env.emu->switches("nexla");
  sw.token_lifetime_s = 2;
  sw.refresh_revokes = true;  // each /token/refresh revokes the token it renews
  Fleet fleet;
  const std::string api = env.emu->origin() + "/nexla-api/users/current";
  auto worker = [&](const std::string &cred, int ms, const std::string &redis_url) {
    return run_process({CREDPLUG_FLEET_WORKER, CREDPLUG_PLUGIN_DIR, env.pki.ca_cert, redis_url, fleet.key_file, "nexla",
                        cred, std::to_string(ms), api});
  };
  // The baseline, measured here: one process without the shared cache renews
  // through the rotating refresh (its own session).
  const std::string alone = env.write_new("nexla-alone", env.nexla_credential(R"("use_token_refresh":true)"));
  auto r = worker(alone, 4500, "-");
  CAPTURE(r.out);
  CAPTURE(r.err);
  const int one_process = env.emu->count("nexla.token") + env.emu->count("nexla.refresh");
  CHECK(env.emu->count("nexla.refresh") >= 1);
  MESSAGE("one process alone: " << r.out << " (token requests " << one_process << ", "
                                << env.emu->count("nexla.revoked_token") << " revoked tokens presented)");
  env.reset();
  sw.token_lifetime_s = 2;
  sw.refresh_revokes = true;
  // The fleet: four processes on one credential, every one calling the API
  // with what credplug_headers_get() gives it, over two token lifetimes.
  const std::string shared = env.write_new("nexla-fleet", env.nexla_credential(R"("use_token_refresh":true)"));
  std::vector<ProcessResult> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { results[i] = worker(shared, 4500, fleet.redis.url()); });
  for (auto &t : threads) t.join();
  for (const auto &res : results) {
    CAPTURE(res.out);
    CAPTURE(res.err);
    CHECK(res.exit_code == 0);  // no error, no expired token, no 401
  }
  CHECK(env.emu->count("nexla.revoked_token") == 0);
  CHECK(env.emu->count("nexla.expired_token") == 0);
  // Shared, renewals are new sessions: the token the rest of the fleet holds
  // lives out its lifetime.
  CHECK(env.emu->count("nexla.refresh") == 0);
  const int fleet_requests = env.emu->count("nexla.token");
  CAPTURE(one_process);
  CAPTURE(fleet_requests);
  CHECK(fleet_requests <= one_process + 1);
  CHECK(env.emu->count("nexla.api") > 4 * 50);  // they did call the API throughout
}
