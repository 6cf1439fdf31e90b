// Benchmark 10: refresh-token rotation for many credentials (people's
// accounts, the oauth2 plugin) against the emulator's authorization server,
// whose refresh tokens rotate on every use and whose reuse detection
// revokes a whole grant. N worker processes (this program again, with
// --worker) each open every credential from the same starting state and
// call headers() on all of them for a number of token lifetimes, with the
// shared cache; beside them, the baseline measured in the same run: one
// process alone without it (what a platform runs today).
//   a. redemptions (refresh grants), per credential and lifetime, and reuse
//      detections (target: none; about one redemption per lifetime)
//   b. headers() p50 / p99 over every credential
//   c. the states handed to the workers' sinks beside the redemptions
// Usage: rotation_bench [--credentials N] [--lifetimes N] [--lifetime-s S] [--procs N]
#include "bench_env.hpp"
#include "bench_run.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include "support/emulator_account.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

namespace {

using namespace credplug;
using namespace credplug::bench;

constexpr int kThreads = 4;
const std::string kApp = "rotation-app";
const std::string kSecret = "rotation-secret";
const std::string kRedirect = "http://127.0.0.1:5555/callback";

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --worker PLUGIN_DIR CA REDIS_URL|none KEY_FILE CREDENTIAL_FILE STATES_FILE MS:
// opens the credential once per line of STATES_FILE (each its own account:
// the state and a label), calls headers() on all of them from kThreads
// threads for MS, and prints {"calls", "errors", "p50_ns", "p99_ns", "saves"}.
int worker(char **argv) {
  HostOptions o;
  o.plugin_dirs = {argv[2]};
  o.use_environment = false;
  o.use_default_dir = false;
  o.ca_file = argv[3];
  if (std::string(argv[4]) != "none") {
    o.shared_cache_url = argv[4];
    o.shared_cache_key_file = argv[5];
  }
  const std::string credential = read_file(argv[6]);
  std::ifstream states(argv[7]);
  const long ms = std::atol(argv[8]);
  Host host(o);
  std::atomic<long> saves{0};
  std::vector<std::unique_ptr<Credential>> creds;
  int n = 0;
  for (std::string line; std::getline(states, line);) {
    OpenOptions open;
    open.label = "account-" + std::to_string(n++);  // one account each: the same JSON, its own state
    open.state = SecretString(line);
    open.on_state = [&saves](const SecretString &) { ++saves; };
    creds.push_back(host.open("oauth2", credential, open));
  }
  std::atomic<long> calls{0}, errors{0};
  std::vector<std::vector<double>> samples(kThreads);
  std::vector<std::thread> threads;
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = size_t(t); Clock::now() < until; i = (i + kThreads) % creds.size()) {
        const auto t0 = Clock::now();
        try {
          creds[i]->headers();
          samples[size_t(t)].push_back(ms_since(t0) * 1e6);
          ++calls;
        } catch (const std::exception &) {
          ++errors;
        }
      }
    });
  for (auto &t : threads) t.join();
  std::vector<double> all;
  for (auto &s : samples) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0 : all[size_t(p * double(all.size() - 1))]; };
  const MetricsSnapshot m = host.metrics();
  std::printf(
      "{\"calls\":%ld,\"errors\":%ld,\"p50_ns\":%.1f,\"p99_ns\":%.1f,\"saves\":%ld,\"waits\":%llu,\"wait_ms\":%.1f,"
      "\"lease_waits\":%llu,\"lease_wait_ms\":%.1f,\"l2_hits\":%llu}\n",
      calls.load(), errors.load(), pct(0.5), pct(0.99), saves.load(), (unsigned long long)m.waits,
      m.wait_duration.sum_ms, (unsigned long long)m.lease_waits, m.lease_wait_duration.sum_ms,
      (unsigned long long)m.l2_hits);
  return 0;
}

struct Run {
  int redemptions = 0, reuse = 0;
  long calls = 0, errors = 0, saves = 0;
  double p50_ns = 0, p99_ns = 0;
  // Callers that waited for a token request under way (theirs or the
  // fleet's), waits for another process's redemption, tokens taken from it.
  long waits = 0, lease_waits = 0, l2_hits = 0;
  double wait_ms = 0, lease_wait_ms = 0;
};

