// Providers described in JSON (docs/DESCRIBED_PROVIDERS.md): the shipped
// descriptions of examples/json-provider, each kind against the emulator
// (which plays an API that takes a static key, a Basic user, or a token
// from its OAuth 2.0 token endpoint), through the CLI and the C++ API in
// whichever isolation mode the suite runs; found, pinned and replaced as
// plugins are; refused at load with the member named; a key never in any
// output unless --reveal.
#include "fixture.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>
#include <support/test_keys.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace credplug;
using namespace credplug::testing;

namespace {

const std::string kExamples = std::string(CREDPLUG_SOURCE_DIR) + "/examples/json-provider";
const std::string kDescribedClient = "described-client";
const std::string kClientSecret = "CANARY-described-client-secret-do-not-print";

ProcessResult run(const std::vector<std::string> &args, const std::map<std::string, std::string> &env = {}) {
  std::vector<std::string> full{"--plugin-dir", kExamples};
  full.insert(full.end(), args.begin(), args.end());
  auto r = E2E::get().trusted(full, env);
  CHECK_FALSE(contains(r.out + r.err, kClientSecret));
  return r;
}

std::string read(const std::string &path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string key_credential(const std::string &key_json = "{\"$env\": \"STATIC_KEY\"}") {
  return R"({"api_url": ")" + E2E::get().emu->origin() + R"(", "api_key": )" + key_json + "}";
}

std::string oauth2_credential(const std::string &extra = "") {
  const std::string origin = E2E::get().emu->origin();
  return R"({"token_url": ")" + origin + R"(/oauth/token", "client_id": ")" + kDescribedClient +
         R"(", "client_secret": ")" + kClientSecret + R"(", "api_url": ")" + origin + "\"" + extra + "}";
}

const std::map<std::string, std::string> kKeyEnv{{"STATIC_KEY", kStaticKey}};

// A directory holding `text` as credplug-<id>.provider.json.
std::string description_dir(const std::string &id, const std::string &text) {
  auto &env = E2E::get();
  const std::string dir = env.new_dir("described");
  env.write(dir + "/credplug-" + id + ".provider.json", text);
  return env.dir + "/" + dir;
}

// The shipped description of `id`, with `from` replaced by `to`.
std::string example_with(const std::string &id, const std::string &from, const std::string &to) {
  std::string text = read(kExamples + "/credplug-" + id + ".provider.json");
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("described: an API key in a header, with zero code: test, auth masked, never expires; a wrong key exits 4") {
  auto &env = E2E::get();
  env.reset();
  const std::string file = env.write_new("keyed", key_credential());
  auto r = run({"test", "keyed-api", file}, kKeyEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "keyed-api: OK"));
  CHECK(contains(r.out, "account: keyed-account"));
  CHECK(contains(r.out, "does not expire"));
  CHECK(header(env.emu->last_headers("keyed-api.api"), "X-Api-Key") == kStaticKey);
  r = run({"auth", "keyed-api", file}, kKeyEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "X-Api-Key: <secret, " + std::to_string(kStaticKey.size()) + " characters>"));
  r = run({"test", "keyed-api", file}, {{"STATIC_KEY", "not-the-key-0000"}});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "Keyed API (API key in a header) refused the key: GET " + env.emu->origin() +
                            "/keyed-api/me -> HTTP 401"));
  // A credential the schema refuses names the field, before any request.
  r = run({"validate", "keyed-api", env.write_new("keyed", key_credential("\"short\""))});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.out + r.err, "api_key"));
  // Listed like a plugin, with what it is.
  r = run({"plugins"});
  CHECK(contains(r.out, "1.0.0    json  Keyed API (API key in a header)"));
  r = run({"--json", "plugins"});
  auto listed = kit::JsonDocument::parse_object("{\"p\":" + r.out + "}");
  REQUIRE(listed);
  CHECK(contains(r.out, "\"isolation\": \"described\""));
  CHECK(contains(r.out, "credplug-keyed-api.provider.json"));
}

