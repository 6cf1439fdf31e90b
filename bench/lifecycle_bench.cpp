// Benchmarks 2-5: the token lifecycle and the CLI, each printed beside a
// baseline measured in the same run.
//   2. 64 threads call headers() on an expired token: token requests made
//      (baseline: a mutex-map cache that fetches on a miss, no single-flight).
//   3. 8 threads over N 2-second token lifetimes, each calling headers() and
//      then the API: slowest headers() after warm-up, expired tokens the API
//      saw (baseline: the same map cache, renewing only once a token expired).
//   4. `credplug test --jobs 8` on 200 credentials vs the same 400 requests
//      made by sequential curl processes.
//   5. `credplug plugins` (discover and load five plugins) vs `curl --version`.
//   6. `credplug test` on N Ainua credentials trusting the system CA bundle
//      plus the test CA (as a real deployment does): --jobs 8 vs --jobs 1 vs
//      a Python thread pool of 8 (requests + authlib), with no added latency
//      and with 5 ms per request; connections opened by each credplug run.
// Usage: lifecycle_bench [--lifetimes N] [--credentials N] [--runs N]
#include "bench_env.hpp"
#include "bench_run.hpp"
#include "support/ainua_api.hpp"
#include "support/on_threads.hpp"
#include "support/process.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace credplug;
using namespace credplug::bench;
using testing::on_threads;

// The obvious cache a platform writes first: one mutex, one map; on a miss
// (or an expired token) the caller fetches a token itself, outside the lock.
class MutexMapCache {
 public:
  explicit MutexMapCache(Credential &c) : credential_(c) {}
  HeadersPtr get() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find("k");
      if (it != map_.end() && it->second->expires_at && *it->second->expires_at > std::time(nullptr)) return it->second;
    }
    AuthResult r = credential_.authenticate();  // a token request (bypasses credplug's cache)
    auto set = std::make_shared<HeaderSet>();
    set->headers = std::move(r.headers);
    set->expires_at = r.expires_at;
    std::lock_guard<std::mutex> lock(mutex_);
    map_["k"] = set;
    return set;
  }

 private:
  Credential &credential_;
  std::mutex mutex_;
  std::map<std::string, HeadersPtr> map_;
};

void single_flight(bench::BenchEnv &env) {
  env.emu->reset();
  env.emu->switches("ainua").token_lifetime_s = 2;
  Host host(env.host_options());
  auto cred = host.open("ainua", env.ainua_credential());
  cred->headers();
  while (cred->cache_status().has_token) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  env.emu->switches("ainua").delay_ms = 100;
  int before = env.emu->count("ainua.token");
  on_threads(64, [&](int) { cred->headers(); });
  const int ours = env.emu->count("ainua.token") - before;

  MutexMapCache naive(*cred);
  before = env.emu->count("ainua.token");
  on_threads(64, [&](int) { naive.get(); });
  const int baseline = env.emu->count("ainua.token") - before;
  std::printf("2. 64 threads, expired token    headers(): %d token request(s)   baseline mutex map: %d   %s\n", ours,
              baseline, ours == 1 ? "(target: exactly 1: met)" : "(target: exactly 1: MISSED)");
  require(ours == 1, "single-flight: 64 callers on an expired token must cause exactly one token request");
  env.emu->reset();
}

struct SteadyFigures {
  double max_ms = 0, p999_ms = 0;
  long calls = 0, over_1ms = 0;
  int expired = 0, refused = 0, token_requests = 0;
};

template <class Get>
SteadyFigures steady(bench::BenchEnv &env, int lifetimes, Get get) {
  SteadyFigures f;
  const int before_expired = env.emu->count("ainua.expired_token");
  const int before_tokens = env.emu->count("ainua.token");
  const auto end = Clock::now() + std::chrono::milliseconds(2000 * lifetimes);
  std::mutex mutex;
  std::vector<double> all;
  std::atomic<int> refused{0};
  on_threads(8, [&](int) {
    testing::AinuaApi api(env.emu->port(), env.pki.ca_cert);
    std::vector<double> mine;
    while (Clock::now() < end) {
      auto t0 = Clock::now();
      HeadersPtr h = get();
      mine.push_back(ms_between(t0, Clock::now()));
      if (api.patch(*h) != 200) ++refused;
    }
    std::lock_guard<std::mutex> lock(mutex);
    all.insert(all.end(), mine.begin(), mine.end());
  });
  std::sort(all.begin(), all.end());
  f.calls = long(all.size());
  f.over_1ms = long(all.end() - std::lower_bound(all.begin(), all.end(), 1.0));
  f.max_ms = all.empty() ? 0 : all.back();
  f.p999_ms = all.empty() ? 0 : all[size_t(double(all.size() - 1) * 0.999)];
  f.expired = env.emu->count("ainua.expired_token") - before_expired;
  f.refused = refused;
  f.token_requests = env.emu->count("ainua.token") - before_tokens;
  return f;
}

