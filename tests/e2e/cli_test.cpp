// The credplug CLI end to end against the emulator over real TLS. Every
// run goes through E2E::cli(), which fails the test if the client secret
// (or, without --reveal, any issued token) appears in stdout or stderr.
#include "fixture.hpp"

#include <credplug/plugin.h>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <credplug/kit/jwt.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

using namespace credplug;
using namespace credplug::testing;

namespace {

rapidjson::Document parse(const std::string &text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string cred_file(const std::string &extra = "", const std::string &secret = kCanary) {
  return E2E::get().write_new("ainua", E2E::get().ainua_credential(extra, secret));
}

}  // namespace

TEST_CASE("plugins: lists ainua from the default directory beside the binary") {
  auto &env = E2E::get();
  auto text = env.cli({"plugins"});
  CHECK(text.exit_code == 0);
  CHECK(contains(text.out, "ainua"));
  CHECK(contains(text.out, "Ainua Portal"));
  auto json = parse(env.cli({"--json", "plugins"}).out);
  REQUIRE(json["plugins"].Size() >= 1);
  CHECK(std::string(json["plugins"][0]["id"].GetString()) == "ainua");
  CHECK(std::string(json["plugins"][0]["abi"].GetString()) == "1." + std::to_string(CREDPLUG_ABI_MINOR));
  // Minor-1 facts: only Nexla has a refresh operation; each declares a lifetime.
  std::map<std::string, std::pair<bool, unsigned>> facts;
  for (const auto &p : json["plugins"].GetArray())
    facts[p["id"].GetString()] = {p["has_refresh"].GetBool(), p["default_token_lifetime_s"].GetUint()};
  CHECK(facts["nexla"] == std::make_pair(true, 3600u));
  CHECK(facts["ainua"] == std::make_pair(false, 300u));
  CHECK(facts["opencrvs"] == std::make_pair(false, 600u));
  // What each can do beyond a token: sign requests (minor 3), connect and
  // disconnect a person's account (minors 4 and 5).
  std::map<std::string, std::string> can;
  for (const auto &p : json["plugins"].GetArray())
    can[p["id"].GetString()] = std::string(p["signs_requests"].GetBool() ? "s" : "-") +
                               (p["connects_accounts"].GetBool() ? "c" : "-") +
                               (p["disconnects_accounts"].GetBool() ? "d" : "-");
  CHECK(can["oauth2"] == "-cd");
  CHECK(can["aws"] == "s--");
  CHECK(can["ainua"] == "---");
}

TEST_CASE("schema: prints the credential schema with the secret marked writeOnly") {
  auto r = E2E::get().cli({"schema", "ainua"});
  CHECK(r.exit_code == 0);
  auto schema = parse(r.out);
  CHECK(schema["properties"]["client_secret"]["writeOnly"].GetBool());
}

TEST_CASE("validate: a good file passes; a bad one names every field and exits 3") {
  auto &env = E2E::get();
  CHECK(env.cli({"validate", "ainua", cred_file()}).exit_code == 0);
  auto bad = env.write("bad.json", R"({"ainua_url":"http://x","client_secret":")" + kCanary + R"(","clientid":"a"})");
  auto r = env.cli({"validate", "ainua", bad});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "'ainua_url' (Ainua URL) does not have the expected form"));
  CHECK(contains(r.err, "'clientid' is not a field of this credential — did you mean 'client_id'?"));
  CHECK(contains(r.err, "'client_id' (Client ID) is required but missing"));
  auto json = parse(env.cli({"--json", "validate", "ainua", bad}).out);
  CHECK_FALSE(json["valid"].GetBool());
  CHECK(json["errors"].Size() == 3);
  // The shape every --json failure has: ok false, error {kind, message}.
  CHECK_FALSE(json["ok"].GetBool());
  CHECK(std::string(json["error"]["kind"].GetString()) == "invalid_input");
  CHECK(contains(json["error"]["message"].GetString(), "3 problem(s) in the credential; the first: "));
  auto good = parse(env.cli({"--json", "validate", "ainua", cred_file()}).out);
  CHECK(good["ok"].GetBool());
  CHECK_FALSE(good.HasMember("error"));
}

