// What an operator sees of credentials in trouble, against the emulator: a
// rejected credential and a provider outage with retries, logged at the
// default level (warn) with the plugin and the credential's label; JSON
// lines for a log shipper; Credential::status() and the metrics' gauge of
// credentials by state following each change; and no secret anywhere.
#include "fixture.hpp"

#include <credplug/plugin.h>
#include <credplug/host_json.hpp>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <mutex>

using namespace credplug;
using namespace credplug::testing;

namespace {

// Every line a Host logs, kept for the test to read.
struct Lines {
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> lines;
  LogSink sink() {
    return [this](int level, const std::string &m) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.emplace_back(level, m);
    };
  }
  // The lines holding every one of `parts`.
  std::vector<std::pair<int, std::string>> with(const std::vector<std::string> &parts) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::pair<int, std::string>> out;
    for (const auto &line : lines) {
      bool all = true;
      for (const auto &p : parts) all = all && contains(line.second, p);
      if (all) out.push_back(line);
    }
    return out;
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string out;
    for (const auto &line : lines) out += line.second + "\n";
    return out;
  }
};

std::map<CredentialState, uint64_t> states_of(Host &host, const std::string &plugin) {
  for (const auto &p : host.metrics().credentials)
    if (p.plugin == plugin) return p.by_state;
  return {};
}

const std::string kWrongSecret = "CANARY-wrong-ainua-secret-do-not-print";

}  // namespace

TEST_CASE("operators see a rejected credential and an outage at the default level, by label; status and gauge follow") {
  auto &env = E2E::get();
  env.reset();
  Lines log;
  HostOptions options = env.host_options();
  options.log = log.sink();  // at the default level: warn
  REQUIRE(options.log_level == CREDPLUG_LOG_WARN);
  options.cache.backoff_initial_ms = 50;
  options.cache.max_attempts = 2;
  Host host(options);
  auto good = host.open("ainua", env.ainua_credential(), OpenOptions{"tenant-good", {}, {}, {}});
  auto bad = host.open("ainua", env.ainua_credential("", kWrongSecret), OpenOptions{"tenant-bad", {}, {}, {}});
  CHECK(good->label() == "tenant-good");
  CHECK(good->status().state == CredentialState::Idle);
  CHECK(states_of(host, "ainua")[CredentialState::Idle] == 2);

  auto first = good->headers();
  CredentialStatus s = good->status();
  CHECK(s.state == CredentialState::Ok);
  CHECK(s.label == "tenant-good");
  CHECK(s.plugin_id == "ainua");
  CHECK(s.has_token);
  CHECK(s.expires_at == first->expires_at);
  REQUIRE(s.last_success_ms.has_value());
  CHECK(log.with({"tenant-good"}).empty());  // a first token is info: not shown at warn

  // The credential is refused: an error line, held, state rejected.
  CHECK_THROWS_AS(bad->headers(), Error);
  auto refused = log.with({"[ainua 'tenant-bad'] token request refused (credentials rejected)"});
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].first == CREDPLUG_LOG_ERROR);
  CHECK(contains(refused[0].second, "not retried for 60.0 s, or until invalidate()"));
  s = bad->status();
  CHECK(s.state == CredentialState::Rejected);
  CHECK(s.last_error_kind == ErrorKind::Rejected);
  CHECK(s.next_attempt_ms.has_value());
  CHECK_FALSE(s.last_success_ms.has_value());
  CHECK_THROWS_AS(bad->headers(), Error);  // held: refused again without a request, and without a line
  CHECK(log.with({"tenant-bad"}).size() == 1);
  CHECK(host.metrics().refused == 1);

  // The provider goes down: each attempt is a warning with its retry schedule.
  env.emu->switches("ainua").fail_status = 503;
  good->invalidate(*first);  // the next headers() must ask
  CHECK_THROWS_AS(good->headers(), Error);
  auto retrying =
      log.with({"[ainua 'tenant-good'] token request failed (1 failure in a row)", "HTTP 503", "retrying in"});
  auto given_up = log.with({"[ainua 'tenant-good'] token request failed (2 failures in a row)", "HTTP 503",
                            "the next attempt is in", "on a headers() call", "no valid token until then"});
  REQUIRE(retrying.size() == 1);
  REQUIRE(given_up.size() == 1);
  CHECK(retrying[0].first == CREDPLUG_LOG_WARN);
  s = good->status();
  CHECK(s.state == CredentialState::Failing);
  CHECK(s.consecutive_failures == 2);
  CHECK(s.last_error_kind == ErrorKind::Provider);
  CHECK(contains(s.last_error, "503"));
  CHECK(s.failing_since_ms.has_value());
  CHECK(s.next_attempt_ms.has_value());
  auto gauge = states_of(host, "ainua");
  CHECK(gauge[CredentialState::Failing] == 1);
  CHECK(gauge[CredentialState::Rejected] == 1);
  CHECK(
      contains(json::metrics_prometheus(host.metrics()), "credplug_credentials{plugin=\"ainua\",state=\"failing\"} 1"));

  // It comes back: the recovery is a warning too, closing what the failures opened.
  env.emu->switches("ainua").fail_status = 0;
  REQUIRE(eventually([&] {
    try {
      return good->headers()->generation == 2;
    } catch (const Error &) {
      return false;
    }
  }));
  auto recovered = log.with({"[ainua 'tenant-good'] recovered: a new token after 2 failed token requests over"});
  REQUIRE(recovered.size() == 1);
  CHECK(recovered[0].first == CREDPLUG_LOG_WARN);
  s = good->status();
  CHECK(s.state == CredentialState::Ok);
  CHECK(s.last_error.empty());
  CHECK_FALSE(s.failing_since_ms.has_value());
  gauge = states_of(host, "ainua");
  CHECK(gauge[CredentialState::Ok] == 1);
  CHECK(gauge[CredentialState::Failing] == 0);

  const std::string everything = log.all();
  for (const auto &secret : kSecrets) CHECK_FALSE(contains(everything, secret));
  CHECK_FALSE(contains(everything, kWrongSecret));
  CHECK_FALSE(contains(everything, std::string(first->find("Authorization")->value.view())));
  env.reset();
}

