// Every provider under every emulator switch: a failing, rate-limiting,
// garbled or slow provider is reported with the right exit code, and no
// secret leaks on any of these paths.
#include "fixture.hpp"

#include <doctest/doctest.h>

using namespace credplug::testing;

namespace {
struct Provider {
  std::string id, credential;
};
std::vector<Provider> providers() {
  auto &env = E2E::get();
  return {{"ainua", env.ainua_credential()},
          {"avni", env.avni_credential(R"("token_flow":"avni_password","username":"field.worker","password":")" +
                                       kAvniPassword + "\"")},
          {"avonhealth", env.avon_credential()},
          {"nexla", env.nexla_credential()},
          {"opencrvs", env.opencrvs_credential()}};
}
}  // namespace

TEST_CASE("every provider: 500, 503, 429 with Retry-After, non-JSON and truncated JSON exit 6; slow exits 5") {
  auto &env = E2E::get();
  for (const auto &p : providers()) {
    INFO("provider " << p.id);
    std::string file = env.write("switch-" + p.id + ".json", p.credential);
    env.reset();
    CHECK(env.trusted({"test", p.id, file}).exit_code == 0);
    auto &sw = env.emu->switches(p.id);
    for (int status : {500, 503, 429}) {
      env.reset();
      sw.fail_status = status;
      sw.retry_after_s = 9;
      auto r = env.trusted({"test", p.id, file});
      CHECK(r.exit_code == 6);
      CHECK(contains(r.err, "HTTP " + std::to_string(status)));
      if (status != 500) CHECK(contains(r.err, "retry after 9 s"));
    }
    env.reset();
    sw.malformed = true;
    CHECK(env.trusted({"test", p.id, file}).exit_code == 6);
    env.reset();
    sw.truncated = true;
    CHECK(env.trusted({"test", p.id, file}).exit_code == 6);
    env.reset();
    sw.delay_ms = 800;
    auto slow = env.trusted({"--timeout", "200", "test", p.id, file});
    CHECK(slow.exit_code == 5);
    CHECK(contains(slow.err, "no answer from"));
    env.reset();
  }
}
