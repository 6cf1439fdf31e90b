// The ABI contract, from the host's side: negotiation, old and broken
// plugins, and everything a plugin can do wrong at the boundary.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <credplug/plugin.h>
#include <credplug/host.hpp>

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <support/process.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

using namespace credplug;

namespace {

const std::string kCanary = "CANARY-misbehaving-secret-7f3a";

struct Fixture {
  std::vector<std::string> logs;
  Host host;
  Fixture() : host(options()) {}
  HostOptions options() {
    HostOptions o;
    o.plugin_dirs = {CREDPLUG_ABI_PLUGIN_DIR};
    o.use_environment = false;
    o.use_default_dir = false;
    o.log_level = 3;
    o.log = [this](int, const std::string &m) { logs.push_back(m); };
    // ctest runs this suite once per isolation mode (abi, abi_in_process).
    if (const char *mode = std::getenv("CREDPLUG_ISOLATION"); mode && *mode) o.isolation = parse_isolation(mode);
    return o;
  }
  std::map<std::string, std::string> problems() {
    std::map<std::string, std::string> out;
    for (const auto &p : host.problems()) out[p.path.substr(p.path.rfind('/') + 1)] = p.message;
    return out;
  }
  std::string credential(const std::string &mode) {
    return R"({"mode":")" + mode + R"(","secret":")" + kCanary + "\"}";
  }
};

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

// struct_layout.c, built against each frozen header and the current one.
#define CREDPLUG_LAYOUT(name)                                                                             \
  extern "C" const size_t name##_plugin[], name##_plugin_count, name##_host_api[], name##_host_api_count, \
      name##_other[], name##_other_count;
CREDPLUG_LAYOUT(credplug_minor0)
CREDPLUG_LAYOUT(credplug_minor1)
CREDPLUG_LAYOUT(credplug_minor2)
CREDPLUG_LAYOUT(credplug_minor3)
CREDPLUG_LAYOUT(credplug_minor4)
CREDPLUG_LAYOUT(credplug_current)

namespace {

ErrorKind kind_of_failure(const std::function<void()> &f, std::string &message) {
  try {
    f();
  } catch (const Error &e) {
    message = e.what();
    return e.kind();
  }
  FAIL("expected an Error");
  return ErrorKind::Plugin;
}

}  // namespace

TEST_CASE("a plugin built with an older, smaller descriptor loads and works") {
  Fixture f;
  PluginInfo info = f.host.plugin("old-descriptor");
  CHECK(info.abi_major == 1);
  CHECK(info.abi_minor == 0);
  CHECK_FALSE(info.has_test);  // `test` lies beyond its struct_size
  auto cred = f.host.open("old-descriptor", "{}");
  auto result = cred->test();  // must not call the garbage past struct_size
  CHECK_FALSE(result.has_test);
  REQUIRE(result.auth.headers.size() == 1);
  CHECK(result.auth.headers[0].name == "X-Abi-Test");
  cred.reset();  // no destroy() to call: must not crash either
}

TEST_CASE("incompatible plugins are refused with both versions named, before any other call") {
  Fixture f;
  auto problems = f.problems();
  const std::string ours = "ABI 1." + std::to_string(CREDPLUG_ABI_MINOR);
  CHECK(contains(problems["credplug-newer-minor.so"],
                 "requires credplug.credential ABI 1.99; this host supports up to " + ours + " (upgrade credplug)"));
  CHECK(contains(problems["credplug-other-major.so"],
                 "implements credplug.credential ABI 2.3; this host speaks " + ours));
}

TEST_CASE("files that are not plugins are skipped with a reason, and their code never runs") {
  Fixture f;
  auto problems = f.problems();
  // no_entry's constructor calls abort(): reaching this line proves it never ran.
  CHECK(contains(problems["credplug-no-entry.so"],
                 "does not export credplug_get_interface(); define it with "
                 "CREDPLUG_EXPORT"));
  CHECK(contains(problems["credplug-mangled-entry.so"],
                 "exports credplug_get_interface() only under the C++ name '_Z22credplug_get_interface"));
  CHECK(contains(problems["credplug-not-elf.so"], "not a loadable shared library"));
}