TEST_CASE("operators: JSON lines carry the plugin, the label, the event, its figures and the state it leaves") {
  auto &env = E2E::get();
  env.reset();
  Lines log;
  HostOptions options = env.host_options();
  options.log = log.sink();
  options.log_level = CREDPLUG_LOG_INFO;
  options.log_format = LogFormat::JsonLines;
  options.cache.max_attempts = 1;
  Host host(options);
  auto cred = host.open("ainua", env.ainua_credential(), OpenOptions{"tenant \"7\"", {}, {}, {}});
  auto first = cred->headers();
  env.emu->switches("ainua").fail_status = 503;
  env.emu->switches("ainua").retry_after_s = 9;
  cred->invalidate(*first);
  CHECK_THROWS_AS(cred->headers(), Error);
  env.emu->switches("ainua").fail_status = 0;
  env.emu->switches("ainua").retry_after_s = 0;

  std::map<std::string, rapidjson::Document> by_event;
  for (const auto &line : log.with({"\"plugin\":\"ainua\""})) {
    CHECK(line.second.find('\n') == std::string::npos);
    rapidjson::Document doc;
    REQUIRE_FALSE(doc.Parse(line.second.c_str()).HasParseError());
    REQUIRE(doc.IsObject());
    CHECK(doc["credential"].GetString() == std::string("tenant \"7\""));
    CHECK(doc.HasMember("time"));
    CHECK(doc.HasMember("message"));
    by_event[doc["event"].GetString()] = std::move(doc);
  }
  REQUIRE(by_event.count("token_obtained") == 1);
  CHECK(by_event["token_obtained"]["level"].GetString() == std::string("info"));
  CHECK(by_event["token_obtained"]["generation"].GetInt() == 1);
  CHECK(by_event["token_obtained"]["state"].GetString() == std::string("ok"));
  REQUIRE(by_event.count("token_refused_by_api") == 1);
  REQUIRE(by_event.count("token_request_failed") == 1);
  const auto &failed = by_event["token_request_failed"];
  CHECK(failed["level"].GetString() == std::string("warn"));
  CHECK(failed["kind"].GetString() == std::string("provider"));
  CHECK(failed["state"].GetString() == std::string("failing"));
  CHECK(failed["failures"].GetInt() == 1);
  CHECK(failed["retry_in_ms"].GetInt64() >= 9000);  // the server's Retry-After
  CHECK(contains(failed["next_attempt_at"].GetString(), "Z"));
  CHECK(contains(failed["message"].GetString(), "HTTP 503"));
  CHECK(contains(json::credential_status_json(cred->status()), "\"state\":\"failing\""));
  env.reset();
}

TEST_CASE("operators: a label is part of the credential's identity, and must be printable") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto a = host.open("ainua", env.ainua_credential(), OpenOptions{"tenant-a", {}, {}, {}});
  auto a_again = host.open("ainua", env.ainua_credential(), OpenOptions{"tenant-a", {}, {}, {}});
  auto b = host.open("ainua", env.ainua_credential(), OpenOptions{"tenant-b", {}, {}, {}});
  CHECK(a->headers()->generation == 1);
  CHECK(a_again->cache_status().generation == 1);  // one credential: one token
  CHECK(b->cache_status().generation == 0);        // another tenant's: its own
  for (const std::string &label : {std::string(129, 'x'), std::string("a\nb"), std::string("\x1b[31mred")}) {
    try {
      host.open("ainua", env.ainua_credential(), OpenOptions{label, {}, {}, {}});
      FAIL("a bad label was taken");
    } catch (const Error &e) {
      CHECK(e.kind() == ErrorKind::InvalidInput);
      CHECK(contains(e.what(), "label"));
    }
  }
}
