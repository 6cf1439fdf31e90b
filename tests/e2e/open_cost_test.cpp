// Issue 23, item 5: an open credential costs at most 1 KiB of the
// embedder's heap before its first token. What a token request needs (the
// token cache, its locks) is made at the first one; the plugin's instance
// lives in its runner. Counted as memory_bench counts it (benchmark 13):
// the heap in use (mallinfo2, after malloc_trim), which a sanitizer's
// allocator does not keep.
#include "fixture.hpp"

#include <doctest/doctest.h>

#include <malloc.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace credplug;
using namespace credplug::testing;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kHeapCounted = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kHeapCounted = false;
#else
constexpr bool kHeapCounted = true;
#endif
#else
constexpr bool kHeapCounted = true;
#endif

size_t heap_in_use() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

// Distinct accounts of the size memory_bench opens; none is ever used.
std::string account(int i) {
  return R"({"ainua_url":"localhost:4443","client_id":"open-)" + std::to_string(i) + R"(","client_secret":"secret-)" +
         std::to_string(i) + R"("})";
}

}  // namespace

TEST_CASE("an open credential costs at most 1 KiB of this process's heap before its first token (isolated)") {
  if (!kHeapCounted) {
    MESSAGE("skipped: a sanitizer's allocator keeps the heap; mallinfo2 does not count it");
    return;
  }
  HostOptions options = E2E::get().host_options();
  options.isolation = Isolation::Process;
  Host host(options);
  std::vector<std::unique_ptr<Credential>> open;
  const int n = 500;
  open.reserve(n + 1);
  open.push_back(host.open("ainua", account(n)));  // the plugin loaded, its runner started
  const size_t before = heap_in_use();
  for (int i = 0; i < n; ++i) open.push_back(host.open("ainua", account(i)));
  const double each = double(heap_in_use() - before) / n;
  INFO("bytes per open credential: " << each);
  CHECK(each <= 1024);
}

TEST_CASE("a credential not used yet has no token cache: idle, invalidated, closed, then used") {
  Host host(E2E::get().host_options());
  auto idle = host.open("ainua", E2E::get().ainua_credential());
  auto gauge = [&] {
    std::map<CredentialState, uint64_t> out;
    for (const auto &c : host.metrics().credentials)
      if (c.plugin == "ainua") out = c.by_state;
    return out;
  };
  CHECK(gauge()[CredentialState::Idle] == 1);  // read without making its cache
  CHECK(gauge()[CredentialState::Ok] == 0);
  idle->invalidate();  // nothing to drop, nothing made
  CHECK(gauge()[CredentialState::Idle] == 1);
  auto never_used = host.open("ainua", E2E::get().ainua_credential(R"("scope":"never-used")"));
  never_used.reset();  // closed before any token: nothing to stop
  CHECK(idle->cache_status().generation == 0);
  CHECK(!idle->headers()->headers.empty());
  CHECK(gauge()[CredentialState::Ok] == 1);
}