void steady_state(bench::BenchEnv &env, int lifetimes) {
  env.emu->reset();
  env.emu->switches("ainua").token_lifetime_s = 2;
  Host host(env.host_options());
  auto cred = host.open("ainua", env.ainua_credential());
  cred->headers();  // warm-up: the one time a caller waits on the network
  SteadyFigures ours = steady(env, lifetimes, [&] { return cred->headers(); });
  int base_lifetimes = std::max(1, lifetimes / 4);
  MutexMapCache naive(*cred);
  naive.get();
  SteadyFigures base = steady(env, base_lifetimes, [&] { return naive.get(); });
  std::printf(
      "3. 8 threads, %d x 2 s lifetimes  headers(): max %.3f ms, p99.9 %.3f ms, %ld of %ld calls >= 1 ms, "
      "%d token requests, API saw %d expired token(s)\n",
      lifetimes, ours.max_ms, ours.p999_ms, ours.over_1ms, ours.calls, ours.token_requests, ours.expired);
  std::printf(
      "   baseline mutex map, %d lifetime(s): max %.3f ms, p99.9 %.3f ms, %ld of %ld calls >= 1 ms, "
      "%d token requests, API saw %d expired token(s)\n",
      base_lifetimes, base.max_ms, base.p999_ms, base.over_1ms, base.calls, base.token_requests, base.expired);
  std::printf("   target: max < 1 ms and 0 expired: %s\n", ours.max_ms < 1.0 && ours.expired == 0 ? "met" : "MISSED");
  require(ours.calls > 0 && ours.token_requests >= 1,
          "steady state: headers() served no call or made no token request");
  env.emu->reset();
}

void many_credentials(bench::BenchEnv &env, int n) {
  env.emu->reset();
  const std::string dir = env.dir + "/creds";
  std::filesystem::create_directories(dir);
  std::string script = "set -e\n";
  const std::string origin = env.emu->origin() + "/nexla-api";
  for (int i = 0; i < n; ++i) {
    const std::string user = std::to_string(1000 + i), key = "bench-service-key-" + user;
    env.emu->add_client("nexla", user, key);
    std::ofstream(dir + "/cred-" + user + ".json")
        << R"({"api_url":")" << origin << R"(","service_key":")" << key << "\"}\n";
    // The same two requests with curl: the session token, then /users/current.
    script += "t=$(curl -sf --cacert " + env.pki.ca_cert + " -X POST --data '' -H 'Authorization: Basic " + key +
              "' -H 'Accept: application/vnd.nexla.api.v1+json' " + origin +
              "/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n"
              "curl -sf -o /dev/null --cacert " +
              env.pki.ca_cert +
              " -H \"Authorization: Bearer $t\" "
              "-H 'Accept: application/vnd.nexla.api.v1+json' " +
              origin + "/users/current\n";
  }
  std::ofstream(env.dir + "/curl.sh") << script;
  int rc = 0;
  const double ours = run_ms({CREDPLUG_CLI, "--ca-file", env.pki.ca_cert, "test", "nexla", dir, "--jobs", "8"}, &rc);
  const int ours_requests = env.emu->count("nexla.token") + env.emu->count("nexla.api");
  env.emu->reset();
  int curl_rc = 0;
  const double curl = run_ms({"/bin/bash", env.dir + "/curl.sh"}, &curl_rc);
  const int curl_requests = env.emu->count("nexla.token") + env.emu->count("nexla.api");
  std::printf(
      "4. test %d credentials          credplug --jobs 8: %.0f ms (%d requests, exit %d)   sequential curl: "
      "%.0f ms (%d requests, exit %d)   %.1fx faster %s\n",
      n, ours, ours_requests, rc, curl, curl_requests, curl_rc, curl / ours,
      curl / ours >= 10 ? "(target >= 10x: met)" : "(target >= 10x: MISSED)");
  require(rc == 0 && curl_rc == 0, "many credentials: credplug test or the curl baseline failed");
  require(ours_requests == 2 * n && curl_requests == 2 * n, "many credentials: not two requests per credential");
  env.emu->reset();
}

void process_start(int runs) {
  std::vector<double> ours, floor;
  for (int i = 0; i < runs; ++i) {
    int rc = 0, curl_rc = 0;
    floor.push_back(run_ms({"/usr/bin/curl", "--version"}, &curl_rc));
    ours.push_back(run_ms({CREDPLUG_CLI, "plugins"}, &rc));
    require(rc == 0 && curl_rc == 0, "process start: credplug plugins or curl --version failed");
  }
  const double a = median(ours), b = median(floor);
  std::printf("5. process start (median of %d)  credplug plugins: %.2f ms   curl --version: %.2f ms   %.2fx %s\n", runs,
              a, b, a / b, a / b <= 3 ? "(target <= 3x: met)" : "(target <= 3x: MISSED)");
}

