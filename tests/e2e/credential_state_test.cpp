// A credential's state (plugin.h, minor 4) with the generic oauth2 plugin
// against the emulator's authorization server, whose refresh tokens rotate
// on every use and whose reuse detection revokes the whole family (RFC 9700
// §4.14.2): a refresh token presented twice shows up as
// oauth2.refresh_reuse. Through the CLI (the credential file rewritten) and
// the C++ API (the embedder's sink), in whichever isolation mode the suite
// runs.
#include "fixture.hpp"

#include "net/https_client.hpp"
#include "support/emulator_account.hpp"
#include "support/redis_server.hpp"

#include <credplug/host_json.hpp>
#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <doctest/doctest.h>

#include <strings.h>
#include <sys/stat.h>

#include <csignal>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

using namespace credplug;
using namespace credplug::testing;

namespace {

const std::string kApp = "state-app";
const std::string kAppSecret = "CANARY-state-app-secret-do-not-print";
const std::string kRedirect = "http://127.0.0.1:5555/callback";

std::string read(const std::string &path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string json_member(std::string_view json, const std::string &pointer) {
  auto doc = kit::JsonDocument::parse_object(json);
  return doc ? doc->string(pointer).value_or("") : "";
}

// What a person's consent gives: the emulator approves at once; the code is
// redeemed with PKCE. Returns the first refresh token of a new family.
std::string connect_account() {
  auto &env = E2E::get();
  return connect_emulator_account({env.emu->port(), env.pki.ca_cert, kApp, kAppSecret, kRedirect});
}

// The credential without its state; the client secret by reference.
std::string credential(const std::string &extra = "") {
  const std::string origin = E2E::get().emu->origin();
  return R"({"token_url": ")" + origin + R"(/oauth/token", "client_id": ")" + kApp +
         R"(", "client_secret": {"$env": "STATE_APP_SECRET"}, "userinfo_url": ")" + origin + R"(/oauth/me")" + extra +
         "}";
}

std::string with_state(const std::string &credential_json, const std::string &refresh_token) {
  return credential_json.substr(0, credential_json.size() - 1) + R"(, "$state": {"refresh_token": ")" + refresh_token +
         "\"}}";
}

const std::map<std::string, std::string> kEnv{{"STATE_APP_SECRET", kAppSecret}};

void fresh_emulator() {
  auto &env = E2E::get();
  env.reset();
  env.emu->add_client("oauth2", kApp, kAppSecret);
}

// The credential as the C++ API takes it: the secret inline.
std::string inline_credential() {
  std::string text = credential();
  const std::string ref = R"({"$env": "STATE_APP_SECRET"})";
  return text.replace(text.find(ref), ref.size(), "\"" + kAppSecret + "\"");
}

std::string state_of(const std::string &refresh_token) { return R"({"refresh_token": ")" + refresh_token + "\"}"; }

}  // namespace

TEST_CASE("credential state: the CLI writes each rotated refresh token into the file, atomically, references kept") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string first = connect_account();
  const std::string file = env.write_new("state", with_state(credential(), first));
  ::chmod(file.c_str(), 0644);
  std::string previous = first;
  for (int i = 1; i <= 3; ++i) {
    CAPTURE(i);
    auto r = env.trusted({i == 3 ? "test" : "auth", "oauth2", file}, kEnv);
    CHECK(r.exit_code == 0);
    const std::string text = read(file);
    const std::string now = json_member(text, "/$state/refresh_token");
    CHECK_FALSE(now.empty());
    CHECK(now != previous);                                                       // rotated, and kept
    CHECK_FALSE(contains(r.out + r.err, now));                                    // never shown
    CHECK_FALSE(contains(r.out + r.err, previous));                               //
    CHECK(contains(text, R"("$env": "STATE_APP_SECRET")"));                       // the reference stays one
    CHECK_FALSE(contains(text, kAppSecret));                                      // and is never resolved into the file
    CHECK(json_member(text, "token_url") == env.emu->origin() + "/oauth/token");  // the rest as it was
    if (i == 3) CHECK(contains(r.out, "event: state_rotated"));                   // test shows what happened
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    previous = now;
  }
  CHECK(env.emu->count("oauth2.refresh") == 3);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  // No temporary file is left beside it.
  const std::string dir = file.substr(0, file.rfind('/'));
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    CHECK_FALSE(contains(entry.path().filename().string(), ".XXXXXX"));
}

TEST_CASE("credential state: a stale copy presents a rotated refresh token: needs reauthorization, exit 8, no retry") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string stale = env.write_new("stale", with_state(credential(), connect_account()));
  const std::string live = env.write_new("live", read(stale));
  REQUIRE(env.trusted({"auth", "oauth2", live}, kEnv).exit_code == 0);
  auto r = env.trusted({"auth", "oauth2", stale, "--json"}, kEnv);
  CHECK(r.exit_code == 8);
  CHECK(json_member(r.out, "/error/kind") == "reauthorize");
  CHECK(contains(r.out, "connect the account again"));
  CHECK(env.emu->count("oauth2.refresh_reuse") == 1);
  // The provider revoked the whole family: the live copy must reconnect too.
  r = env.trusted({"auth", "oauth2", live}, kEnv);
  CHECK(r.exit_code == 8);
  CHECK(contains(r.err, "needs reauthorization"));
  // Without any refresh token: the same, before any request.
  const int before = env.emu->count("oauth2.token");
  r = env.trusted({"auth", "oauth2", env.write_new("none", credential())}, kEnv);
  CHECK(r.exit_code == 8);
  CHECK(contains(r.err, "no refresh token yet"));
  CHECK(env.emu->count("oauth2.token") == before);
}