TEST_CASE("--json: pin and new answer in JSON; usage errors too, on stdout") {
  auto &env = E2E::get();
  auto pins = env.cli({"--json", "pin"});
  REQUIRE(pins.exit_code == 0);
  auto p = parse(pins.out);
  CHECK(p["ok"].GetBool());
  CHECK(p["file"].IsNull());
  bool ainua = false;
  for (const auto &pin : p["pins"].GetArray())
    ainua = ainua || (std::string(pin["id"].GetString()) == "ainua" && pin["sha256"].GetStringLength() == 64 &&
                      contains(pin["path"].GetString(), "credplug-ainua.so"));
  CHECK(ainua);
  CHECK(p["skipped"].IsArray());
  const std::string file = env.dir + "/pins-json.txt";
  auto written = parse(env.cli({"--json", "pin", "-o", file}).out);
  CHECK(std::string(written["file"].GetString()) == file);
  std::ifstream pin_file(file);
  CHECK(contains(std::string(std::istreambuf_iterator<char>(pin_file), {}), "\nainua "));
  const std::string dir = env.dir + "/" + env.new_dir("scaffold-json") + "/acme";
  auto made = env.cli({"--json", "new", "acme", "--lang", "c", dir});
  REQUIRE(made.exit_code == 0);
  auto n = parse(made.out);
  CHECK(n["ok"].GetBool());
  CHECK(std::string(n["dir"].GetString()) == dir);
  CHECK(std::string(n["test"].GetString()) == dir + "/test.sh");
  CHECK(n["files"].Size() == 5);
  for (const auto &f : n["files"].GetArray()) CHECK(std::filesystem::exists(dir + "/" + f.GetString()));
  CHECK(n["source_lines"].GetInt() > 50);
  // Usage errors: a missing argument, an unknown option, a mistyped command.
  for (const std::vector<std::string> &args :
       {std::vector<std::string>{"--json", "auth", "ainua"},
        std::vector<std::string>{"--json", "--frobnicate", "plugins"}, std::vector<std::string>{"--json", "plgunis"}}) {
    auto r = env.cli(args);
    CHECK(r.exit_code == 2);
    auto u = parse(r.out);
    CHECK_FALSE(u["ok"].GetBool());
    CHECK(std::string(u["error"]["kind"].GetString()) == "usage");
    CHECK(u["error"]["message"].GetStringLength() > 0);
  }
  CHECK(contains(parse(env.cli({"--json", "plgunis"}).out)["error"]["message"].GetString(), "did you mean 'plugins'?"));
  CHECK(env.cli({"--json", "--help"}).exit_code == 0);
}

TEST_CASE("auth: prints the headers masked and the expiry; one token request") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"auth", "ainua", cred_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Authorization: <secret, "));
  CHECK(contains(r.out, "Expires: "));
  CHECK(contains(r.out, "--reveal prints them"));
  CHECK(env.emu->count("ainua.token") == 1);
}

TEST_CASE("auth --reveal prints the real bearer token, issued to this client") {
  auto &env = E2E::get();
  auto r = env.trusted({"auth", "--reveal", "ainua", cred_file()});
  CHECK(r.exit_code == 0);
  auto at = r.out.find("Authorization: Bearer ");
  REQUIRE(at != std::string::npos);
  std::string token = r.out.substr(at + 22, r.out.find('\n', at) - at - 22);
  auto jwt = kit::decode_jwt(token);
  REQUIRE(jwt);
  CHECK(jwt->claims.string("azp").value() == kClientId);
}

TEST_CASE("auth --json: secret values are null, expiry is the token's") {
  auto &env = E2E::get();
  auto r = env.trusted({"--json", "auth", "ainua", cred_file()});
  CHECK(r.exit_code == 0);
  auto json = parse(r.out);
  CHECK(json["ok"].GetBool());
  CHECK(std::string(json["headers"][0]["name"].GetString()) == "Authorization");
  CHECK(json["headers"][0]["value"].IsNull());
  CHECK(json["headers"][0]["secret"].GetBool());
  int64_t expected = int64_t(std::time(nullptr)) + 300;
  CHECK(json["expires_at"].GetInt64() >= expected - 10);
  CHECK(json["expires_at"].GetInt64() <= expected + 1);
}

TEST_CASE("test: the default test checks the token; the API probe sends Authorization: Bearer") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"test", "ainua", cred_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "ainua: OK"));
  CHECK(contains(r.out, "token_client: connector-1"));
  CHECK(env.emu->count("ainua.api") == 0);

  auto probed =
      env.trusted({"test", "ainua",
                   cred_file(R"("test_request_method":"PATCH","test_request_path":"/api/integrations/v1/items")")});
  CHECK(probed.exit_code == 0);
  CHECK(contains(probed.out, "api_probe: PATCH /api/integrations/v1/items -> HTTP 200"));
  CHECK(env.emu->count("ainua.api") == 1);
  bool bearer = false, authentication = false;
  for (const auto &[name, value] : env.emu->last_headers("ainua.api")) {
    bearer = bearer || (name == "Authorization" && value.rfind("Bearer ey", 0) == 0);
    authentication = authentication || name == "Authentication";
  }
  CHECK(bearer);
  CHECK_FALSE(authentication);
}