TEST_CASE("described: through the C++ API: headers() from the cache, the key secret, no expiry") {
  auto &env = E2E::get();
  env.reset();
  HostOptions options = env.host_options();
  options.plugin_dirs = {kExamples};
  Host host(options);
  PluginInfo info = host.plugin("bearer-api");
  CHECK(info.isolation == "described");
  CHECK(info.has_test);
  CHECK_FALSE(info.signs_requests);
  auto cred = host.open("bearer-api", R"({"api_url": ")" + env.emu->origin() + R"(", "token": ")" + kStaticKey + "\"}");
  HeadersPtr set = cred->headers();
  REQUIRE(set->headers.size() == 1);
  CHECK(set->headers[0].name == "Authorization");
  CHECK(set->headers[0].value.reveal() == "Bearer " + kStaticKey);
  CHECK(set->headers[0].secret);
  CHECK(set->never_expires);
  CHECK(cred->headers() == set);  // from the cache
  auto t = cred->test();
  CHECK(t.auth.never_expires);
  CHECK(env.emu->count("bearer-api.api") == 1);
  // Every thread, one instance: the description's instances are read-only.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) ok += cred->headers()->headers.size() == 1;
    });
  for (auto &t : threads) t.join();
  CHECK(ok == 400);
}

TEST_CASE("described: an API key in the query string: sign() adds it to each URL, masked unless --reveal") {
  auto &env = E2E::get();
  env.reset();
  env.emu->add_client("query-key-api", "revealed-account", "reveal-me-key-123");
  const std::string file = env.write_new("query", key_credential());
  auto r = run({"test", "query-key-api", file}, kKeyEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "account: query-account"));
  CHECK(contains(env.emu->last_request("query-key-api.api").first, "api_key=" + kit::url_encode(kStaticKey)));
  r = run({"sign", "query-key-api", file, "--url", env.emu->origin() + "/v1/items?page=2"}, kKeyEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "api_key"));
  CHECK(contains(r.out, "/v1/items?page=2&api_key="));
  r = run({"sign", "query-key-api", env.write_new("query", key_credential("\"reveal-me-key-123\"")), "--url",
           env.emu->origin() + "/query-key-api/me", "--reveal"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "/query-key-api/me?api_key=reveal-me-key-123"));
  // The URL it signs is accepted by the API.
  HostOptions options = env.host_options();
  options.plugin_dirs = {kExamples};
  Host host(options);
  auto cred = host.open("query-key-api", key_credential("\"" + kStaticKey + "\""));
  CHECK(cred->headers()->headers.empty());  // nothing to attach: the key goes in the URL
  const std::string url = env.emu->origin() + "/query-key-api/me";
  RequestToSign request;
  request.url = url;
  SignedRequest s = cred->sign(request);
  REQUIRE(s.query.size() == 1);
  CHECK(s.query[0].secret);
  CHECK(s.url == std::string(request.url) + "?api_key=" + kit::url_encode(kStaticKey));
}

TEST_CASE("described: Basic authentication: RFC 7617's header; a ':' in the user name is refused with exit 3") {
  auto &env = E2E::get();
  env.reset();
  auto cred = [&](const std::string &user) {
    return env.write_new("basic", R"({"api_url": ")" + env.emu->origin() + R"(", "username": ")" + user +
                                      R"(", "password": {"$env": "STATIC_KEY"}})");
  };
  auto r = run({"test", "basic-api", cred("basic-user")}, kKeyEnv);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "account: basic-user"));
  CHECK(header(env.emu->last_headers("basic-api.api"), "Authorization") ==
        "Basic " + kit::base64_encode("basic-user:" + kStaticKey));
  r = run({"test", "basic-api", cred("someone-else")}, kKeyEnv);
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "refused the user name and password"));
  // The schema's pattern says it first; without one, the interpreter does.
  const std::string dir = description_dir("basic-api", example_with("basic-api", R"("pattern": "^[^:]+$",)", ""));
  r = env.trusted({"--plugin-dir", dir, "auth", "basic-api", cred("a:b")}, kKeyEnv);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the user name holds a ':', which Basic authentication cannot carry"));
}