TEST_CASE("credential state: from standard input new state has nowhere to go: exit 9, and the token is not shown") {
  auto &env = E2E::get();
  fresh_emulator();
  auto r = env.trusted({"auth", "oauth2", "-"}, kEnv, with_state(credential(), connect_account()));
  CHECK(r.exit_code == 9);
  CHECK(contains(r.err, "state not saved"));
  CHECK(contains(r.err, "standard input"));
  CHECK_FALSE(contains(r.out, "Authorization"));
}

TEST_CASE("credential state: the embedder's sink fails twice then succeeds: nothing lost, no refresh token reused") {
  auto &env = E2E::get();
  fresh_emulator();
  Host host(env.host_options());
  std::mutex mutex;
  std::vector<std::string> saved;
  int failures_left = 2, sink_calls = 0;
  OpenOptions options;
  options.state = SecretString(state_of(connect_account()));
  options.on_state = [&](const SecretString &state) {
    std::lock_guard<std::mutex> lock(mutex);
    ++sink_calls;
    if (failures_left > 0) {
      --failures_left;
      throw std::runtime_error("disk full");
    }
    saved.push_back(state.reveal());
  };
  auto cred = host.open("oauth2", inline_credential(), options);
  int not_saved = 0;
  HeadersPtr headers;
  for (int attempt = 0; attempt < 4 && !headers; ++attempt) {
    try {
      headers = cred->headers();
    } catch (const Error &e) {
      CHECK(e.kind() == ErrorKind::StateNotSaved);
      CHECK(contains(e.what(), "disk full"));
      CHECK_FALSE(contains(e.what(), "refresh_token\":"));
      ++not_saved;
      cred->invalidate();  // skip the backoff: the next headers() tries again at once
    }
  }
  REQUIRE(headers);
  CHECK(failures_left == 0);
  CHECK(not_saved <= 2);  // the token cache may retry within one headers() call, backing off
  // The first rotation was refused twice, saved on the third attempt before
  // anything else; then a second rotation gave the token.
  CHECK(env.emu->count("oauth2.refresh") == 2);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  REQUIRE(saved.size() == 2);
  CHECK(saved.back() == cred->state().reveal());
  CHECK(sink_calls == 4);
  // What the embedder holds now works in another process's open.
  Host other(env.host_options());
  OpenOptions reopened;
  reopened.state = SecretString(saved.back());
  CHECK_NOTHROW(other.open("oauth2", inline_credential(), reopened)->headers());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

TEST_CASE("credential state: 16 threads asking for new tokens at once present each refresh token once") {
  auto &env = E2E::get();
  fresh_emulator();
  Host host(env.host_options());
  OpenOptions options;
  options.state = SecretString(state_of(connect_account()));
  std::atomic<int> saves{0};
  options.on_state = [&](const SecretString &) { ++saves; };
  auto cred = host.open("oauth2", inline_credential(), options);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) try {
          cred->authenticate();  // bypasses the cache: each one a token request
          cred->headers();
        } catch (const std::exception &) {
          ++failures;
        }
    });
  for (auto &t : threads) t.join();
  CHECK(failures == 0);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  CHECK(env.emu->count("oauth2.refresh") == saves.load());
  CHECK(saves.load() >= 48);
}

// The redactor keeps what the last few token requests brought, not every
// token and refresh token of the credential's life (Redactor::retire_before).
TEST_CASE("credential state: after 12 rotations the current token and refresh token are masked, the first ones not") {
  auto &env = E2E::get();
  fresh_emulator();
  Host host(env.host_options());
  OpenOptions options;
  options.state = SecretString(state_of(connect_account()));
  auto cred = host.open("oauth2", inline_credential(), options);
  auto bare_token = [&] {
    const std::string value(cred->headers()->headers.at(0).value.view());
    return value.substr(value.find(' ') + 1);
  };
  auto refresh_token = [&] { return json_member(cred->state().reveal(), "/refresh_token"); };
  const std::string first_token = bare_token();
  const std::string first_rotated = refresh_token();  // brought by that first token request
  CHECK(cred->redact(first_token) == "[REDACTED]");
  CHECK(cred->redact(first_rotated) == "[REDACTED]");
  for (int i = 0; i < 12; ++i) cred->authenticate();
  CHECK(cred->redact(bare_token()) == "[REDACTED]");
  CHECK(cred->redact(refresh_token()) == "[REDACTED]");
  CHECK(cred->redact(first_token) == first_token);  // replaced twelve times over: dropped
  CHECK(cred->redact(first_rotated) == first_rotated);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

TEST_CASE("credential state: invalid_grant holds the credential at needs_reauthorization until set_state()") {
  auto &env = E2E::get();
  fresh_emulator();
  Host host(env.host_options());
  OpenOptions options;
  options.state = SecretString(state_of("never-issued-refresh-token"));
  auto cred = host.open("oauth2", inline_credential(), options);
  try {
    cred->headers();
    FAIL("a refresh token the provider never issued was taken");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::Reauthorize);
    CHECK_FALSE(contains(e.what(), "never-issued-refresh-token"));
  }
  CHECK(cred->status().state == CredentialState::NeedsReauthorization);
  CHECK(std::string(to_string(cred->status().state)) == "needs_reauthorization");
  const int asked = env.emu->count("oauth2.token");
  CHECK_THROWS_AS(cred->headers(), Error);
  CHECK(env.emu->count("oauth2.token") == asked);  // held: nothing asked of the provider
  // The user connected the account again.
  cred->set_state(SecretString(state_of(connect_account())));
  CHECK_NOTHROW(cred->headers());
  CHECK(cred->status().state == CredentialState::Ok);
  CHECK_FALSE(json_member(cred->state().view(), "refresh_token").empty());
  // A state that is no object is refused, naming why, never quoting it.
  try {
    cred->set_state(SecretString(std::string_view(R"(["secret-looking-value"])")));
    FAIL("an array was taken as state");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::InvalidInput);
    CHECK(contains(e.what(), "not a JSON object"));
    CHECK_FALSE(contains(e.what(), "secret-looking-value"));
  }
}

