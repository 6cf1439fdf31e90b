// Benchmark 1: Credential::headers() on a cached, fresh token, at 1 to 8
// threads, beside the obvious alternative measured in the same run: a map of
// tokens behind one mutex (lock, find, copy the shared_ptr, unlock). The C
// API's credplug_headers_get() is measured too, its handle's allocation and
// release counted.
// Target (issue 23): <= 10 ns/op on one thread, flat with threads, and
// faster than the map at every thread count.
#include "bench_env.hpp"
#include "c_host.hpp"

#include "smoke_checks.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <mutex>
#include <stdexcept>

namespace {

using namespace credplug;

struct Fixture {
  bench::BenchEnv env;
  Host host{env.host_options()};
  std::unique_ptr<Credential> credential = host.open("ainua", env.ainua_credential());
  HeadersPtr token = credential->headers();  // warm: the token is cached from here on
  std::mutex map_mutex;
  std::map<std::string, HeadersPtr> map{{"ainua/bench-client", token}};
  // The same credential through the C API, its token cached.
  credplug_host *c_host = nullptr;
  credplug_credential *c_credential = nullptr;

  Fixture() {
    c_host = bench::new_c_host(env.pki.ca_cert);
    const std::string json = env.ainua_credential();
    credplug_headers *h = nullptr;
    if (c_host == nullptr ||
        credplug_open(c_host, "ainua", json.data(), json.size(), &c_credential, nullptr) != CREDPLUG_HOST_OK ||
        credplug_headers_get(c_credential, &h, nullptr) != CREDPLUG_HOST_OK)
      throw std::runtime_error("the C API could not open the bench credential");
    credplug_headers_release(h);
  }
  ~Fixture() {
    credplug_credential_free(c_credential);
    credplug_host_free(c_host);
  }
};

Fixture &fixture() {
  static Fixture f;
  return f;
}

// Each loop checks what it got as cheaply as the map's loop does (a
// pointer); what the headers hold is checked once, before.
void Headers(benchmark::State &state) {
  Credential &c = *fixture().credential;
  bench::check(state, c.headers()->headers.at(0).name == "Authorization", "headers() lost the Authorization header");
  for (auto _ : state) {
    HeadersPtr h = c.headers();
    if (!bench::check(state, h != nullptr, "headers() returned nothing")) break;
  }
}

// headers_view(): the thread's own copy, no reference counted.
void HeadersView(benchmark::State &state) {
  Credential &c = *fixture().credential;
  bench::check(state, c.headers_view().headers.at(0).name == "Authorization", "headers_view() lost the header");
  for (auto _ : state) {
    const HeaderSet &h = c.headers_view();
    if (!bench::check(state, !h.headers.empty(), "headers_view() returned no header")) break;
  }
}

// The C API: a handle per call, released.
void Headers_C(benchmark::State &state) {
  credplug_credential *c = fixture().c_credential;
  for (auto _ : state) {
    credplug_headers *h = nullptr;
    const int32_t rc = credplug_headers_get(c, &h, nullptr);
    const bool ok = rc == CREDPLUG_HOST_OK && credplug_headers_count(h) > 0;
    credplug_headers_release(h);
    if (!bench::check(state, ok, "credplug_headers_get() did not return the header")) break;
  }
}

// The C API without a handle to release: the thread's borrowed one.
void HeadersBorrow_C(benchmark::State &state) {
  credplug_credential *c = fixture().c_credential;
  for (auto _ : state) {
    const credplug_headers *h = nullptr;
    const int32_t rc = credplug_headers_borrow(c, &h, nullptr);
    if (!bench::check(state, rc == CREDPLUG_HOST_OK && h != nullptr, "credplug_headers_borrow() failed")) break;
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

BENCHMARK(Baseline_MutexMap)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(Headers)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(HeadersView)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(Headers_C)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(HeadersBorrow_C)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();
CREDPLUG_BENCHMARK_MAIN()