TEST_CASE("described: OAuth 2.0 client credentials: basic, post and private_key_jwt; scope and extra parameters") {
  auto &env = E2E::get();
  env.reset();
  env.emu->add_client("oauth2", kDescribedClient, kClientSecret);
  auto r = run({"test", "oauth2-described", env.write_new("oauth2", oauth2_credential(R"(, "scope": "read write")"))});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "client: " + kDescribedClient));
  CHECK(contains(header(env.emu->last_headers("oauth2.token"), "Authorization"), "Basic "));
  std::string body = env.emu->last_request("oauth2.token").second;
  CHECK(contains(body, "scope=read%20write"));
  CHECK_FALSE(contains(body, "audience"));  // its field is absent: not sent
  r = run({"auth", "oauth2-described",
           env.write_new("oauth2", oauth2_credential(R"(, "audience": "https://api.example.com/")"))});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Expires: "));
  body = env.emu->last_request("oauth2.token").second;
  CHECK(contains(body, "audience=https%3A%2F%2Fapi.example.com%2F"));
  CHECK_FALSE(contains(body, "scope="));
  // The wrong secret: refused, exit 4.
  r = run({"test", "oauth2-described",
           env.write_new("oauth2", oauth2_credential().replace(oauth2_credential().find(kClientSecret),
                                                               kClientSecret.size(), "wrong-secret-000"))});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "OAuth 2.0 client credentials (described) token endpoint"));

  // client_secret_post, by changing one member.
  std::string dir = description_dir(
      "oauth2-described", example_with("oauth2-described", R"("client_auth": "basic")", R"("client_auth": "post")"));
  r = env.trusted({"--plugin-dir", dir, "test", "oauth2-described", env.write_new("oauth2", oauth2_credential())});
  CHECK(r.exit_code == 0);
  CHECK(header(env.emu->last_headers("oauth2.token"), "Authorization").empty());
  CHECK(contains(env.emu->last_request("oauth2.token").second, "client_id=" + kDescribedClient));

  // private_key_jwt (its own example): a key instead of a secret; the
  // emulator checks the assertion with the registered public key.
  const std::string key = make_private_key_pem("p256");
  env.emu->add_client_key("oauth2", "jwt-described", public_key_pem(key));
  const std::string origin = env.emu->origin();
  const std::string jwt_cred = R"({"token_url": ")" + origin + R"(/oauth/token", "client_id": "jwt-described", )" +
                               R"("private_key": )" + kit::json_quote(key) + R"(, "api_url": ")" + origin + "\"}";
  r = run({"test", "oauth2-jwt-described", env.write_new("oauth2", jwt_cred)});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.out + r.err, "PRIVATE KEY"));
  body = env.emu->last_request("oauth2.token").second;
  CHECK(contains(body, "client_assertion=ey"));
  CHECK_FALSE(contains(body, "client_secret"));
  // With an issuer, the assertion is for it: this server wants its token URL, and says so.
  r = run({"auth", "oauth2-jwt-described",
           env.write_new("oauth2", jwt_cred.substr(0, jwt_cred.size() - 1) + R"(, "issuer": ")" + origin + "\"}")});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "the assertion's aud is not this token endpoint"));
  // Not a key: exit 3 naming the field, never the text.
  std::string not_a_key;
  for (int i = 0; i < 5; ++i) not_a_key += "not-a-key-at-all";
  r = run(
      {"auth", "oauth2-jwt-described",
       env.write_new("oauth2", R"({"token_url": ")" + origin + R"(/oauth/token", "client_id": "x", "private_key": ")" +
                                   not_a_key + R"(", "api_url": ")" + origin + "\"}")});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "private_key"));
  CHECK(contains(r.err, "not a PEM private key"));
  CHECK_FALSE(contains(r.err, "not-a-key"));
}

