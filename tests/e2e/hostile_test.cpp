// The fault matrix of issue 8 through the CLI and the embedding API: hostile
// credential files and token endpoints end with a clear message naming the
// field, limit or header, a documented exit code, and nothing leaked.
#include "fixture.hpp"

#include <doctest/doctest.h>
#include <credplug/kit/encoding.hpp>
#include <support/on_threads.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>

using namespace credplug;
using namespace credplug::testing;

namespace {

std::string cred_file(const std::string &extra = "") {
  return E2E::get().write_new("hostile", E2E::get().ainua_credential(extra));
}

// The Ainua token endpoint answers `body` (with `status`).
void hostile_token(const std::string &body, int status = 200) {
  auto &env = E2E::get();
  env.emu->set_option("ainua", "hostile_body", body);
  env.emu->set_option("ainua", "hostile_status", std::to_string(status));
}

// An unsigned JWT with these claims (Ainua's plugin reads, never verifies).
std::string jwt(const std::string &claims) {
  return kit::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + kit::base64url_encode(claims) + ".c2ln";
}

// One row of the fault matrix (issue 8's closing note): the case, the exit
// code, and the message credplug gave.
void matrix(const std::string &name, const ProcessResult &r) {
  std::string err = r.err.empty() ? r.out : r.err;
  if (size_t issuer = err.find("token_issuer"); issuer != std::string::npos)
    err = err.substr(0, err.find('\n', issuer));
  while (!err.empty() && err.back() == '\n') err.pop_back();
  std::string last = err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
  if (last.size() > 220) last = last.substr(0, 217) + "...";
  MESSAGE("fault matrix | " << name << " | exit " << r.exit_code << " | " << last);
}

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

TEST_CASE("a secret echoed across the 200th character of error_description is not printed, even in part") {
  auto &env = E2E::get();
  env.reset();
  hostile_token(R"({"error":"invalid_client","error_description":")" + std::string(180, 'd') + "{client_secret}" +
                    std::string(3000, 'e') + "\"}",
                401);
  for (const char *json : {"", "--json"}) {
    std::vector<std::string> args{"auth", "ainua", cred_file()};
    if (*json) args.insert(args.begin(), json);
    auto r = env.trusted(args);
    matrix(std::string("secret across the 200th character of error_description") + (*json ? " (--json)" : ""), r);
    CHECK(r.exit_code == 4);
    CHECK(contains(r.out + r.err, "[REDACTED]"));
    CHECK_FALSE(contains(r.out + r.err, kCanary.substr(0, 8)));  // not even its first characters
    CHECK(r.out.size() + r.err.size() < 4000);                   // shortened after redaction
  }
}

TEST_CASE("Basic credentials echoed without the word Basic are not printed") {
  auto &env = E2E::get();
  env.reset();
  env.emu->set_option("avni", "hostile_body", R"({"error":"invalid_client","error_description":"bad: {basic}"})");
  env.emu->set_option("avni", "hostile_status", "401");
  std::string encoded = kit::base64_encode("avni-app:" + kAvniSecret);
  auto file = env.write_new(
      "avni", env.avni_credential(R"("token_flow":"client_credentials","access_token_url":")" + env.emu->origin() +
                                  R"(/oauth2/token","client_id":"avni-app","client_secret":")" + kAvniSecret + "\""));
  auto r = env.trusted({"auth", "avni", file});
  matrix("server echoes base64(client_id:client_secret)", r);
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "bad: [REDACTED]"));
  CHECK_FALSE(contains(r.out + r.err, encoded));
}

TEST_CASE("a token carrying CR LF is refused as a provider error naming the header, never the value") {
  auto &env = E2E::get();
  env.reset();
  hostile_token(R"({"access_token":"abc.def\r\nX-Injected: yes","token_type":"Bearer","expires_in":300})");
  auto r = env.trusted({"auth", "--reveal", "ainua", cred_file()});
  matrix("token with CR LF (auth --reveal)", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "header 'Authorization'"));
  CHECK(contains(r.err, "control character \\x0d"));
  CHECK_FALSE(contains(r.out + r.err, "X-Injected"));
  // The embedding API refuses it the same way: the embedder never gets it.
  Host host(env.host_options());
  auto credential = host.open("ainua", env.ainua_credential());
  try {
    credential->headers();
    FAIL("headers() accepted a header value with CR LF");
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::Provider);
    CHECK(contains(e.what(), "header 'Authorization'"));
    CHECK_FALSE(contains(e.what(), "X-Injected"));
  }
}