TEST_CASE("test: a probe path the API does not have is a configuration error") {
  auto &env = E2E::get();
  auto r = env.trusted({"test", "ainua", cred_file(R"("test_request_path":"/api/integrations/v1/items")")});
  CHECK(r.exit_code == 3);  // GET on a PATCH-only API: 405
  CHECK(contains(r.err, "test_request_path: GET /api/integrations/v1/items -> HTTP 405"));
}

TEST_CASE("rejected credentials exit 4 with the provider's reason") {
  auto &env = E2E::get();
  auto wrong = env.trusted({"test", "ainua", cred_file("", "wrong-secret-value")});
  CHECK(wrong.exit_code == 4);
  CHECK(contains(wrong.err, "credentials rejected"));
  CHECK(contains(wrong.err, "unauthorized_client (Invalid client or Invalid client credentials)"));
  auto unknown = env.write("unknown.json", R"({"ainua_url":"localhost:)" + std::to_string(env.emu->port()) +
                                               R"(","client_id":"nobody","client_secret":")" + kCanary + "\"}");
  CHECK(env.trusted({"auth", "ainua", unknown}).exit_code == 4);
  auto json = parse(env.trusted({"--json", "auth", "ainua", unknown}).out);
  CHECK_FALSE(json["ok"].GetBool());
  CHECK(std::string(json["error"]["kind"].GetString()) == "rejected");
}

TEST_CASE("network and TLS failures exit 5") {
  auto &env = E2E::get();
  auto closed = env.write("closed.json", R"({"ainua_url":"localhost:)" + std::to_string(closed_port()) +
                                             R"(","client_id":"c","client_secret":")" + kCanary + "\"}");
  auto unreachable = env.trusted({"auth", "ainua", closed});
  CHECK(unreachable.exit_code == 5);
  CHECK(contains(unreachable.err, "cannot connect to https://localhost:"));

  auto untrusted = env.cli({"--ca-file", env.other_pki.ca_cert, "auth", "ainua", cred_file()});
  CHECK(untrusted.exit_code == 5);
  CHECK(contains(untrusted.err, "TLS verification failed"));

  auto system_store = env.cli({"auth", "ainua", cred_file()});
  CHECK(system_store.exit_code == 5);

  CHECK(env.cli({"auth", "ainua", cred_file()}, {{"CREDPLUG_CA_FILE", env.pki.ca_cert}}).exit_code == 0);
}

TEST_CASE("plain http is refused before anything is sent") {
  auto &env = E2E::get();
  env.reset();
  auto file = env.write("http.json", R"({"ainua_url":"http://localhost:)" + std::to_string(env.emu->port()) +
                                         R"(","client_id":"c","client_secret":")" + kCanary + "\"}");
  auto r = env.trusted({"auth", "ainua", file});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "ainua_url"));
  CHECK(contains(r.err, "http:// is refused"));
  CHECK(env.emu->count("ainua.token") == 0);
}

TEST_CASE("provider faults exit 6: 503 with Retry-After, non-JSON, truncated JSON") {
  auto &env = E2E::get();
  env.reset();
  auto &sw = env.emu->switches("ainua");
  sw.fail_status = 503;
  sw.retry_after_s = 7;
  auto unavailable = env.trusted({"auth", "ainua", cred_file()});
  CHECK(unavailable.exit_code == 6);
  CHECK(contains(unavailable.err, "HTTP 503"));
  CHECK(contains(unavailable.err, "retry after 7 s"));
  env.reset();
  sw.malformed = true;
  auto html = env.trusted({"auth", "ainua", cred_file()});
  CHECK(html.exit_code == 6);
  CHECK(contains(html.err, "not a JSON object"));
  env.reset();
  sw.truncated = true;
  CHECK(env.trusted({"auth", "ainua", cred_file()}).exit_code == 6);
  env.reset();
}

TEST_CASE("a slow provider hits the timeout: exit 5") {
  auto &env = E2E::get();
  env.reset();
  env.emu->switches("ainua").delay_ms = 1500;
  auto r = env.trusted({"--timeout", "300", "auth", "ainua", cred_file()});
  env.reset();
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "no answer from https://localhost:"));
}