TEST_CASE("described: a mistake in a description is refused at load, naming the member; other plugins still load") {
  auto &env = E2E::get();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {example_with("keyed-api", R"("kind": "api_key")", R"("kidn": "api_key")"), "unknown member auth.kidn"},
      {example_with("keyed-api", R"("kind": "api_key")", R"("kind": "api-key")"),
       "auth.kind is 'api-key'; expected one of api_key, basic, bearer, oauth2_client_credentials"},
      {example_with("keyed-api", "{api_key}", "{api_kye}"),
       "auth.value uses {api_kye}, which credential_schema does not define (its properties: api_key, api_url)"},
      {example_with("keyed-api", R"("value": "{api_key}")", R"("value": "{api_url}")"),
       "auth.value makes a secret from {api_url}, which credential_schema does not mark \"writeOnly\": true"},
      {example_with("keyed-api", "{api_url}/keyed-api/me", "http://example.com/me"),
       "test.url must be an https:// URL"},
      {example_with("keyed-api", "{api_url}/keyed-api/me", "{api_url}/me?key={api_key}"),
       "test.url uses the secret field {api_key}"},
      {example_with("keyed-api", R"("credplug_provider": 1)", R"("credplug_provider": 2)"),
       "credplug_provider must be 1"},
      {example_with("keyed-api", R"("type": "object")", R"("type": "objcet")"), "credential_schema"},
      {example_with("keyed-api", R"("id": "keyed-api")", R"("id": "other")"), "rename it credplug-other.provider.json"},
      {"{\"credplug_provider\": 1, ", "not valid JSON"},
  };
  for (const auto &c : cases) {
    const std::string &text = c.first, &expected = c.second;
    CAPTURE(expected);
    const std::string dir = description_dir("keyed-api", text);
    auto r =
        env.trusted({"--plugin-dir", dir, "validate", "keyed-api", env.write_new("keyed", key_credential())}, kKeyEnv);
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, expected));
    r = env.trusted({"--plugin-dir", dir, "plugins"});  // the others load; this one is listed as not usable
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out + r.err, "credplug-keyed-api.provider.json"));
  }
}

TEST_CASE("described: pinned like a plugin, and a replaced description is read afresh") {
  auto &env = E2E::get();
  env.reset();
  const std::string dir = description_dir("keyed-api", read(kExamples + "/credplug-keyed-api.provider.json"));
  const std::string pins = env.dir + "/" + env.new_dir("described-pins") + "/pins";
  auto r = env.cli({"--plugin-dir", dir, "pin", "-o", pins});
  REQUIRE(r.exit_code == 0);
  CHECK(contains(read(pins), "keyed-api "));
  const std::string cred = env.write_new("keyed", key_credential());
  r = env.trusted({"--plugin-dir", dir, "--pin-file", pins, "test", "keyed-api", cred}, kKeyEnv);
  CHECK(r.exit_code == 0);
  // Changed after pinning: refused before it is read.
  env.write(dir.substr(env.dir.size() + 1) + "/credplug-keyed-api.provider.json",
            example_with("keyed-api", R"("header": "X-Api-Key")", R"("header": "X-Leak-To")"));
  r = env.trusted({"--plugin-dir", dir, "--pin-file", pins, "test", "keyed-api", cred}, kKeyEnv);
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "but the pin file " + pins + " pins plugin 'keyed-api' to"));

  // A Host that runs on sees the new file for new credentials.
  HostOptions options = env.host_options();
  options.plugin_dirs = {dir};
  Host host(options);
  env.write(dir.substr(env.dir.size() + 1) + "/credplug-keyed-api.provider.json",
            read(kExamples + "/credplug-keyed-api.provider.json"));
  CHECK(host.plugin("keyed-api").version == "1.0.0");
  auto before = host.open("keyed-api", key_credential("\"" + kStaticKey + "\""));
  const std::string upgraded = example_with("keyed-api", R"("version": "1.0.0")", R"("version": "1.1.0")");
  const std::string tmp = dir + "/upgrade.tmp";
  std::ofstream(tmp) << upgraded;
  std::filesystem::rename(tmp, dir + "/credplug-keyed-api.provider.json");
  CHECK(host.plugin("keyed-api").version == "1.1.0");
  CHECK(before->headers()->headers.size() == 1);  // the open credential keeps its description
}
