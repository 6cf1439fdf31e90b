// Benchmark 8: the fleet-wide token cache. N worker processes (this program
// again, with --worker) × 8 threads call headers() on one credential for a
// number of token lifetimes, without the shared cache (the baseline: what
// every process does alone today) and with it, measured in the same run:
//   a. token requests the fleet made, and per lifetime (target: one
//      process's, about 1.25 per lifetime at the default refresh fraction)
//   b. headers() latency, p50 and p99, per call (target: unchanged — served
//      from each process's own cache)
//   c. the cold start: how long each worker waits for its first token
//      (with the shared cache, all but one wait for the lease holder)
//   d. how long a lease wait lasts, beside the token request it waits for
// Usage: fleet_bench [--lifetimes N] [--lifetime-s S] [--procs-small N] [--procs-large N]
#include "bench_env.hpp"
#include "bench_run.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

namespace {

using namespace credplug;
using namespace credplug::bench;

constexpr int kThreads = 8;

// --worker PLUGIN_DIR CA REDIS_URL|none KEY_FILE CREDENTIAL_FILE MS: prints
// {"first_ms", "calls", "p50_ns", "p99_ns", "expired"} and exits.
int worker(char **argv) {
  const auto started = Clock::now();
  HostOptions o;
  o.plugin_dirs = {argv[2]};
  o.use_environment = false;
  o.use_default_dir = false;
  o.ca_file = argv[3];
  if (std::string(argv[4]) != "none") {
    o.shared_cache_url = argv[4];
    o.shared_cache_key_file = argv[5];
  }
  std::ifstream in(argv[6]);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const long ms = std::atol(argv[7]);
  Host host(o);
  auto cred = host.open("ainua", text);
  cred->headers();
  const double first_ms = ms_since(started);
  std::atomic<long> expired{0}, calls{0};
  std::vector<std::vector<double>> samples(kThreads);
  std::vector<std::thread> threads;
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      while (Clock::now() < until) {
        auto t0 = Clock::now();
        auto h = cred->headers();
        samples[t].push_back(ms_since(t0) * 1e6);
        ++calls;
        const auto now_s =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        if (h->expires_at && *h->expires_at <= now_s) ++expired;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  for (auto &t : threads) t.join();
  std::vector<double> all;
  for (auto &s : samples) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0 : all[size_t(p * double(all.size() - 1))]; };
  const MetricsSnapshot m = host.metrics();
  Histogram requests;  // this process's token requests
  for (const auto &p : m.token_requests) requests = p.latency;
  std::printf(
      "{\"first_ms\":%.2f,\"calls\":%ld,\"p50_ns\":%.1f,\"p99_ns\":%.1f,\"expired\":%ld,"
      "\"redis_errors\":%llu,\"lease_waits\":%llu,\"lease_wait_ms\":%.3f,\"requests\":%llu,"
      "\"request_ms\":%.3f}\n",
      first_ms, calls.load(), pct(0.5), pct(0.99), expired.load(), (unsigned long long)m.redis_errors,
      (unsigned long long)m.lease_waits, m.lease_wait_duration.sum_ms, (unsigned long long)requests.count,
      requests.sum_ms);
  return 0;
}

struct FleetRun {
  int token_requests = 0;
  double p50_ns = 0, p99_ns = 0;
  std::vector<double> first_ms;
  long expired = 0, calls = 0, redis_errors = 0, lease_waits = 0, requests = 0;
  double lease_wait_ms = 0, request_ms = 0;  // sums over the fleet
};

FleetRun run_fleet(BenchEnv &env, const std::string &self, const std::string &redis_url, const std::string &key_file,
                   int procs, int ms, int lifetime_s, const std::string &tag) {
  env.emu->reset();
  env.emu->switches("ainua").token_lifetime_s = lifetime_s;
  const std::string cred = env.dir + "/" + tag + ".json";
  std::ofstream(cred) << R"({"ainua_url":"localhost:)" << env.emu->port()
                      << R"(","client_id":"bench-client","client_secret":"bench-secret","scope":")" << tag << "\"}";
  std::vector<testing::ProcessResult> results(static_cast<size_t>(procs));
  std::vector<std::thread> threads;
  for (int i = 0; i < procs; ++i)
    threads.emplace_back([&, i] {
      results[size_t(i)] = testing::run_process(
          {self, "--worker", CREDPLUG_PLUGIN_DIR, env.pki.ca_cert, redis_url, key_file, cred, std::to_string(ms)});
    });
  for (auto &t : threads) t.join();
  FleetRun r;
  r.token_requests = env.emu->count("ainua.token");
  std::vector<double> p50, p99;
  for (const auto &res : results) {
    auto doc = kit::JsonDocument::parse_object(res.out);
    require(res.exit_code == 0 && doc.has_value(), "a worker failed");
    if (!doc) {
      std::fprintf(stderr, "  worker: %s\n", res.err.c_str());
      continue;
    }
    r.first_ms.push_back(std::stod(doc->raw("first_ms").value_or("0")));
    p50.push_back(std::stod(doc->raw("p50_ns").value_or("0")));
    p99.push_back(std::stod(doc->raw("p99_ns").value_or("0")));
    r.expired += long(doc->integer("expired").value_or(0));
    r.calls += long(doc->integer("calls").value_or(0));
    r.redis_errors += long(doc->integer("redis_errors").value_or(0));
    r.lease_waits += long(doc->integer("lease_waits").value_or(0));
    r.lease_wait_ms += std::stod(doc->raw("lease_wait_ms").value_or("0"));
    r.requests += long(doc->integer("requests").value_or(0));
    r.request_ms += std::stod(doc->raw("request_ms").value_or("0"));
  }
  r.p50_ns = median(p50);
  r.p99_ns = median(p99);
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc == 8 && std::string(argv[1]) == "--worker") return worker(argv);
  // Tokens of at least 2 s: a JWT's exp is in whole seconds, so a 1 s token can
  // arrive with a few ms left. 20 lifetimes of 2 s stay under the 60 s a
  // worker process may run (support/process.hpp).
  int lifetimes = 20, lifetime_s = 2, procs_small = 4, procs_large = 16;
  read_flags(argc, argv,
             {{"--lifetimes", &lifetimes},
              {"--lifetime-s", &lifetime_s},
              {"--procs-small", &procs_small},
              {"--procs-large", &procs_large}});
  BenchEnv env;
  testing::RedisServer redis;
  std::string key(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char *>(key.data()), int(key.size()));
  const std::string key_file = env.dir + "/fleet.key";
  std::ofstream(key_file) << kit::hex_encode(key) << "\n";
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  const int ms = lifetimes * lifetime_s * 1000;
  std::printf(
      "8. the fleet-wide token cache: %d-second tokens, %d lifetimes, %d threads per process calling headers() "
      "every ms\n",
      lifetime_s, lifetimes, kThreads);
  auto worst = [](const std::vector<double> &v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
  for (int procs : {procs_small, procs_large}) {
    FleetRun runs[2];
    for (int shared = 0; shared < 2; ++shared) {
      const std::string tag = "p" + std::to_string(procs) + (shared ? "-shared" : "-alone");
      runs[shared] = run_fleet(env, self, shared ? redis.url() : "none", key_file, procs, ms, lifetime_s, tag);
      require(runs[shared].expired == 0, "an expired token was served");
    }
    const double one_process = double(runs[0].token_requests) / procs;
    std::printf(
        "8a. %2d processes: token requests   without the shared cache: %d (%.2f per lifetime)   with it: %d "
        "(%.2f per lifetime; one process alone: %.1f) (%s; Redis errors %ld, lease waits %ld)\n",
        procs, runs[0].token_requests, double(runs[0].token_requests) / lifetimes, runs[1].token_requests,
        double(runs[1].token_requests) / lifetimes, one_process,
        runs[1].token_requests <= one_process + 2 ? "one process's: met" : "MISSED", runs[1].redis_errors,
        runs[1].lease_waits);
    const int slack = 2 + lifetimes / 4;  // a few lifetimes may see one more request
    require(runs[1].token_requests <= one_process + slack, "the shared cache made many more requests than one process");
    std::printf("8b. %2d processes: headers() p50 / p99   without: %.0f / %.0f ns   with: %.0f / %.0f ns (%s)\n", procs,
                runs[0].p50_ns, runs[0].p99_ns, runs[1].p50_ns, runs[1].p99_ns,
                runs[1].p50_ns <= 1.5 * runs[0].p50_ns + 50 ? "unchanged: met" : "slower: MISSED");
    std::printf(
        "8c. %2d processes: cold start, time to the first token (median / max)   without: %.1f / %.1f ms   "
        "with: %.1f / %.1f ms\n",
        procs, median(runs[0].first_ms), worst(runs[0].first_ms), median(runs[1].first_ms), worst(runs[1].first_ms));
    // A wait for another process's request, against that request's own time:
    // what the wait adds is how late the waiter hears of the token.
    const FleetRun &w = runs[1];
    std::printf(
        "8d. %2d processes: lease waits, mean   %.2f ms (%ld waits)   the token request waited for, mean: %.2f ms "
        "(%ld requests)\n",
        procs, w.lease_waits ? w.lease_wait_ms / double(w.lease_waits) : 0.0, w.lease_waits,
        w.requests ? w.request_ms / double(w.requests) : 0.0, w.requests);
  }
  return failures() == 0 ? 0 : 1;
}
