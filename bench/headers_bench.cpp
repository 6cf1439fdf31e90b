// Benchmark 1: Credential::headers() on a cached, fresh token, at 1 and 2
// threads, beside the obvious alternative measured in the same run: a map of
// tokens behind one mutex (lock, find, copy the shared_ptr, unlock).
// Target: <= 100 ns/op single-threaded and no slowdown with 2 threads.
#include "bench_env.hpp"

#include "smoke_checks.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <mutex>

namespace {

using namespace credplug;

struct Fixture {
  bench::BenchEnv env;
  Host host{env.host_options()};
  std::unique_ptr<Credential> credential = host.open("ainua", env.ainua_credential());
  HeadersPtr token = credential->headers();  // warm: the token is cached from here on
  std::mutex map_mutex;
  std::map<std::string, HeadersPtr> map{{"ainua/bench-client", token}};
};

Fixture &fixture() {
  static Fixture f;
  return f;
}

void Headers(benchmark::State &state) {
  Credential &c = *fixture().credential;
  for (auto _ : state) {
    HeadersPtr h = c.headers();
    if (!bench::check(state, h && !h->headers.empty() && h->headers[0].name == "Authorization",
                      "headers() did not return the Authorization header"))
      break;
  }
}

void Baseline_MutexMap(benchmark::State &state) {
  Fixture &f = fixture();
  const std::string key = "ainua/bench-client";
  for (auto _ : state) {
    HeadersPtr h;
    {
      std::lock_guard<std::mutex> lock(f.map_mutex);
      h = f.map.find(key)->second;
    }
    if (!bench::check(state, h != nullptr, "the map lost its token")) break;
  }
}

}  // namespace

BENCHMARK(Baseline_MutexMap)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(Headers)->Threads(1)->Threads(2)->UseRealTime();
CREDPLUG_BENCHMARK_MAIN()