namespace {

// The credential of a connectable account: with its authorization endpoint.
std::string connectable(const std::string &origin) {
  return R"({"token_url": ")" + origin + R"(/oauth/token", "authorization_url": ")" + origin +
         R"(/oauth/authorize", "client_id": ")" + kApp + R"(", "client_secret": {"$env": "STATE_APP_SECRET"}, )" +
         R"("scope": "read", "userinfo_url": ")" + origin + R"(/oauth/me"})";
}

std::string inline_connectable() {
  std::string text = connectable(E2E::get().emu->origin());
  const std::string ref = R"({"$env": "STATE_APP_SECRET"})";
  return text.replace(text.find(ref), ref.size(), "\"" + kAppSecret + "\"");
}

// A person who approves: follows the authorization URL to the emulator and
// returns where it redirects (the redirect URI with code and state).
std::string approve(const std::string &authorization_url) {
  host::HttpsClient http(host::HttpOptions{E2E::get().pki.ca_cert});
  host::HttpRequestSpec get;
  get.url = authorization_url;
  auto answer = http.send(get);
  REQUIRE(answer.status == 302);
  for (const auto &[name, value] : answer.headers)
    if (strcasecmp(name.c_str(), "Location") == 0) return value;
  FAIL("no Location");
  return "";
}

// A file holding `text` for a shell script: a browser, a key file.
std::string script(const std::string &name, const std::string &text) {
  std::string path = E2E::get().write_new(name, text);
  ::chmod(path.c_str(), 0700);
  return path;
}

std::string with_query(std::string url, const std::string &name, const std::string &value) {
  const size_t at = url.find(name + "=");
  REQUIRE(at != std::string::npos);
  const size_t end = std::min(url.find('&', at), url.size());
  return url.replace(at, end - at, name + "=" + value);
}

}  // namespace

TEST_CASE("credential state: credplug connect, a browser (curl) following the redirect to its loopback listener") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string file = env.write_new("connect", connectable(env.emu->origin()));
  const std::string browser =
      script("browser", "#!/bin/sh\nexec /usr/bin/curl -s -L --cacert '" + env.pki.ca_cert + "' \"$1\"\n");
  std::map<std::string, std::string> vars = kEnv;
  vars["BROWSER"] = browser;
  auto r = env.trusted({"connect", "oauth2", file}, vars);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Open this address in a browser"));
  CHECK(contains(r.out, "code_challenge_method=S256"));
  CHECK(contains(r.out, "oauth2: connected"));
  const std::string refresh = json_member(read(file), "/$state/refresh_token");
  REQUIRE_FALSE(refresh.empty());
  CHECK_FALSE(contains(r.out + r.err, refresh));
  CHECK(contains(read(file), R"("$env": "STATE_APP_SECRET")"));
  CHECK(env.emu->count("oauth2.authorize") >= 1);
  // The account works, and keeps working as its refresh token rotates.
  CHECK(env.trusted({"test", "oauth2", file}, kEnv).exit_code == 0);
  CHECK(env.trusted({"auth", "oauth2", file}, kEnv).exit_code == 0);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  // The person says no: exit 4, and the file keeps the grant it had.
  const std::string before = read(file);
  env.emu->set_switch("oauth2", "deny_authorization", "1");
  r = env.trusted({"connect", "oauth2", file, "--json"}, vars);
  CHECK(r.exit_code == 4);
  CHECK(contains(r.out, "did not allow access"));
  CHECK(read(file) == before);
}