TEST_CASE("absurd expiries are refused with an accurate message, without overflow") {
  auto &env = E2E::get();
  env.reset();
  hostile_token(R"({"access_token":"abc","token_type":"Bearer","expires_in":9.2e18})");
  auto r = env.trusted({"auth", "ainua", cred_file()});
  matrix("expires_in 9.2e18", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "expires_in 9200000000000000000, more than 10 years"));
  CHECK_FALSE(contains(r.err, "clock"));

  // No expires_in: the JWT's exp (1e16) is what the plugin reports.
  hostile_token(R"({"access_token":")" + jwt(R"({"exp":1e16,"azp":"connector-1"})") + R"(","token_type":"Bearer"})");
  r = env.trusted({"auth", "ainua", cred_file()});
  matrix("JWT exp 1e16", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "Unix time 10000000000000000) is more than 10 years away"));

  hostile_token(R"({"access_token":")" + jwt(R"({"exp":-9223372036854775807,"azp":"connector-1"})") +
                R"(","token_type":"Bearer"})");
  r = env.trusted({"auth", "ainua", cred_file()});
  matrix("JWT exp -9.2e18", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "already expired when it arrived"));
  CHECK(contains(r.err, "more than 10 years before this machine's clock"));
}

TEST_CASE("a token body nested 400,000 deep is refused, naming the limit; the process survives") {
  auto &env = E2E::get();
  env.reset();
  hostile_token("{\"a\":" + std::string(400000, '[') + std::string(400000, ']') + "}");
  auto r = env.trusted({"auth", "ainua", cred_file()});
  matrix("token body nested 400,000 deep (800 KB)", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "nested deeper than 64 levels"));

  // Nested claims in the JWT: not decoded at all, so not a JWT to the test.
  std::string deep_claims = "{\"azp\":\"connector-1\",\"x\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  hostile_token(R"({"access_token":")" + jwt(deep_claims) + R"(","token_type":"Bearer","expires_in":300})");
  r = env.trusted({"test", "ainua", cred_file()});
  INFO(r.err);
  matrix("JWT claims nested 10,000 deep", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "not a JWT"));
  // A token too large to be a header value is refused by the host.
  hostile_token(R"({"access_token":")" + std::string(100000, 'T') + R"(","token_type":"Bearer","expires_in":300})");
  r = env.trusted({"auth", "ainua", cred_file()});
  matrix("100 KB token", r);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "header 'Authorization': its value is 100007 bytes, over the 65536-byte limit"));
}

TEST_CASE("terminal escapes in claims and messages are shown as text") {
  auto &env = E2E::get();
  env.reset();
  std::string exp = std::to_string(std::time(nullptr) + 300);
  hostile_token(R"({"access_token":")" +
                jwt(R"({"exp":)" + exp + R"(,"azp":"connector-1","iss":"\u001b]0;pwned\u0007\u001b[2J evil"})") +
                R"(","token_type":"Bearer","expires_in":300})");
  auto r = env.trusted({"test", "ainua", cred_file()});
  matrix("ESC and BEL in JWT claims (test output)", r);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "\\x1b]0;pwned\\x07\\x1b[2J evil"));
  CHECK_FALSE(contains(r.out + r.err, "\x1b"));
  hostile_token(R"({"error":"invalid_client","error_description":"\u001b[31mALERT\u009b2J"})", 401);
  r = env.trusted({"auth", "ainua", cred_file()});
  matrix("ESC and CSI in error_description", r);
  CHECK(r.exit_code == 4);
  CHECK_FALSE(contains(r.out + r.err, "\x1b"));
  CHECK_FALSE(contains(r.out + r.err, "\xc2\x9b"));
}

TEST_CASE("endless and oversized credential sources are cut at 1 MiB with a clear error") {
  auto &env = E2E::get();
  auto started = std::chrono::steady_clock::now();
  auto r = env.trusted({"validate", "ainua", "/dev/zero"});
  matrix("credential file /dev/zero", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "credential file '/dev/zero' is larger than the 1048576-byte limit"));
  r = env.trusted(
      {"validate", "ainua",
       env.write_new("zero", R"({"ainua_url":"a.b","client_id":"c","client_secret":{"$file":"/dev/zero"}})")});
  matrix("{\"$file\": \"/dev/zero\"}", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the file for field 'client_secret' '/dev/zero' is larger than the 1048576-byte limit"));
  r = env.trusted({"validate", "ainua",
                   env.write_new("stdin", R"({"ainua_url":"a.b","client_id":"c","client_secret":{"$stdin":true}})")},
                  {}, std::string((1 << 20) + 10, 's'));
  matrix("{\"$stdin\": true} with 1 MiB + 10 bytes", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "standard input for field 'client_secret' is larger than the 1048576-byte limit"));
  CHECK(elapsed_ms(started) < 20000);

  r = env.trusted({"validate", "ainua", env.dir});
  matrix("a directory as the credential file", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "is a directory, not a file"));
  r = env.trusted(
      {"validate", "ainua",
       env.write_new("dir", R"({"ainua_url":"a.b","client_id":"c","client_secret":{"$file":")" + env.dir + "\"}}")});
  matrix("{\"$file\": <a directory>}", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the file for field 'client_secret' '" + env.dir + "' is a directory, not a file"));
}