struct CliRun {
  double ms = 0;
  int exit_code = 0;
  long requests = -1, connections = -1;  // from the summary line
};

CliRun cli_test(const std::vector<std::string> &argv) {
  CliRun run;
  auto t0 = Clock::now();
  auto r = testing::run_process(argv);
  run.ms = ms_between(t0, Clock::now());
  run.exit_code = r.exit_code;
  const std::string marker = " HTTPS request(s) over ";
  if (size_t at = r.out.find(marker); at != std::string::npos) {
    size_t start = r.out.rfind(' ', at - 1) + 1;
    run.requests = std::stol(r.out.substr(start, at - start));
    run.connections = std::stol(r.out.substr(at + marker.size()));
  }
  if (r.exit_code != 0)
    std::fprintf(stderr, "  credplug test exited %d: %s\n", r.exit_code, r.err.substr(0, 300).c_str());
  return run;
}

void connection_pool(bench::BenchEnv &env, int n) {
  env.emu->reset();
  const std::string dir = env.dir + "/pool";
  std::filesystem::create_directories(dir);
  std::vector<std::string> python{"/usr/bin/python3", std::string(CREDPLUG_BENCH_DIR) + "/python_pool_baseline.py",
                                  env.dir + "/bundle.pem", env.emu->origin(), "8"};
  for (int i = 0; i < n; ++i) {
    const std::string id = "pool-client-" + std::to_string(i), secret = "pool-secret-" + std::to_string(i);
    env.emu->add_client("ainua", id, secret);
    const std::string file = dir + "/cred-" + std::to_string(i) + ".json";
    std::ofstream(file) << R"({"ainua_url":"localhost:)" << env.emu->port() << R"(","client_id":")" << id
                        << R"(","client_secret":")" << secret
                        << R"(","test_request_method":"PATCH","test_request_path":"/api/integrations/v1/items"})";
    python.push_back(file);
  }
  {  // the system CA store (~145 certificates) plus the test CA
    std::ifstream system("/etc/ssl/certs/ca-certificates.crt"), test_ca(env.pki.ca_cert);
    std::ofstream bundle(env.dir + "/bundle.pem");
    bundle << system.rdbuf() << test_ca.rdbuf();
  }
  for (int latency : {0, 5}) {
    env.emu->switches("ainua").delay_ms = latency;
    auto cli = [&](const char *jobs) {
      return cli_test({CREDPLUG_CLI, "--ca-file", env.dir + "/bundle.pem", "test", "ainua", dir, "--jobs", jobs});
    };
    CliRun eight = cli("8"), one = cli("1");
    auto t0 = Clock::now();
    auto py = testing::run_process(python);
    const double py_ms = ms_between(t0, Clock::now());
    const bool py_ok = py.exit_code == 0 && py.out.find("\"failed\": 0") != std::string::npos;
    if (!py_ok)
      std::fprintf(stderr, "  python baseline: exit %d %s %s\n", py.exit_code, py.out.c_str(),
                   py.err.substr(0, 400).c_str());
    std::printf(
        "6. test %d credentials, system CA bundle + test CA, %d ms per request\n"
        "   credplug --jobs 8: %.0f ms (%ld requests over %ld connections)   --jobs 1: %.0f ms (%ld over %ld)   "
        "python pool of 8 (requests + authlib): %.0f ms\n"
        "   targets: --jobs 8 no slower than --jobs 1: %s; >= 3x faster than python (%.1fx): %s; "
        "connections <= 8: %s\n",
        n, latency, eight.ms, eight.requests, eight.connections, one.ms, one.requests, one.connections, py_ms,
        eight.ms <= one.ms ? "met" : "MISSED", py_ms / eight.ms, py_ms / eight.ms >= 3 ? "met" : "MISSED",
        eight.connections >= 1 && eight.connections <= 8 ? "met" : "MISSED");
    require(eight.exit_code == 0 && one.exit_code == 0, "connection pool: credplug test failed");
    require(eight.requests == 2L * n && one.requests == 2L * n, "connection pool: not two requests per credential");
    require(py_ok, "connection pool: the python baseline failed");
  }
  env.emu->reset();
}

}  // namespace

int main(int argc, char **argv) {
  int lifetimes = 20, credentials = 200, runs = 20;
  bench::read_flags(argc, argv, {{"--lifetimes", &lifetimes}, {"--credentials", &credentials}, {"--runs", &runs}});
  bench::BenchEnv env;
  single_flight(env);
  steady_state(env, lifetimes);
  many_credentials(env, credentials);
  process_start(runs);
  connection_pool(env, credentials);
  return bench::failures() == 0 ? 0 : 1;
}