TEST_CASE("credential state: credplug disconnect revokes the grant at the provider (RFC 7009) and empties the state") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string origin = env.emu->origin();
  std::string text = connectable(origin);
  const std::string file = env.write_new(
      "disconnect", text.insert(text.size() - 1, R"(, "revocation_url": ")" + origin + R"(/oauth/revoke")"));
  const std::string browser =
      script("browser", "#!/bin/sh\nexec /usr/bin/curl -s -L --cacert '" + env.pki.ca_cert + "' \"$1\"\n");
  std::map<std::string, std::string> vars = kEnv;
  vars["BROWSER"] = browser;
  REQUIRE(env.trusted({"connect", "oauth2", file}, vars).exit_code == 0);
  REQUIRE(env.trusted({"auth", "oauth2", file}, kEnv).exit_code == 0);
  const std::string stolen = read(file);  // a copy someone kept
  // The provider is down: the account stays connected, and the file as it was.
  env.emu->set_switch("oauth2", "fail_status", "503");
  auto r = env.trusted({"disconnect", "oauth2", file}, kEnv);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "503"));
  CHECK(read(file) == stolen);
  env.emu->set_switch("oauth2", "fail_status", "0");
  r = env.trusted({"disconnect", "oauth2", file}, kEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "oauth2: disconnected"));
  CHECK(env.emu->count("oauth2.revoked") == 1);
  CHECK(json_member(read(file), "/$state/refresh_token").empty());
  CHECK(contains(read(file), R"("$state": {})"));
  CHECK(contains(read(file), R"("$env": "STATE_APP_SECRET")"));
  // Neither the file nor the stolen copy gets a token: exit 8.
  r = env.trusted({"auth", "oauth2", file}, kEnv);
  CHECK(r.exit_code == 8);
  CHECK(contains(r.err, "disconnected"));
  const std::string copy = env.write_new("stolen", stolen);
  r = env.trusted({"auth", "oauth2", copy}, kEnv);
  CHECK(r.exit_code == 8);
  CHECK(contains(r.err, "revoked"));
  // Connecting again mends it.
  REQUIRE(env.trusted({"connect", "oauth2", file}, vars).exit_code == 0);
  CHECK(env.trusted({"auth", "oauth2", file}, kEnv).exit_code == 0);
  // Without a revocation endpoint there is nothing to ask: said, exit 3.
  const std::string bare = env.write_new("no-revocation", connectable(origin));
  REQUIRE(env.trusted({"connect", "oauth2", bare}, vars).exit_code == 0);
  r = env.trusted({"disconnect", "oauth2", bare}, kEnv);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "revocation_url: required"));
  // From standard input there is no file to empty.
  r = env.trusted({"disconnect", "oauth2", "-"}, kEnv, read(bare));
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "give a file, not -"));
}

TEST_CASE("credential state: credplug connect --no-browser takes the pasted redirect address") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string file = env.write_new("paste", connectable(env.emu->origin()));
  // A person at a terminal: reads the address, opens it elsewhere, pastes
  // where the browser was sent (bash's coprocess plays both sides).
  const std::string person =
      script("person", "#!/bin/bash\nset -euo pipefail\ncoproc CONNECT { '" CREDPLUG_CLI "' --ca-file '" +
                           env.pki.ca_cert + "' connect oauth2 '" + file +
                           "' --no-browser 2>/dev/null; }\n"
                           "pid=$CONNECT_PID\n"
                           "read -r _ <&\"${CONNECT[0]}\"; read -r url <&\"${CONNECT[0]}\"\n"
                           "where=$(/usr/bin/curl -s -o /dev/null -w '%{redirect_url}' --cacert '" +
                           env.pki.ca_cert +
                           "' \"$url\")\n"
                           "echo \"$where\" >&\"${CONNECT[1]}\"\n"
                           "cat <&\"${CONNECT[0]}\"\nwait \"$pid\"\n");
  auto r = run_process({"/bin/bash", person}, kEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "oauth2: connected"));
  CHECK_FALSE(json_member(read(file), "/$state/refresh_token").empty());
  CHECK(env.trusted({"auth", "oauth2", file}, kEnv).exit_code == 0);
  // Standard input cannot hold the state: refused before any request.
  auto stdin_run = env.trusted({"connect", "oauth2", "-", "--no-browser"}, kEnv, connectable(env.emu->origin()));
  CHECK(stdin_run.exit_code == 3);
  CHECK(contains(stdin_run.err, "give a file"));
}