TEST_CASE("a value loaded through a reference is a secret wherever it goes; --no-references refuses them") {
  auto &env = E2E::get();
  env.reset();
  auto passwd =
      env.write_new("passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");
  auto file_ref = env.write_new("fileref", env.ainua_credential(R"("scope":{"$file":")" + passwd + "\"}"));
  auto r = env.trusted({"validate", "ainua", file_ref});
  matrix("{\"$file\": \"<passwd copy>\"} in a plain field", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "'scope' (Scope) does not have the expected form"));
  CHECK_FALSE(contains(r.out + r.err, "root:x"));

  const std::string aws = "AKIA-env-canary-3b9f0e\nline2";
  auto env_ref = env.write_new("envref", env.ainua_credential(R"("scope":{"$env":"AWS_SECRET_ACCESS_KEY"})"));
  r = env.trusted({"--json", "validate", "ainua", env_ref}, {{"AWS_SECRET_ACCESS_KEY", aws}});
  matrix("{\"$env\": \"AWS_SECRET_ACCESS_KEY\"} in a plain field (--json)", r);
  CHECK(r.exit_code == 3);
  CHECK_FALSE(contains(r.out + r.err, "AKIA-env-canary"));

  r = env.trusted({"--no-references", "validate", "ainua", env_ref}, {{"AWS_SECRET_ACCESS_KEY", aws}});
  matrix("--no-references with a reference", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "field 'scope' is a {\"$env\": ...} reference, and references are refused (--no-references)"));
  r = env.trusted({"validate", "ainua", env_ref}, {{"AWS_SECRET_ACCESS_KEY", aws}, {"CREDPLUG_NO_REFERENCES", "1"}});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "references are refused"));
  r = env.trusted({"--no-references", "test", "ainua", cred_file(), cred_file()});
  CHECK(r.exit_code == 0);  // files without references still pass
}

TEST_CASE("hostile credential text: deep nesting, invalid UTF-8 and NUL exit 3 naming the problem") {
  auto &env = E2E::get();
  auto r = env.trusted({"validate", "ainua",
                        env.write_new("deep", "{\"a\":" + std::string(50000, '[') + std::string(50000, ']') + "}")});
  matrix("credential nested 50,000 deep", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "nested deeper than 64 levels"));
  r = env.trusted({"validate", "ainua", cred_file("\"test_request_path\":\"/ok/api/\xff\\r\\nX-Evil: 1\"")});
  matrix("\\xff in test_request_path", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "Invalid encoding in string"));
  r = env.trusted({"validate", "ainua", cred_file(R"("test_request_path":"/ok\u0000/../admin")")});
  matrix("\\u0000 in test_request_path", r);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "NUL character"));
}

TEST_CASE("the CLI never dumps core: its core limit is 0 while it holds a credential") {
  // credplug blocks reading the credential from a FIFO the shell holds open
  // until it has read the limit from /proc: no timing assumption.
  auto &env = E2E::get();
  std::string fifo = env.dir + "/core-fifo";
  std::string script = "mkfifo '" + fifo + "' && { '" + std::string(CREDPLUG_CLI) + "' validate ainua - < '" + fifo +
                       "' & pid=$!; exec 3>'" + fifo +
                       "'; ok=no; i=0; while [ $i -lt 400 ]; do "
                       "if grep -Eq '^Max core file size +0 +0 ' /proc/$pid/limits; then ok=yes; break; fi; "
                       "sleep 0.05; i=$((i+1)); done; exec 3>&-; wait $pid; echo core-limit-zero=$ok; }";
  auto r = run_process({"/bin/sh", "-c", script});
  CHECK(contains(r.out, "core-limit-zero=yes"));
}

TEST_CASE("concurrent credentials share a bounded pool of kept-alive connections") {
  // 40 credentials, 8 at a time, 2 requests each (token, API probe): every
  // job reuses its connection; before the pool each request opened its own.
  auto &env = E2E::get();
  env.reset();
  const std::string name = env.new_dir("pool"), dir = env.dir + "/" + name;
  for (int i = 0; i < 40; ++i)
    env.write(
        name + "/c" + std::to_string(i) + ".json",
        env.ainua_credential(R"("test_request_method":"PATCH","test_request_path":"/api/integrations/v1/items")"));
  auto r = env.trusted({"test", "ainua", dir, "--jobs", "8"});
  INFO(r.out);
  CHECK(r.exit_code == 0);
  size_t at = r.out.find("80 HTTPS request(s) over ");
  REQUIRE(at != std::string::npos);
  int connections = std::stoi(r.out.substr(at + std::string("80 HTTPS request(s) over ").size()));
  CHECK(connections >= 1);
  CHECK(connections <= 8);

  // The same through the embedding API, from 8 threads on one Host.
  Host host(env.host_options());
  std::vector<std::unique_ptr<Credential>> credentials;
  for (int i = 0; i < 8; ++i)
    credentials.push_back(host.open("ainua", env.ainua_credential(R"("scope":"s)" + std::to_string(i) + "\"")));
  on_threads(8, [&](int i) {
    for (int k = 0; k < 5; ++k) credentials[size_t(i)]->authenticate();
  });
  HttpStats stats = host.http_stats();
  CHECK(stats.requests == 40);
  CHECK(stats.connections_opened <= 8);
}