TEST_CASE("broken descriptors are refused with the field named") {
  Fixture f;
  auto problems = f.problems();
  CHECK(contains(problems["credplug-null-create.so"], "has no create function"));
  CHECK(contains(problems["credplug-bad-schema.so"], "plugin 'bad-schema': the credential schema is not valid JSON"));
  // Issue 18: schemas that overflowed the host's stack or cost it 1.5 GB.
  CHECK(contains(problems["credplug-ref-cycle.so"],
                 "plugin 'ref-cycle': the schema's $ref at /properties/x: '#/properties/x' leads back"));
  CHECK(contains(problems["credplug-regex-bomb.so"], "expands to more than 10000 states"));
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  CHECK(usage.ru_maxrss < 1024 * 1024);  // KiB: compiled, the bomb alone took 1.5 GB
  CHECK(contains(problems["credplug-init-refuses.so"], "refused to initialise"));
  CHECK(contains(problems["credplug-no-init.so"],
                 "has no init function: without init() the plugin never receives the "
                 "host API"));
  std::string message;
  // Its file is named for it, so the lookup says why that file is unusable.
  CHECK(kind_of_failure([&] { f.host.plugin("null-create"); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "the plugin file for 'null-create'"));
  CHECK(contains(message, "has no create function"));
}

TEST_CASE("the good plugins in the same directory still load") {
  Fixture f;
  std::vector<std::string> ids;
  for (const auto &p : f.host.plugins()) ids.push_back(p.id);
  CHECK(ids == std::vector<std::string>{"huge-size", "lifecycle", "minor0", "minor1", "minor2", "minor3", "minor4",
                                        "misbehaving", "old-descriptor", "silent-failure", "state-counter"});
}

TEST_CASE("no exception crosses the boundary; each becomes a categorised error") {
  Fixture f;
  std::string message;
  auto std_throw = f.host.open("misbehaving", f.credential("throw_std"));
  CHECK(kind_of_failure([&] { std_throw->authenticate(); }, message) == ErrorKind::Plugin);
  CHECK(message == "internal error in the plugin: boom");

  auto unknown_throw = f.host.open("misbehaving", f.credential("throw_unknown"));
  CHECK(kind_of_failure([&] { unknown_throw->authenticate(); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "unknown exception"));

  auto rejects = f.host.open("misbehaving", f.credential("test_rejects"));
  CHECK(kind_of_failure([&] { rejects->test(); }, message) == ErrorKind::Rejected);
  CHECK(message == "the API refused the key");

  auto silent = f.host.open("silent-failure", "{}");
  CHECK(kind_of_failure([&] { silent->authenticate(); }, message) == ErrorKind::Provider);
  CHECK(contains(message, "failed with status 4 and gave no reason"));

  auto no_headers = f.host.open("misbehaving", f.credential("no_headers"));
  CHECK(kind_of_failure([&] { no_headers->authenticate(); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "produced no header"));
}

TEST_CASE("a secret a plugin puts in an error or a log is redacted by the host") {
  Fixture f;
  std::string message;
  auto leaky = f.host.open("misbehaving", f.credential("fail_with_secret"));
  CHECK(kind_of_failure([&] { leaky->authenticate(); }, message) == ErrorKind::Rejected);
  CHECK(message == "the server did not like [REDACTED]");

  auto logger = f.host.open("misbehaving", f.credential("log_secret"));
  logger->authenticate();
  bool seen = false;
  for (const auto &line : f.logs) {
    CHECK_FALSE(contains(line, kCanary));
    seen = seen || contains(line, "[misbehaving] about to use [REDACTED]");
  }
  CHECK(seen);
}

TEST_CASE("outputs carry the secret flag; secrets come back only where the caller needs them") {
  Fixture f;
  auto cred = f.host.open("misbehaving", f.credential("ok"));
  auto result = cred->test();
  REQUIRE(result.auth.headers.size() == 2);
  CHECK(result.auth.headers[0].name == "X-Key");
  CHECK(result.auth.headers[0].secret);
  CHECK(result.auth.headers[0].value.reveal() == kCanary);  // the platform must attach it
  CHECK_FALSE(result.auth.headers[1].secret);
  CHECK(result.auth.expires_at.has_value());
  CHECK(cred->redact("x " + kCanary + " y") == "x [REDACTED] y");
}

TEST_CASE("schema violations are refused before the plugin sees the credential") {
  Fixture f;
  std::string message;
  CHECK(kind_of_failure([&] { f.host.open("misbehaving", R"({"mode":"nope","secret":"x"})"); }, message) ==
        ErrorKind::InvalidInput);
  CHECK(contains(message, "'mode' (Mode) must be one of"));
}

namespace {

struct Layout {
  const size_t *values;
  size_t count;
};

// Every field of `frozen` is where `current` has it, and no struct shrank.
void check_appended_only(const char *what, Layout frozen, Layout current) {
  CAPTURE(what);
  REQUIRE(current.count >= frozen.count);
  CHECK(current.values[0] >= frozen.values[0]);  // the struct's size
  for (size_t i = 1; i < frozen.count; ++i) CHECK(current.values[i] == frozen.values[i]);
}

}  // namespace

#define CREDPLUG_LAYOUTS(name, part) \
  Layout { name##_##part, name##_##part##_count }

TEST_CASE("each minor only appended: every field of the minor-0 ... minor-4 headers keeps its offset") {
  check_appended_only("plugin, minor 0", CREDPLUG_LAYOUTS(credplug_minor0, plugin),
                      CREDPLUG_LAYOUTS(credplug_current, plugin));
  check_appended_only("plugin, minor 1", CREDPLUG_LAYOUTS(credplug_minor1, plugin),
                      CREDPLUG_LAYOUTS(credplug_current, plugin));
  check_appended_only("host API, minor 0", CREDPLUG_LAYOUTS(credplug_minor0, host_api),
                      CREDPLUG_LAYOUTS(credplug_current, host_api));
  check_appended_only("host API, minor 1", CREDPLUG_LAYOUTS(credplug_minor1, host_api),
                      CREDPLUG_LAYOUTS(credplug_current, host_api));
  check_appended_only("others, minor 0", CREDPLUG_LAYOUTS(credplug_minor0, other),
                      CREDPLUG_LAYOUTS(credplug_current, other));
  check_appended_only("others, minor 1", CREDPLUG_LAYOUTS(credplug_minor1, other),
                      CREDPLUG_LAYOUTS(credplug_current, other));
  check_appended_only("plugin, minor 2", CREDPLUG_LAYOUTS(credplug_minor2, plugin),
                      CREDPLUG_LAYOUTS(credplug_current, plugin));
  check_appended_only("host API, minor 2", CREDPLUG_LAYOUTS(credplug_minor2, host_api),
                      CREDPLUG_LAYOUTS(credplug_current, host_api));
  check_appended_only("others, minor 2", CREDPLUG_LAYOUTS(credplug_minor2, other),
                      CREDPLUG_LAYOUTS(credplug_current, other));
  check_appended_only("plugin, minor 3", CREDPLUG_LAYOUTS(credplug_minor3, plugin),
                      CREDPLUG_LAYOUTS(credplug_current, plugin));
  check_appended_only("host API, minor 3", CREDPLUG_LAYOUTS(credplug_minor3, host_api),
                      CREDPLUG_LAYOUTS(credplug_current, host_api));
  check_appended_only("others, minor 3", CREDPLUG_LAYOUTS(credplug_minor3, other),
                      CREDPLUG_LAYOUTS(credplug_current, other));
  check_appended_only("plugin, minor 4", CREDPLUG_LAYOUTS(credplug_minor4, plugin),
                      CREDPLUG_LAYOUTS(credplug_current, plugin));
  check_appended_only("host API, minor 4", CREDPLUG_LAYOUTS(credplug_minor4, host_api),
                      CREDPLUG_LAYOUTS(credplug_current, host_api));
  check_appended_only("others, minor 4", CREDPLUG_LAYOUTS(credplug_minor4, other),
                      CREDPLUG_LAYOUTS(credplug_current, other));
  // What each minor added, where it was added: right after the previous end.
  CHECK(credplug_minor1_plugin[0] > credplug_minor0_plugin[0]);         // refresh, default_token_lifetime_s
  CHECK(credplug_current_plugin[14] == credplug_minor0_plugin[0]);      // refresh
  CHECK(credplug_minor1_host_api[0] == credplug_minor0_host_api[0]);    // minor 1 added no service
  CHECK(credplug_minor2_host_api[0] > credplug_minor1_host_api[0]);     // minor 2's helpers
  CHECK(credplug_current_host_api[15] == credplug_minor1_host_api[0]);  // json_string
  CHECK(credplug_minor2_plugin[0] == credplug_minor1_plugin[0]);        // minor 2 left the descriptor alone
  CHECK(credplug_minor3_plugin[0] > credplug_minor2_plugin[0]);         // minor 3: sign
  CHECK(credplug_minor3_plugin[16] == credplug_minor2_plugin[0]);       // sign, right after the minor-2 end
  CHECK(credplug_minor3_host_api[22] == credplug_minor2_host_api[0]);   // out_query, right after oauth2_token
  CHECK(credplug_minor3_other[0] > credplug_minor2_other[0]);           // the request's client certificate
  CHECK(credplug_minor4_plugin[0] > credplug_minor3_plugin[0]);         // minor 4: authorize
  CHECK(credplug_minor4_plugin[17] == credplug_minor3_plugin[0]);       // authorize, right after sign
  CHECK(credplug_minor4_host_api[0] > credplug_minor3_host_api[0]);     // minor 4: state, out_state
  CHECK(credplug_minor4_host_api[30] == credplug_minor3_host_api[0]);   // state, right after jwt_sign
  CHECK(credplug_minor4_other[0] == credplug_minor3_other[0]);          // the request alone
  CHECK(credplug_current_plugin[0] > credplug_minor4_plugin[0]);        // minor 5: revoke
  CHECK(credplug_current_plugin[18] == credplug_minor4_plugin[0]);      // revoke, right after authorize
  CHECK(credplug_current_host_api[0] == credplug_minor4_host_api[0]);   // minor 5 added no service
  CHECK(credplug_current_other[0] == credplug_minor4_other[0]);
}

TEST_CASE(
    "a plugin built against the minor-3 header loads in a minor-4 host: its crypto, sign() and never-expiring "
    "headers") {
  HostOptions options = Fixture().options();
  options.log = nullptr;
  Host host(options);
  PluginInfo info = host.plugin("minor3");
  CHECK(info.abi_minor == 3);
  CHECK(info.signs_requests);
  auto cred = host.open("minor3", R"({"name": "abc"})");
  auto headers = cred->headers();
  REQUIRE(headers->find("X-Minor3-Digest") != nullptr);
  CHECK(headers->find("X-Minor3-Digest")->value.reveal() ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // SHA-256("abc")
  CHECK(headers->never_expires);
  RequestToSign request;
  request.method = "PUT";
  request.url = "https://example.com/x";
  SignedRequest signed_request = cred->sign(request);
  bool found = false;
  for (const auto &h : signed_request.headers)
    found = found || (h.name == "X-Minor3-Signed" && h.value.reveal() == "PUT");
  CHECK(found);
  CHECK(cred->state().empty());
}

TEST_CASE("credential state from a C plugin: read in each call, replaced by out_state(), handed to the sink first") {
  Fixture f;
  std::vector<std::string> saved;
  OpenOptions options;
  options.on_state = [&](const SecretString &state) { saved.push_back(state.reveal()); };
  auto cred = f.host.open("state-counter", "{}", options);
  for (int n = 1; n <= 3; ++n) {
    AuthResult auth = cred->authenticate();
    REQUIRE(auth.headers.size() == 1);
    CHECK(auth.headers[0].value.reveal() == std::to_string(n));
    REQUIRE(saved.size() == size_t(n));
    CHECK(contains(saved.back(), "\"n\": " + std::to_string(n)));
  }
  CHECK(cred->state().reveal() == saved.back());
  TestResult test = cred->test();  // authenticate (4), then test() sees 4
  REQUIRE(test.info.size() == 1);
  CHECK(test.info[0].value.reveal() == "4");
  // Every string in the state is a secret of the credential.
  CHECK_FALSE(contains(cred->redact("note: state-secret-4"), "state-secret-4"));
  for (const auto &line : f.logs) CHECK_FALSE(contains(line, "state-secret-"));

  // A state given when opening is what the first call sees.
  OpenOptions given;
  given.state = SecretString(std::string_view(R"({"n": 41})"));
  CHECK(f.host.open("state-counter", R"({"misuse": ""})", given)->authenticate().headers[0].value.reveal() == "42");
  given.state = SecretString(std::string_view(R"({"n": "x", "s": )"));
  std::string message;
  CHECK(kind_of_failure([&] { f.host.open("state-counter", R"({"misuse": "x"})", given); }, message) ==
        ErrorKind::InvalidInput);
  CHECK(contains(message, "the credential's state: it is not valid JSON"));
}

TEST_CASE("revoke() (minor 5): the state emptied and saved, the token dropped, a Revoked event; refusals keep it") {
  Fixture f;
  std::vector<CredentialEvent> events;
  HostOptions options = f.options();
  options.on_event = [&](const CredentialEvent &e) { events.push_back(e); };
  Host host(options);
  CHECK(host.plugin("state-counter").disconnects_accounts);
  std::vector<std::string> saved;
  OpenOptions open;
  open.state = SecretString(std::string_view(R"({"n": 7})"));
  open.on_state = [&](const SecretString &state) { saved.push_back(state.reveal()); };
  auto cred = host.open("state-counter", "{}", open);
  CHECK(cred->headers()->find("X-State-N")->value.reveal() == "8");
  cred->revoke();
  CHECK(cred->state().reveal() == "{}");
  REQUIRE_FALSE(saved.empty());
  CHECK(saved.back() == "{}");
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().type == CredentialEvent::Type::Revoked);
  CHECK(events.back().state == CredentialState::NeedsReauthorization);
  // The token of the revoked grant is not served again: the next one comes
  // from the plugin, which sees the empty state.
  std::string message;
  CHECK(kind_of_failure([&] { cred->headers(); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "the state has no counter"));

  // A failure at the provider: still connected, the state kept.
  auto failing = host.open("state-counter", R"({"misuse": "revoke_fails"})", open);
  CHECK(kind_of_failure([&] { failing->revoke(); }, message) == ErrorKind::Provider);
  CHECK(contains(message, "503"));
  CHECK(failing->state().reveal() == R"({"n": 7})");
  // revoke() may not output state.
  auto outputs = host.open("state-counter", R"({"misuse": "in_revoke"})", open);
  CHECK(kind_of_failure([&] { outputs->revoke(); }, message) == ErrorKind::Provider);
  CHECK(contains(message, "output state outside authenticate() and refresh()"));
  CHECK(outputs->state().reveal() == R"({"n": 7})");
  // The plugin sees the state it revokes: none here.
  CHECK(kind_of_failure([&] { host.open("state-counter", R"({"misuse": "none"})")->revoke(); }, message) ==
        ErrorKind::InvalidInput);
  CHECK(contains(message, "there is no state to revoke"));
  // Built against minor 4: no revoke(), said so.
  CHECK_FALSE(host.plugin("minor4").disconnects_accounts);
  CHECK(kind_of_failure([&] { host.open("minor4", "{}", open)->revoke(); }, message) == ErrorKind::InvalidInput);
  CHECK(contains(message, "no revoke()"));
}

TEST_CASE("a plugin built against the minor-4 header loads in a minor-5 host: its state, kept and rotated") {
  HostOptions options = Fixture().options();
  options.log = nullptr;
  Host host(options);
  PluginInfo info = host.plugin("minor4");
  CHECK(info.abi_minor == 4);
  OpenOptions open;
  open.state = SecretString(std::string_view(R"({"n": 1})"));
  auto cred = host.open("minor4", "{}", open);
  CHECK(cred->authenticate().headers[0].value.reveal() == "2");
  CHECK(contains(cred->state().reveal(), "\"n\": 2"));
}

TEST_CASE("credential state: what a plugin may not output is refused, and the state before it kept") {
  Fixture f;
  OpenOptions options;
  options.state = SecretString(std::string_view(R"({"n": 7})"));
  const std::pair<const char *, const char *> cases[] = {
      {"array", "it is not a JSON object"},
      {"huge", "over the limit of 65536"},
      {"deep", "nested deeper than 16 levels"},
  };
  for (const auto &rule : cases) {
    const char *misuse = rule.first, *why = rule.second;
    CAPTURE(misuse);
    auto cred = f.host.open("state-counter", std::string(R"({"misuse": ")") + misuse + "\"}", options);
    std::string message;
    CHECK(kind_of_failure([&] { cred->authenticate(); }, message) == ErrorKind::Provider);
    CHECK(contains(message, "output state that cannot be kept"));
    CHECK(contains(message, why));
    CHECK(cred->state().reveal() == R"({"n": 7})");
  }
  // Outside authenticate() and refresh(): refused.
  auto in_test = f.host.open("state-counter", R"({"misuse": "in_test"})", options);
  std::string message;
  CHECK(kind_of_failure([&] { in_test->test(); }, message) == ErrorKind::Provider);
  CHECK(contains(message, "output state outside authenticate() and refresh()"));
  // New state, then a failure: the state is kept and saved all the same.
  std::vector<std::string> saved;
  OpenOptions sink = options;
  sink.on_state = [&](const SecretString &state) { saved.push_back(state.reveal()); };
  auto then_fail = f.host.open("state-counter", R"({"misuse": "then_fail"})", sink);
  CHECK(kind_of_failure([&] { then_fail->authenticate(); }, message) == ErrorKind::Provider);
  REQUIRE(saved.size() == 1);
  CHECK(contains(saved[0], "\"n\": 8"));
  CHECK(then_fail->state().reveal() == saved[0]);
  // CREDPLUG_ERR_REAUTHORIZE: its own kind, and the credential is held.
  auto gone = f.host.open("state-counter", R"({"misuse": "reauthorize"})", options);
  CHECK(kind_of_failure([&] { gone->headers(); }, message) == ErrorKind::Reauthorize);
  CHECK(gone->status().state == CredentialState::NeedsReauthorization);
  CHECK(kind_of_failure([&] { gone->headers(); }, message) == ErrorKind::Reauthorize);
  CHECK(contains(message, "not retried"));
}

TEST_CASE("a plugin built against the minor-2 header loads in a minor-3 host, and its helpers answer") {
  HostOptions options = Fixture().options();
  options.log = nullptr;
  Host host(options);
  PluginInfo info = host.plugin("minor2");
  CHECK(info.abi_minor == 2);
  CHECK(info.default_token_lifetime_s == 3600);
  auto cred = host.open("minor2", R"({"name": "a b&c"})");
  auto headers = cred->headers();
  REQUIRE(headers->find("X-Minor2-Name") != nullptr);
  CHECK(headers->find("X-Minor2-Name")->value.reveal() == "YSBiJmM=");
  CHECK(headers->find("X-Minor2-Form")->value.reveal() == "name=a%20b%26c");
  TestResult result = cred->test();
  REQUIRE(result.info.size() == 1);
  CHECK(result.info[0].value.reveal() == "ABI 1.2");
}

TEST_CASE("a plugin built against the minor-1 header loads in a minor-2 host and renews through its refresh()") {
  HostOptions options = Fixture().options();
  options.log = nullptr;
  options.cache.refresh_fraction = 1.0;  // renew at the first chance
  Host host(options);
  PluginInfo info = host.plugin("minor1");
  CHECK(info.abi_minor == 1);
  CHECK(info.has_refresh);
  CHECK(info.default_token_lifetime_s == 120);
  auto cred = host.open("minor1", "{}");
  auto first = cred->headers();
  REQUIRE(first->find("X-Minor1-Call") != nullptr);
  CHECK(first->find("X-Minor1-Call")->value.reveal().rfind("authenticate ", 0) == 0);
  // Its own lifetime applies (no expires_in, no JWT).
  const int64_t now = std::time(nullptr);
  REQUIRE(first->expires_at.has_value());
  CHECK(*first->expires_at >= now + 110);
  CHECK(*first->expires_at <= now + 121);
  CHECK(cred->headers()->generation == 1);                                // starts a refresh, through refresh()
  for (int i = 0; i < 30000 && cred->cache_status().generation < 2; ++i)  // up to 30 s: a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto second = cred->headers();
  REQUIRE(second->generation >= 2);
  CHECK(second->find("X-Minor1-Call")->value.reveal().rfind("refresh ", 0) == 0);
  TestResult result = cred->test();
  REQUIRE(result.info.size() == 1);
  CHECK(result.info[0].value.reveal() == "ABI 1.1");
}

TEST_CASE("a plugin built against the minor-0 header loads, is cached, and renews through authenticate()") {
  HostOptions options = Fixture().options();
  options.log = nullptr;
  options.cache.refresh_fraction = 1.0;        // renew at the first chance
  options.cache.default_lifetime_ms = 120000;  // it declares no lifetime
  Host host(options);
  PluginInfo info = host.plugin("minor0");
  CHECK(info.abi_minor == 0);
  CHECK_FALSE(info.has_refresh);
  CHECK(info.default_token_lifetime_s == 0);
  auto cred = host.open("minor0", "{}");
  auto first = cred->headers();
  REQUIRE(first->find("X-Minor0-Call") != nullptr);
  const int base = std::stoi(first->find("X-Minor0-Call")->value.reveal());
  // The host's default lifetime applies (no expires_in, no JWT, no plugin default).
  const int64_t now = std::time(nullptr);
  REQUIRE(first->expires_at.has_value());
  CHECK(*first->expires_at >= now + 110);
  CHECK(*first->expires_at <= now + 121);
  CHECK(cred->headers()->generation == 1);  // starts a refresh: no hook, so authenticate()
  for (int i = 0; i < 30000 && cred->cache_status().generation < 2; ++i)  // up to 30 s: a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto second = cred->headers();
  REQUIRE(second->generation >= 2);
  CHECK(std::stoi(second->find("X-Minor0-Call")->value.reveal()) > base);
  TestResult result = cred->test();
  REQUIRE(result.info.size() == 1);
  CHECK(result.info[0].value.reveal() == "ABI 1.0");
}

TEST_CASE("a descriptor's struct_size never makes the host read past the negotiated minor") {
  Fixture f;
  PluginInfo info = f.host.plugin("huge-size");
  CHECK(info.abi_minor == 0);
  CHECK_FALSE(info.has_refresh);                                 // garbage function pointer beyond minor 0: never read
  CHECK(info.default_token_lifetime_s == 0);                     // not 1111638594
  auto result = f.host.open("huge-size", "{}")->authenticate();  // and it still works
  CHECK(result.headers.at(0).name == "X-Abi-Test");
}

namespace {

// A private copy of a test plugin in a fresh directory: loaded afresh.
std::string copy_plugin(const std::string &name) {
  char tmpl[] = "/tmp/credplug-paths-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::filesystem::copy_file(std::string(CREDPLUG_ABI_PLUGIN_DIR) + "/" + name, dir + "/" + name);
  return dir;
}

HostOptions only(const std::string &dir, bool allow_unsafe = false) {
  HostOptions o;
  o.plugin_dirs = {dir};
  // These tests are about this process's loader: the lifecycle plugin writes
  // a log file, which a sandboxed runner could not.
  o.isolation = Isolation::InProcess;
  o.use_environment = false;
  o.use_default_dir = false;
  o.allow_unsafe_plugin_paths = allow_unsafe;
  return o;
}

}  // namespace

TEST_CASE("init() runs once per process however many Hosts come and go; shutdown() runs last, at exit") {
  std::string log = "/tmp/credplug-lifecycle-" + std::to_string(::getpid()) + ".log";
  std::remove(log.c_str());
  ::setenv("CREDPLUG_TEST_LIFECYCLE_LOG", log.c_str(), 1);
  auto read_log = [&] {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  std::string dir = copy_plugin("credplug-lifecycle.so");  // never loaded in this process before
  for (int round = 0; round < 2; ++round) {
    Host host(only(dir));
    host.open("lifecycle", "{}")->authenticate();
  }
  CHECK(read_log() == "init\ncreate\ndestroy\ncreate\ndestroy\n");
  std::filesystem::remove_all(dir);

  // In a process of its own: shutdown() after the last destroy(), at exit.
  std::remove(log.c_str());
  std::ofstream(log + ".json") << "{}";
  auto r = credplug::testing::run_process(
      {CREDPLUG_CLI, "--plugin-dir", CREDPLUG_ABI_PLUGIN_DIR, "auth", "lifecycle", log + ".json"},
      {{"CREDPLUG_TEST_LIFECYCLE_LOG", log}, {"CREDPLUG_ISOLATION", "in-process"}});
  CHECK(r.exit_code == 0);
  CHECK(read_log() == "init\ncreate\ndestroy\nshutdown\n");
  std::remove(log.c_str());
  std::remove((log + ".json").c_str());
  ::unsetenv("CREDPLUG_TEST_LIFECYCLE_LOG");
}

TEST_CASE("a lookup by id loads no unrelated plugin: one that aborts on load stays unloaded") {
  HostOptions o;
  o.plugin_dirs = {CREDPLUG_ABI_CRASHING_DIR, CREDPLUG_ABI_PLUGIN_DIR};
  o.use_environment = false;
  o.use_default_dir = false;
  Host host(o);
  CHECK(host.plugin("minor0").id == "minor0");
  std::string message;
  CHECK(kind_of_failure([&] { host.plugin("no-such-plugin"); }, message) == ErrorKind::InvalidInput);
  CHECK(contains(message, "no plugin with id 'no-such-plugin'"));
  CHECK(contains(message, "ctor-abort"));  // listed by its file name, not run
  // The same through the CLI: exit 3, not SIGABRT.
  auto r = credplug::testing::run_process({CREDPLUG_CLI, "--plugin-dir", CREDPLUG_ABI_CRASHING_DIR, "schema", "nope"});
  CHECK(r.exit_code == 3);
}

TEST_CASE("plugin files anyone could replace are refused with the reason; an explicit override loads them") {
  std::string dir = copy_plugin("credplug-minor0.so");
  std::string file = dir + "/credplug-minor0.so";
  ::chmod(file.c_str(), 0777);
  {
    Host host(only(dir));
    std::string message;
    CHECK(kind_of_failure([&] { host.plugin("minor0"); }, message) == ErrorKind::Plugin);
    CHECK(contains(message, "is writable by every user (mode 0777)"));
    CHECK(contains(message, "--allow-unsafe-plugin-paths"));
    CHECK(host.plugins().empty());
  }
  CHECK(Host(only(dir, true)).plugin("minor0").id == "minor0");
  ::chmod(file.c_str(), 0755);
  ::chmod(dir.c_str(), 0777);  // a world-writable directory (not sticky) above it
  {
    Host host(only(dir));
    std::string message;
    kind_of_failure([&] { host.plugin("minor0"); }, message);
    CHECK(contains(message, "the directory " + dir + " is writable by every user (mode 0777)"));
  }
  ::chmod(dir.c_str(), 0700);
  if (::geteuid() == 0) {
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    Host host(only(dir));
    std::string message;
    kind_of_failure([&] { host.plugin("minor0"); }, message);
    CHECK(contains(message, "is owned by user 65534, neither root nor the user running credplug (0)"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("relative entries of CREDPLUG_PLUGIN_PATH are ignored with a warning") {
  ::setenv("CREDPLUG_PLUGIN_PATH", "plugins-here:" CREDPLUG_ABI_PLUGIN_DIR, 1);
  HostOptions o;
  o.use_default_dir = false;
  std::vector<std::string> logs;
  o.log = [&](int, const std::string &m) { logs.push_back(m); };
  Host host(o);
  ::unsetenv("CREDPLUG_PLUGIN_PATH");
  CHECK(host.search_path() == std::vector<std::string>{CREDPLUG_ABI_PLUGIN_DIR});
  bool warned = false;
  for (const auto &p : host.problems())
    warned =
        warned || (p.path == "CREDPLUG_PLUGIN_PATH entry 'plugins-here'" && contains(p.message, "relative directory"));
  CHECK(warned);
  REQUIRE_FALSE(logs.empty());
  CHECK(contains(logs.front(), "ignoring the relative directory 'plugins-here'"));
}

// CREDPLUG_RUNNER chooses the program that receives every credential of an
// isolated plugin: an embedder that turned the environment off must not get
// it from the environment anyway.
TEST_CASE("CREDPLUG_RUNNER is read only when use_environment allows it") {
  std::string dir = copy_plugin("credplug-minor0.so");
  ::setenv("CREDPLUG_RUNNER", "/nonexistent/credplug-planted-runner", 1);
  HostOptions o = only(dir);
  o.isolation = Isolation::Process;
  o.use_environment = false;
  Host ignoring(o);
  CHECK(ignoring.plugin("minor0").isolation == "process");  // the installed runner
  o.use_environment = true;
  Host reading(o);
  std::string message;
  CHECK(kind_of_failure([&] { reading.plugin("minor0"); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "cannot start the plugin runner /nonexistent/credplug-planted-runner"));
  ::unsetenv("CREDPLUG_RUNNER");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a file named for one plugin that holds another is refused, naming both") {
  std::string dir = copy_plugin("credplug-minor0.so");
  std::filesystem::rename(dir + "/credplug-minor0.so", dir + "/credplug-other.so");
  Host host(only(dir));
  auto problems = host.problems();
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems[0].message,
                 "named for plugin 'other' but holds plugin 'minor0'; rename it credplug-minor0.so"));
  std::filesystem::remove_all(dir);
}

namespace {

std::string write_pins(const std::string &name, const std::string &text) {
  std::string path = "/tmp/credplug-pins-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("pinning: a plugin whose hash differs from its pin is refused before any of its code runs") {
  const std::string aborts = std::string(CREDPLUG_ABI_CRASHING_DIR) + "/credplug-ctor-abort.so";
  const std::string actual = plugin_file_sha256(aborts);
  HostOptions o;
  o.plugin_dirs = {CREDPLUG_ABI_CRASHING_DIR};
  o.use_environment = false;
  o.use_default_dir = false;
  o.pin_file = write_pins("wrong", "# a comment\nctor-abort " + std::string(64, 'a') + "  # trailing comment\n");
  Host host(o);
  std::string message;
  // Loading it would abort this process: the pin check runs first.
  CHECK(kind_of_failure([&] { host.plugin("ctor-abort"); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "its sha256 is " + actual));
  CHECK(contains(message, "pins plugin 'ctor-abort' to " + std::string(64, 'a')));
  std::remove(o.pin_file.c_str());
}

TEST_CASE("pinning: pinned plugins load; unpinned ones are refused; the CLI writes and reads a pin file") {
  const std::string minor0 = std::string(CREDPLUG_ABI_PLUGIN_DIR) + "/credplug-minor0.so";
  HostOptions o;
  o.plugin_dirs = {CREDPLUG_ABI_PLUGIN_DIR};
  o.use_environment = false;
  o.use_default_dir = false;
  o.pin_file = write_pins("minor0", "minor0 " + plugin_file_sha256(minor0) + "\n");
  Host host(o);
  CHECK(host.plugin("minor0").id == "minor0");
  std::string message;
  CHECK(kind_of_failure([&] { host.plugin("lifecycle"); }, message) == ErrorKind::Plugin);
  CHECK(contains(message, "plugin 'lifecycle' is not in the pin file"));
  std::vector<std::string> ids;
  for (const auto &p : host.plugins()) ids.push_back(p.id);
  CHECK(ids == std::vector<std::string>{"minor0"});
  std::remove(o.pin_file.c_str());

  // An unusable pin file is an error naming the line.
  o.pin_file = write_pins("bad", "minor0 not-a-hash\n");
  CHECK_THROWS_WITH_AS(Host{o}, doctest::Contains("line 1: the hash is not 64 hexadecimal digits"), Error);
  std::remove(o.pin_file.c_str());

  // `credplug pin` then --pin-file: every loadable plugin, and no other.
  const std::string pins = write_pins("cli", "");
  auto written =
      credplug::testing::run_process({CREDPLUG_CLI, "--plugin-dir", CREDPLUG_ABI_PLUGIN_DIR, "pin", "-o", pins});
  CHECK(written.exit_code == 0);
  auto listed = credplug::testing::run_process(
      {CREDPLUG_CLI, "--plugin-dir", CREDPLUG_ABI_PLUGIN_DIR, "--pin-file", pins, "--json", "plugins"});
  CHECK(listed.exit_code == 0);
  for (const char *id : {"huge-size", "lifecycle", "minor0", "minor1", "minor2", "minor3", "minor4", "misbehaving",
                         "old-descriptor", "silent-failure", "state-counter"})
    CHECK(contains(listed.out, std::string("\"id\": \"") + id + "\""));
  std::remove(pins.c_str());
}