TEST_CASE("credential state: begin in one Host, complete in another with the same key; every forgery refused") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string key_file = env.write_new("authorization-key", std::string(64, 'a') + "\n");
  HostOptions options = env.host_options();
  options.authorization_key_file = key_file;
  Host web(options), worker(options);
  const std::string redirect = "https://platform.example/oauth/callback";
  PendingAuthorization begun = web.begin_authorization("oauth2", inline_connectable(), redirect);
  CHECK(contains(begun.url, "state="));
  CHECK(begun.expires_at > std::time(nullptr) + 590);
  CHECK_FALSE(contains(begun.pending.reveal(), kAppSecret));  // sealed, not just encoded
  const std::string location = approve(begun.url);
  CHECK(location.rfind(redirect + "?code=", 0) == 0);

  // Another Host (process) with the same key completes it.
  SecretString state = worker.complete_authorization(begun.pending.view(), location);
  CHECK_FALSE(json_member(state.view(), "refresh_token").empty());
  OpenOptions opened;
  opened.state = state;
  CHECK_NOTHROW(worker.open("oauth2", inline_connectable(), opened)->headers());

  auto refused = [&](Host &host, std::string_view pending, const std::string &url, ErrorKind kind,
                     const std::string &why) {
    CAPTURE(why);
    try {
      host.complete_authorization(pending, url);
      FAIL("completed");
    } catch (const Error &e) {
      CHECK(e.kind() == kind);
      CHECK(contains(e.what(), why));
      CHECK_FALSE(contains(e.what(), kAppSecret));
    }
  };
  // The same code again: the provider refuses it (and revokes what it gave).
  refused(worker, begun.pending.view(), location, ErrorKind::Rejected, "");
  CHECK(env.emu->count("oauth2.code_reuse") == 1);
  // A Host with another key cannot open it.
  HostOptions other = env.host_options();
  other.authorization_key_file = env.write_new("other-key", std::string(64, 'b') + "\n");
  Host stranger(other);
  PendingAuthorization second = web.begin_authorization("oauth2", inline_connectable(), redirect);
  const std::string second_location = approve(second.url);
  refused(stranger, second.pending.view(), second_location, ErrorKind::InvalidInput, "not one this Host can open");
  // A redirect with another state: forged or crossed.
  refused(worker, second.pending.view(), with_query(second_location, "state", "forged"), ErrorKind::InvalidInput,
          "CSRF");
  // To another redirect URI.
  std::string elsewhere = second_location;
  elsewhere.replace(0, redirect.size(), "https://evil.example/oauth/callback");
  refused(worker, second.pending.view(), elsewhere, ErrorKind::InvalidInput, "not to this authorization's");
  // One bit of the sealed text changed.
  std::string tampered = second.pending.reveal();
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  refused(worker, tampered, second_location, ErrorKind::InvalidInput, "not one this Host can open");
  // None of these reached the provider: the untouched second completes.
  CHECK_NOTHROW(worker.complete_authorization(second.pending.view(), second_location));
  // A code bound to another verifier: the provider refuses it (PKCE).
  PendingAuthorization third = web.begin_authorization("oauth2", inline_connectable(), redirect);
  PendingAuthorization fourth = web.begin_authorization("oauth2", inline_connectable(), redirect);
  const size_t at = third.url.find("state=") + 6;
  const std::string crossed =
      with_query(approve(fourth.url), "state", third.url.substr(at, third.url.find('&', at) - at));
  refused(worker, third.pending.view(), crossed, ErrorKind::Rejected, "");
  // A redirect URI that is no redirect URI.
  CHECK_THROWS_AS(web.begin_authorization("oauth2", inline_connectable(), "http://platform.example/cb"), Error);
  CHECK_THROWS_AS(web.begin_authorization("oauth2", inline_connectable(), "https://platform.example/cb#x"), Error);
  // A plugin that connects no account.
  CHECK_THROWS_AS(web.begin_authorization("ainua", env.ainua_credential(), redirect), Error);
}

