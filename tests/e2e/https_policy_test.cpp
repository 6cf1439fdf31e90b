// The host's HTTPS policy against a real TLS server: size cap, redirects,
// certificate trust.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <credplug/plugin.h>
#include <doctest/doctest.h>

using namespace credplug;
using namespace credplug::testing;

namespace {
host::HttpsClient trusting(const std::string &ca, size_t cap = 1 << 20) {
  host::HttpOptions o;
  o.ca_file = ca;
  o.max_response_bytes = cap;
  return host::HttpsClient(o);
}
host::HttpRequestSpec get(const std::string &path) {
  host::HttpRequestSpec spec;
  spec.url = E2E::get().emu->origin() + path;
  spec.headers.emplace_back("AUTH-TOKEN", kit::SecretString(std::string("custom-secret-header")));
  return spec;
}
}  // namespace

TEST_CASE("responses over the size cap are refused, under it delivered") {
  auto &env = E2E::get();
  auto client = trusting(env.pki.ca_cert, size_t{64} * 1024);
  auto small = client.send(get("/_emulator/bytes?n=1000"));
  CHECK(small.status == 200);
  CHECK(small.body.size() == 1000);
  auto big = client.send(get("/_emulator/bytes?n=2000000"));
  CHECK(big.status == 0);
  CHECK(big.error_code == CREDPLUG_ERR_NETWORK);
  CHECK(contains(big.error, "larger than the 65536-byte limit"));
}

TEST_CASE("redirects are followed only to the same https origin") {
  auto &env = E2E::get();
  env.reset();
  auto client = trusting(env.pki.ca_cert);
  auto same = client.send(get("/_emulator/redirect?to=/_emulator/echo-headers"));
  CHECK(same.status == 200);
  CHECK(contains(same.body.reveal(), "custom-secret-header"));

  // 127.0.0.1 is another origin than localhost: a custom secret header
  // must not follow the redirect there.
  std::string other = "https://127.0.0.1:" + std::to_string(env.emu->port()) + "/_emulator/echo-headers";
  auto cross = client.send(get("/_emulator/redirect?to=" + other));
  CHECK(cross.status == 302);
  auto to_http = client.send(get("/_emulator/redirect?to=http://localhost:" + std::to_string(env.emu->port()) + "/x"));
  CHECK(to_http.status == 302);
  CHECK(env.emu->count("_emulator.echo") == 1);  // only the same-origin hop reached it
}

TEST_CASE("a certificate from an untrusted CA is refused; verification is always on") {
  auto &env = E2E::get();
  auto wrong_ca = trusting(env.other_pki.ca_cert).send(get("/_emulator/bytes?n=1"));
  CHECK(wrong_ca.status == 0);
  CHECK(contains(wrong_ca.error, "TLS verification failed"));
  auto system_store = trusting("").send(get("/_emulator/bytes?n=1"));
  CHECK(system_store.status == 0);
  CHECK(contains(system_store.error, "pass --ca-file or set CREDPLUG_CA_FILE"));
}

TEST_CASE("an unreachable host is a network error naming the URL") {
  auto client = trusting(E2E::get().pki.ca_cert);
  host::HttpRequestSpec spec;
  spec.url = "https://localhost:" + std::to_string(closed_port()) + "/token?client_secret=" + kCanary;
  auto r = client.send(spec);
  CHECK(r.error_code == CREDPLUG_ERR_NETWORK);
  CHECK(contains(r.error, "cannot connect to https://localhost:"));
  CHECK_FALSE(contains(r.error, kCanary));  // query values are never shown
}