TEST_CASE("secrets never need the command line: $env, $file, $stdin, and - for the file") {
  auto &env = E2E::get();
  auto env_ref =
      env.write("env.json", env.ainua_credential().replace(env.ainua_credential().find("\"" + kCanary + "\""),
                                                           kCanary.size() + 2, R"({"$env":"AINUA_SECRET"})"));
  CHECK(env.trusted({"auth", "ainua", env_ref}, {{"AINUA_SECRET", kCanary}}).exit_code == 0);
  auto missing = env.trusted({"auth", "ainua", env_ref});
  CHECK(missing.exit_code == 3);
  CHECK(contains(missing.err, "field 'client_secret' refers to environment variable AINUA_SECRET, which is not set"));

  auto secret_file = env.write("secret.txt", kCanary + "\n");
  auto file_ref =
      env.write("fileref.json", R"({"ainua_url":"localhost:)" + std::to_string(env.emu->port()) +
                                    R"(","client_id":"connector-1","client_secret":{"$file":")" + secret_file + "\"}}");
  CHECK(env.trusted({"auth", "ainua", file_ref}).exit_code == 0);

  auto stdin_ref = env.write("stdinref.json", R"({"ainua_url":"localhost:)" + std::to_string(env.emu->port()) +
                                                  R"(","client_id":"connector-1","client_secret":{"$stdin":true}})");
  CHECK(env.trusted({"auth", "ainua", stdin_ref}, {}, kCanary + "\n").exit_code == 0);
  CHECK(env.trusted({"test", "ainua", "-"}, {}, env.ainua_credential()).exit_code == 0);
}

TEST_CASE("debug logging shows requests, never secrets or tokens") {
  auto &env = E2E::get();
  const std::string file = cred_file();
  auto r = env.trusted({"-vv", "test", "ainua", file});
  CHECK(r.exit_code == 0);
  // Each line names the plugin and the credential: its file.
  CHECK(contains(r.err, "debug: [ainua '" + file + "'] POST https://localhost:"));
  CHECK(contains(r.err, "/realms/ncp/protocol/openid-connect/token -> HTTP 200"));
  CHECK(contains(r.err, "info: [ainua '" + file + "'] first token (generation 1, valid for "));
}

TEST_CASE("--log-format json: one JSON object a line on stderr, naming the credential's file") {
  auto &env = E2E::get();
  const std::string file = cred_file();
  auto r = env.trusted({"-v", "--log-format", "json", "test", "ainua", file});
  CHECK(r.exit_code == 0);
  bool obtained = false;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document doc;
    REQUIRE_MESSAGE(!doc.Parse(line.c_str()).HasParseError(), line);
    CHECK(doc["level"].GetString() == std::string("info"));
    if (doc.HasMember("event") && doc["event"].GetString() == std::string("token_obtained")) {
      obtained = true;
      CHECK(doc["plugin"].GetString() == std::string("ainua"));
      CHECK(doc["credential"].GetString() == file);
    }
  }
  CHECK(obtained);
  auto wrong = env.trusted({"--log-format", "yaml", "plugins"});
  CHECK(wrong.exit_code == 2);
}