TEST_CASE("credential state: begin in one process, complete in another (the C API), with the same key file") {
  auto &env = E2E::get();
  fresh_emulator();
  const std::string key_file = env.write_new("step-key", std::string(64, 'd') + "\n");
  const std::string credential = env.write_new("step-credential", inline_connectable());
  const std::string redirect = "https://platform.example/oauth/callback";
  auto step = [&](std::vector<std::string> args, const std::string &key) {
    args.insert(args.begin() + 1, {CREDPLUG_PLUGIN_DIR, env.pki.ca_cert, key});
    args.insert(args.begin(), CREDPLUG_AUTHORIZATION_STEP);
    return run_process(args);
  };
  const ProcessResult begun = step({"begin", "oauth2", credential, redirect}, key_file);
  REQUIRE(begun.exit_code == 0);
  const size_t newline = begun.out.find('\n');
  const std::string url = begun.out.substr(0, newline);
  const std::string pending = begun.out.substr(newline + 1, begun.out.find('\n', newline + 1) - newline - 1);
  CHECK_FALSE(contains(pending, kAppSecret));
  const std::string location = approve(url);
  // Another process without the key cannot open it.
  const std::string other_key = env.write_new("step-other-key", std::string(64, 'e') + "\n");
  const ProcessResult stranger = step({"complete", pending, location}, other_key);
  CHECK(stranger.exit_code == 3);
  CHECK(contains(stranger.err, "not one this Host can open"));
  // The process with it completes: the state it prints is a live grant.
  const ProcessResult completed = step({"complete", pending, location}, key_file);
  CAPTURE(completed.err);
  REQUIRE(completed.exit_code == 0);
  const std::string state = completed.out.substr(0, completed.out.find('\n'));
  CHECK_FALSE(json_member(state, "refresh_token").empty());
  Host host(env.host_options());
  OpenOptions opened;
  opened.state = SecretString(state);
  CHECK_NOTHROW(host.open("oauth2", inline_connectable(), opened)->headers());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

TEST_CASE("credential state: oauth2's extra authorization parameters reach the URL; its mistakes are named") {
  auto &env = E2E::get();
  fresh_emulator();
  Host host(env.host_options());
  const std::string redirect = "https://platform.example/oauth/callback";
  auto with = [](std::string json, const std::string &members) { return json.insert(json.size() - 1, members); };
  const std::string params = R"(, "authorization_params": {"prompt": "consent", "access_type": "offline"})";
  PendingAuthorization begun = host.begin_authorization("oauth2", with(inline_connectable(), params), redirect);
  CHECK(contains(begun.url, "&prompt=consent&access_type=offline"));
  // The host's own parameters were not displaced.
  CHECK(contains(begun.url, "code_challenge_method=S256"));
  const std::string location = approve(begun.url);
  CHECK(location.rfind(redirect + "?code=", 0) == 0);

  auto refused = [&](const std::string &members, const std::string &why) {
    CAPTURE(members);
    try {
      host.begin_authorization("oauth2", with(inline_connectable(), members), redirect);
      FAIL("begun");
    } catch (const Error &e) {
      CHECK(e.kind() == ErrorKind::InvalidInput);
      CHECK(contains(e.what(), why));
    }
  };
  refused(R"(, "authorization_params": {"state": "mine"})", "authorization_params/state");
  refused(R"(, "authorization_params": {"code_challenge": "x"})", "authorization_params/code_challenge");
  refused(R"(, "authorization_params": {"a b": "x"})", "a parameter's name");
  refused(R"(, "client_auth": "private_key_jwt")", "private_key: required");
  const std::string p256 = env.write_new("p256.pem", "");
  CHECK(run_process(
            {"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p256})
            .exit_code == 0);
  std::string pem = read(p256);
  std::string quoted = kit::json_quote(pem);
  // An EC key told to sign RS256: named, the key never quoted.
  try {
    host.begin_authorization("oauth2", with(inline_connectable(), R"(, "private_key": )" + quoted), redirect);
    FAIL("begun");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::InvalidInput);
    CHECK(contains(e.what(), "private_key"));
    CHECK_FALSE(contains(e.what(), "PRIVATE KEY"));
  }
  CHECK_NOTHROW(host.begin_authorization(
      "oauth2", with(inline_connectable(), R"(, "private_key": )" + quoted + R"(, "signing_alg": "ES256")"), redirect));
}

namespace {

// Hosts sharing one Redis and one key: processes of a fleet.
struct StateFleet {
  RedisServer redis;
  std::string key_file = E2E::get().write_new("state-fleet-key", std::string(64, 'c') + "\n");
  HostOptions options() const {
    HostOptions o = E2E::get().host_options();
    o.shared_cache_url = redis.url();
    o.shared_cache_key_file = key_file;
    o.log = nullptr;
    return o;
  }
};

}  // namespace

TEST_CASE("credential state: 4 Hosts x 8 threads over 20 rotations through the shared cache: one redemption each") {
  auto &env = E2E::get();
  fresh_emulator();
  env.emu->switches("oauth2").token_lifetime_s = 1;
  StateFleet fleet;
  const std::string first = state_of(connect_account());
  std::vector<std::unique_ptr<Host>> hosts;
  std::vector<std::unique_ptr<Credential>> creds;
  std::atomic<int> saves{0}, errors{0}, calls{0};
  for (int i = 0; i < 4; ++i) {
    hosts.push_back(std::make_unique<Host>(fleet.options()));
    OpenOptions options;
    options.state = SecretString(first);  // what the platform's database held when each started
    options.on_state = [&](const SecretString &) { ++saves; };
    creds.push_back(hosts.back()->open("oauth2", inline_credential(), options));
  }
  std::vector<std::thread> threads;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  for (int t = 0; t < 32; ++t)
    threads.emplace_back([&, t] {
      while (env.emu->count("oauth2.refresh") < 20 && std::chrono::steady_clock::now() < deadline) {
        try {
          creds[size_t(t % 4)]->headers();
          ++calls;
        } catch (const std::exception &) {
          ++errors;
        }
        std::this_thread::yield();
      }
    });
  for (auto &t : threads) t.join();
  const int redemptions = env.emu->count("oauth2.refresh");
  CAPTURE(redemptions);
  CAPTURE(calls.load());
  CHECK(redemptions >= 20);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  CHECK(errors == 0);
  // Every redemption's new state reached the fleet and a sink: nothing lost.
  CHECK(saves.load() >= redemptions);
  // A fifth process started from the first state (the oldest the database
  // ever held) takes the fleet's newest, and never presents the old one.
  Host late(fleet.options());
  OpenOptions stale;
  stale.state = SecretString(first);
  auto cred = late.open("oauth2", inline_credential(), stale);
  env.emu->switches("oauth2").token_lifetime_s = 3600;
  cred->invalidate();
  CHECK_NOTHROW(cred->headers());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

namespace {

// A fleet worker (tests/capi/fleet_worker.c: the C API in a process of its
// own) on the connected account, its state kept in `state_file` as a
// platform's database would keep it; the suite's isolation mode.
ProcessResult state_worker(const StateFleet &fleet, const std::string &credential_file, const std::string &state_file,
                           const std::vector<std::string> &options, long ms) {
  auto &env = E2E::get();
  std::vector<std::string> argv{CREDPLUG_FLEET_WORKER, "--state", state_file, "--label", "account-1"};
  if (env.host_options().isolation == Isolation::InProcess) argv.emplace_back("--in-process");
  argv.insert(argv.end(), options.begin(), options.end());
  const std::vector<std::string> positional{CREDPLUG_PLUGIN_DIR, env.pki.ca_cert, fleet.redis.url(),
                                            fleet.key_file,      "oauth2",        credential_file,
                                            std::to_string(ms)};
  argv.insert(argv.end(), positional.begin(), positional.end());
  return run_process(argv);
}

}  // namespace

TEST_CASE("credential state: 4 processes x 8 threads (the C API) over 20 lifetimes: no reuse, nothing lost") {
  auto &env = E2E::get();
  fresh_emulator();
  env.emu->switches("oauth2").token_lifetime_s = 1;
  StateFleet fleet;
  const std::string first = state_of(connect_account());
  const std::string credential_file = env.write_new("fleet-account", inline_credential());
  const std::string database = env.write_new("fleet-account-state", first);
  const std::string stop = env.write_new("fleet-stop", "");
  std::filesystem::remove(stop);
  std::vector<ProcessResult> results(4);
  std::vector<std::thread> workers;
  for (size_t i = 0; i < 4; ++i)
    workers.emplace_back([&, i] {
      results[i] = state_worker(fleet, credential_file, database, {"--threads", "8", "--stop-file", stop}, 80000);
    });
  // Over 20 token lifetimes, and until 20 rotations however long this
  // machine takes for them.
  const auto started = std::chrono::steady_clock::now();
  const bool rotated = eventually(
      [&] {
        return env.emu->count("oauth2.refresh") >= 20 &&
               std::chrono::steady_clock::now() - started >= std::chrono::seconds(20);  // 20 lifetimes of 1 s
      },
      75000);
  std::ofstream(stop).put('\n');
  for (auto &t : workers) t.join();
  CHECK(rotated);
  const int redemptions = env.emu->count("oauth2.refresh");
  CAPTURE(redemptions);
  long saves = 0;
  for (const auto &r : results) {
    CAPTURE(r.out);
    CAPTURE(r.err);
    CHECK(r.exit_code == 0);  // no error, no expired token
    const size_t at = r.out.find("saves=");
    if (at != std::string::npos) saves += std::atol(r.out.c_str() + at + 6);
  }
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  CHECK(saves >= redemptions);  // every redemption's state written by its redeemer, at least
  // Nothing lost: the database holds the newest refresh token, which a
  // process without the fleet redeems (the provider would revoke the whole
  // grant for any older one).
  Host alone(env.host_options());
  OpenOptions options;
  options.state = SecretString(read(database));
  CHECK(options.state.reveal() != first);
  CHECK_NOTHROW(alone.open("oauth2", inline_credential(), options)->authenticate());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

TEST_CASE("credential state: a process killed after its redemption, before its write-back: the next one goes on") {
  auto &env = E2E::get();
  fresh_emulator();
  StateFleet fleet;
  const std::string first = state_of(connect_account());
  const std::string credential_file = env.write_new("killed-account", inline_credential());
  const std::string database = env.write_new("killed-account-state", first);
  // Its token requests hold the fleet's lease at most 2 s (1 s + 1 s): the
  // next process, which will not redeem beside a holder, waits that long.
  const ProcessResult killed =
      state_worker(fleet, credential_file, database, {"--die-in-sink", "--timeout-ms", "1000"}, 2000);
  CAPTURE(killed.err);
  CHECK(killed.exit_code == 128 + SIGKILL);
  CHECK(env.emu->count("oauth2.refresh") == 1);
  CHECK(read(database) == first);  // the database never heard of the rotation
  // The next process starts from the database's (spent) refresh token: once
  // the dead holder's lease has ended, it takes the fleet's sealed record
  // instead, redeems that, and writes it back.
  const ProcessResult next = state_worker(fleet, credential_file, database, {"--timeout-ms", "1000"}, 300);
  CAPTURE(next.out);
  CAPTURE(next.err);
  CHECK(next.exit_code == 0);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  CHECK(read(database) != first);
}

TEST_CASE("credential state: Redis down mid-life: the process redeems alone and never loses what it rotated") {
  auto &env = E2E::get();
  fresh_emulator();
  StateFleet fleet;
  const std::string first = state_of(connect_account());
  Host host(fleet.options());
  std::vector<std::string> saved;
  OpenOptions options;
  options.state = SecretString(first);
  options.on_state = [&](const SecretString &state) { saved.push_back(state.reveal()); };
  auto cred = host.open("oauth2", inline_credential(), options);
  CHECK_NOTHROW(cred->headers());  // through the fleet
  CHECK(saved.size() == 1);
  fleet.redis.kill();
  // Each rotation while Redis is gone: redeemed here, one at a time, saved.
  for (int i = 0; i < 5; ++i) {
    cred->invalidate();
    CHECK_NOTHROW(cred->headers());
  }
  CHECK_NOTHROW(cred->authenticate());
  CHECK(env.emu->count("oauth2.refresh") == 7);
  CHECK(saved.size() == 7);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  // Redis back, empty (its record of the state lost with it): the process
  // goes on from its own state, the newest, and the fleet learns it again.
  fleet.redis.start();
  cred->invalidate();
  CHECK_NOTHROW(cred->headers());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  // What the embedder saved last is the live refresh token.
  Host alone(env.host_options());
  OpenOptions last;
  last.state = SecretString(saved.back());
  CHECK_NOTHROW(alone.open("oauth2", inline_credential(), last)->authenticate());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

TEST_CASE("credential state: authenticate() and test() across 3 Hosts of the fleet redeem under the lease, in turn") {
  auto &env = E2E::get();
  fresh_emulator();
  StateFleet fleet;
  const std::string first = state_of(connect_account());
  std::vector<std::unique_ptr<Host>> hosts;
  std::vector<std::unique_ptr<Credential>> creds;
  for (int i = 0; i < 3; ++i) {
    hosts.push_back(std::make_unique<Host>(fleet.options()));
    OpenOptions options;
    options.state = SecretString(first);
    creds.push_back(hosts.back()->open("oauth2", inline_credential(), options));
  }
  std::atomic<int> errors{0}, asked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 4; ++round) {
        try {
          // Each asks the provider itself: a fresh token, never the fleet's.
          if (round % 2 == 0)
            creds[size_t(t % 3)]->authenticate();
          else
            creds[size_t(t % 3)]->test();
          ++asked;
        } catch (const std::exception &e) {
          ++errors;
          MESSAGE(e.what());
        }
      }
    });
  for (auto &t : threads) t.join();
  CHECK(errors == 0);
  CHECK(asked == 48);
  CHECK(env.emu->count("oauth2.refresh") == 48);  // one redemption each, none shared
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}

TEST_CASE("credential state: a process that rotated and died before its sink saved it: the fleet's record keeps it") {
  auto &env = E2E::get();
  fresh_emulator();
  StateFleet fleet;
  const std::string first = state_of(connect_account());
  {
    Host dying(fleet.options());
    OpenOptions options;
    options.state = SecretString(first);
    options.on_state = [](const SecretString &) { throw std::runtime_error("killed before the write-back"); };
    auto cred = dying.open("oauth2", inline_credential(), options);
    CHECK_THROWS_AS(cred->headers(), Error);
  }  // gone, with the rotated refresh token never saved by its embedder
  CHECK(env.emu->count("oauth2.refresh") >= 1);
  Host next(fleet.options());
  std::string saved;
  OpenOptions options;
  options.state = SecretString(first);  // all the database has
  options.on_state = [&](const SecretString &state) { saved = state.reveal(); };
  auto cred = next.open("oauth2", inline_credential(), options);
  CHECK_NOTHROW(cred->headers());
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
  CHECK_FALSE(saved.empty());
  CHECK(saved != first);
}

TEST_CASE("credential events: rotated, failing, recovered, needs reauthorization: to the embedder and in metrics") {
  auto &env = E2E::get();
  fresh_emulator();
  std::mutex mutex;
  std::vector<CredentialEvent> events;
  HostOptions options = env.host_options();
  options.cache.max_attempts = 1;  // each failure is the caller's to see
  options.cache.backoff_initial_ms = options.cache.backoff_max_ms = 1;
  options.on_event = [&](const CredentialEvent &e) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(e);
  };
  Host host(options);
  OpenOptions open;
  open.label = "tenant-9";
  open.state = SecretString(state_of(connect_account()));
  auto cred = host.open("oauth2", inline_credential(), open);
  auto types = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    std::string out;
    for (const auto &e : events) out += std::string(out.empty() ? "" : ",") + to_string(e.type);
    return out;
  };
  cred->headers();
  CHECK(types() == "state_rotated");
  // The provider fails: one failing event for the run, then one recovered.
  env.emu->set_switch("oauth2", "fail_status", "503");
  cred->invalidate(*cred->headers());
  CHECK_THROWS_AS(cred->headers(), Error);
  CHECK_THROWS_AS(cred->headers(), Error);
  env.emu->set_switch("oauth2", "fail_status", "0");
  REQUIRE(eventually([&] {
    try {
      cred->headers();
      return true;
    } catch (const Error &) {
      return false;
    }
  }));
  CHECK(types() == "state_rotated,failing,state_rotated,recovered");
  {
    std::lock_guard<std::mutex> lock(mutex);
    const CredentialEvent &failing = events[1];
    CHECK(failing.plugin_id == "oauth2");
    CHECK(failing.label == "tenant-9");
    CHECK(failing.state == CredentialState::Failing);
    CHECK(failing.kind == ErrorKind::Provider);
    CHECK(contains(failing.message, "503"));
  }
  // A grant the provider no longer knows (revoked): needs reauthorization, once.
  cred->set_state(SecretString(state_of("revoked-refresh-token")));
  CHECK_THROWS_AS(cred->headers(), Error);
  CHECK_THROWS_AS(cred->headers(), Error);
  CHECK(types() == "state_rotated,failing,state_rotated,recovered,needs_reauthorization");
  MetricsSnapshot m = host.metrics();
  REQUIRE(m.credential_events.size() == 1);
  CHECK(m.credential_events[0].counts["state_rotated"] == 2);
  CHECK(m.credential_events[0].counts["needs_reauthorization"] == 1);
  CHECK(contains(json::metrics_prometheus(m),
                 "credplug_credential_events_total{plugin=\"oauth2\",event=\"recovered\"} 1"));
  for (const auto &e : events) CHECK_FALSE(contains(e.message, kAppSecret));
}

TEST_CASE("credential state: two people's accounts of one client in the fleet never share a token") {
  auto &env = E2E::get();
  fresh_emulator();
  StateFleet fleet;
  Host first(fleet.options()), second(fleet.options());
  auto open = [&](Host &host, const std::string &label, const std::string &refresh_token) {
    OpenOptions options;
    options.label = label;  // the account
    options.state = SecretString(state_of(refresh_token));
    return host.open("oauth2", inline_credential(), options);
  };
  auto alice = open(first, "alice", connect_account());
  auto bob = open(second, "bob", connect_account());
  const std::string alice_token = alice->headers()->headers[0].value.reveal();
  const std::string bob_token = bob->headers()->headers[0].value.reveal();
  CHECK(alice_token != bob_token);  // one JSON, one shared cache: still two people
  CHECK(env.emu->count("oauth2.refresh") == 2);
  // The same account in another process shares its token.
  auto alice_elsewhere = open(second, "alice", "a-refresh-token-never-presented");
  CHECK(alice_elsewhere->headers()->headers[0].value.reveal() == alice_token);
  CHECK(env.emu->count("oauth2.refresh") == 2);
  CHECK(env.emu->count("oauth2.refresh_reuse") == 0);
}