Run run(BenchEnv &env, const std::string &self, const std::string &redis_url, const std::string &key_file,
        const std::string &states_file, int procs, int ms) {
  const int before = env.emu->count("oauth2.refresh"), reuse_before = env.emu->count("oauth2.refresh_reuse");
  const std::string credential = env.dir + "/rotation-credential.json";
  std::ofstream(credential) << R"({"token_url":")" << env.emu->origin() << R"(/oauth/token","client_id":")" << kApp
                            << R"(","client_secret":")" << kSecret << "\"}";
  std::vector<testing::ProcessResult> results(static_cast<size_t>(procs));
  std::vector<std::thread> threads;
  for (int i = 0; i < procs; ++i)
    threads.emplace_back([&, i] {
      results[size_t(i)] = testing::run_process({self, "--worker", CREDPLUG_PLUGIN_DIR, env.pki.ca_cert, redis_url,
                                                 key_file, credential, states_file, std::to_string(ms)});
    });
  for (auto &t : threads) t.join();
  Run r;
  r.redemptions = env.emu->count("oauth2.refresh") - before;
  r.reuse = env.emu->count("oauth2.refresh_reuse") - reuse_before;
  std::vector<double> p50, p99;
  for (const auto &res : results) {
    auto doc = kit::JsonDocument::parse_object(res.out);
    require(res.exit_code == 0 && doc.has_value(), "a worker failed");
    if (!doc) {
      std::fprintf(stderr, "  worker: %s\n", res.err.c_str());
      continue;
    }
    r.calls += long(doc->integer("calls").value_or(0));
    r.errors += long(doc->integer("errors").value_or(0));
    r.saves += long(doc->integer("saves").value_or(0));
    r.waits += long(doc->integer("waits").value_or(0));
    r.lease_waits += long(doc->integer("lease_waits").value_or(0));
    r.l2_hits += long(doc->integer("l2_hits").value_or(0));
    r.wait_ms += doc->number("wait_ms").value_or(0);
    r.lease_wait_ms += doc->number("lease_wait_ms").value_or(0);
    p50.push_back(std::stod(doc->raw("p50_ns").value_or("0")));
    p99.push_back(std::stod(doc->raw("p99_ns").value_or("0")));
  }
  r.p50_ns = median(p50);
  r.p99_ns = median(p99);
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc == 9 && std::string(argv[1]) == "--worker") return worker(argv);
  int credentials = 1000, lifetimes = 3, lifetime_s = 10, procs = 4;
  read_flags(argc, argv,
             {{"--credentials", &credentials},
              {"--lifetimes", &lifetimes},
              {"--lifetime-s", &lifetime_s},
              {"--procs", &procs}});
  BenchEnv env;
  env.emu->add_client("oauth2", kApp, kSecret);
  env.emu->switches("oauth2").token_lifetime_s = lifetime_s;
  testing::RedisServer redis;
  std::string key(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char *>(key.data()), int(key.size()));
  const std::string key_file = env.dir + "/fleet.key";
  std::ofstream(key_file) << kit::hex_encode(key) << "\n";
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  const int ms = lifetimes * lifetime_s * 1000;
  // Each run starts from grants of its own: a grant the baseline rotated is
  // not the fleet's to redeem again.
  const testing::EmulatorAccount account{env.emu->port(), env.pki.ca_cert, kApp, kSecret, kRedirect};
  auto grants = [&](const std::string &name) {
    std::string file = env.dir + "/" + name + ".states";
    std::ofstream out(file);
    for (int i = 0; i < credentials; ++i)
      out << R"({"refresh_token":")" << testing::connect_emulator_account(account) << "\"}\n";
    return file;
  };
  std::printf(
      "10. refresh-token rotation: %d accounts (oauth2, refresh tokens rotated on every use), %d-second tokens, %d "
      "lifetimes, %d threads per process calling headers() on all of them\n",
      credentials, lifetime_s, lifetimes, kThreads);
  const Run alone = run(env, self, "none", key_file, grants("alone"), 1, ms);
  const Run fleet = run(env, self, redis.url(), key_file, grants("fleet"), procs, ms);
  require(alone.reuse == 0 && fleet.reuse == 0, "a refresh token was presented twice");
  require(fleet.errors == 0, "a fleet worker's headers() failed");
  const double per = double(credentials) * lifetimes;
  std::printf(
      "10a. redemptions   one process, no shared cache: %d (%.2f per account and lifetime)   %d processes sharing: %d "
      "(%.2f; %s)   reuse detections: %d / %d\n",
      alone.redemptions, alone.redemptions / per, procs, fleet.redemptions, fleet.redemptions / per,
      fleet.redemptions <= alone.redemptions * 5 / 4 + credentials ? "one process's: met" : "MISSED", alone.reuse,
      fleet.reuse);
  std::printf("10b. headers() p50 / p99   one process: %.0f / %.0f ns   %d processes: %.0f / %.0f ns (%ld calls)\n",
              alone.p50_ns, alone.p99_ns, procs, fleet.p50_ns, fleet.p99_ns, fleet.calls);
  std::printf("10c. states handed to sinks   one process: %ld   %d processes: %ld (every redemption's, at least: %s)\n",
              alone.saves, procs, fleet.saves, fleet.saves >= fleet.redemptions ? "met" : "MISSED");
  auto mean = [](double sum, long n) { return n > 0 ? sum / double(n) : 0.0; };
  std::printf(
      "10d. waits   one process: %ld callers waited for a token request (mean %.2f ms)   %d processes: %ld callers "
      "(mean %.2f ms); %ld waits for another process's redemption (mean %.2f ms); %ld tokens taken from the fleet\n",
      alone.waits, mean(alone.wait_ms, alone.waits), procs, fleet.waits, mean(fleet.wait_ms, fleet.waits),
      fleet.lease_waits, mean(fleet.lease_wait_ms, fleet.lease_waits), fleet.l2_hits);
  require(fleet.saves >= fleet.redemptions, "a rotated state reached no sink");
  return failures() == 0 ? 0 : 1;
}