TEST_CASE("usage errors exit 2; --help and --version exit 0; an unknown plugin exits 3") {
  auto &env = E2E::get();
  CHECK(env.cli({}).exit_code == 2);
  CHECK(env.cli({"frobnicate"}).exit_code == 2);
  CHECK(env.cli({"auth", "ainua"}).exit_code == 2);
  auto help = env.cli({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "Exit codes"));
  auto version = env.cli({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(contains(version.out, "plugin ABI 1." + std::to_string(CREDPLUG_ABI_MINOR)));
  auto unknown = env.trusted({"auth", "nope", cred_file()});
  CHECK(unknown.exit_code == 3);
  CHECK(contains(unknown.err, "no plugin with id 'nope'; available: ainua"));
  auto missing_file = env.trusted({"auth", "ainua", env.dir + "/does-not-exist.json"});
  CHECK(missing_file.exit_code == 3);
  CHECK(contains(missing_file.err, "cannot read credential file"));
}

TEST_CASE("a mistyped command is named, with the nearest command; a --plugin-dir that is not a directory is refused") {
  auto &env = E2E::get();
  auto typo = env.cli({"--plugin-dir", env.dir, "tset", "ainua", cred_file()});
  CHECK(typo.exit_code == 2);
  CHECK(contains(typo.err, "credplug: 'tset' is not a command; did you mean 'test'?"));
  auto swapped = env.cli({"plgunis"});
  CHECK(swapped.exit_code == 2);
  CHECK(contains(swapped.err, "did you mean 'plugins'?"));
  auto far = env.cli({"frobnicate"});
  CHECK(far.exit_code == 2);
  CHECK(contains(far.err, "'frobnicate' is not a command (credplug --help"));
  auto missing = env.cli({"--plugin-dir", env.dir + "/no-such-dir", "plugins"});
  CHECK(missing.exit_code == 3);
  CHECK(contains(missing.err, "--plugin-dir " + env.dir + "/no-such-dir: no such directory"));
  auto file = env.cli({"--plugin-dir", cred_file(), "plugins"});
  CHECK(file.exit_code == 3);
  CHECK(contains(file.err, "is a file, not a directory"));
  auto unknown = env.trusted({"auth", "nope", cred_file()});
  CHECK(contains(unknown.err,
                 "for a plugin elsewhere, name the directory that holds credplug-nope.so or "
                 "credplug-nope.provider.json (--plugin-dir"));
}

TEST_CASE("test: many files or a directory, concurrently; a summary table; JSON per credential; first failure's code") {
  auto &env = E2E::get();
  env.reset();
  const std::string name = env.new_dir("many"), dir = env.dir + "/" + name;
  for (int i = 0; i < 6; ++i) {
    std::string key = i == 3 ? std::string("CANARY-nexla-wrong-key-do-not-print") : kNexlaKey;
    env.write(name + "/cred-" + std::to_string(i) + ".json", env.nexla_credential("", key));
  }
  env.write(name + "/notes.txt", "not a credential");

  auto table = env.trusted({"test", "nexla", dir, "--jobs", "3"});
  CHECK(table.exit_code == 4);  // the failing file was rejected
  for (int i = 0; i < 6; ++i) CHECK(contains(table.out, "cred-" + std::to_string(i) + ".json"));
  CHECK_FALSE(contains(table.out, "notes.txt"));
  CHECK(contains(table.out, "FILE"));
  CHECK(contains(table.out, "rejected"));
  CHECK(contains(table.out, "user_id=42"));
  CHECK(contains(table.out, "6 credential(s): 5 passed, 1 failed"));
  CHECK(contains(table.out, "(3 job(s); 11 HTTPS request(s) over "));
  CHECK_FALSE(contains(table.err, "[#"));  // no progress bar when stderr is not a terminal
  CHECK(env.emu->count("nexla.token") == 6);
  CHECK(env.emu->count("nexla.api") == 5);

  auto lines =
      env.trusted({"--json", "test", "nexla", dir + "/cred-0.json", dir + "/cred-3.json", dir + "/cred-5.json"});
  CHECK(lines.exit_code == 4);
  std::map<std::string, bool> ok_by_file;
  size_t start = 0, count = 0;
  while (start < lines.out.size()) {
    size_t end = lines.out.find('\n', start);
    auto doc = parse(lines.out.substr(start, end - start));
    ok_by_file[doc["file"].GetString()] = doc["ok"].GetBool();
    if (!doc["ok"].GetBool()) CHECK(std::string(doc["error"]["kind"].GetString()) == "rejected");
    ++count;
    start = end + 1;
  }
  CHECK(count == 3);
  CHECK(ok_by_file[dir + "/cred-0.json"]);
  CHECK_FALSE(ok_by_file[dir + "/cred-3.json"]);
  CHECK(ok_by_file[dir + "/cred-5.json"]);

  auto all_good = env.trusted({"test", "nexla", dir + "/cred-0.json", dir + "/cred-1.json", "-j", "2"});
  CHECK(all_good.exit_code == 0);
  CHECK(contains(all_good.out, "2 credential(s): 2 passed, 0 failed"));
  auto stdin_among = env.trusted({"test", "nexla", dir + "/cred-0.json", "-"});
  CHECK(stdin_among.exit_code == 3);
  CHECK(contains(stdin_among.err, "standard input"));
}

TEST_CASE("test: on a terminal, many files show a progress bar") {
  auto &env = E2E::get();
  env.reset();
  const std::string a = env.write_new("tty", env.nexla_credential()), b = env.write_new("tty", env.nexla_credential());
  // script(1) gives the CLI a pseudo-terminal.
  std::string command = std::string(CREDPLUG_CLI) + " --ca-file " + env.pki.ca_cert + " test nexla " + a + " " + b;
  auto r = run_process({"/usr/bin/script", "-qec", command, "/dev/null"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "[##############################] 2/2  ok 2  failed 0"));
  CHECK(contains(r.out, "2 credential(s): 2 passed, 0 failed"));
  CHECK_FALSE(contains(r.out, kNexlaKey));
}
