// The emulator as plugin authors use it (docs/EMULATOR.md): a provider
// described in JSON, and the control endpoints that flip its switches and
// read its counters while it runs.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <doctest/doctest.h>

#include <strings.h>
#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

using namespace credplug;
using namespace credplug::testing;

namespace {

struct Described {
  emulator::Emulator emu;
  host::HttpsClient http;
  explicit Described(std::vector<emulator::ProviderDescription> providers)
      : emu(emulator::Emulator::Options{E2E::get().pki.server_cert, E2E::get().pki.server_key, "127.0.0.1", 0,
                                        std::move(providers)}),
        http(host::HttpOptions{E2E::get().pki.ca_cert}) {}
  host::HttpResult send(const std::string &method, const std::string &path, const std::string &body = "",
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    host::HttpRequestSpec spec;
    spec.method = method;
    spec.url = emu.origin() + path;
    spec.body = kit::SecretString(body);
    for (auto &[n, v] : headers) spec.headers.emplace_back(n, kit::SecretString(v));
    return http.send(spec);
  }
  std::string header(const host::HttpResult &r, const std::string &name) {
    for (const auto &[n, v] : r.headers)
      if (n == name) return v;
    return "";
  }
};

const char *kAcme =
    R"({"id": "acme", "token": {"path": "/v1/auth", "style": "json", "client_auth": "post", "lifetime_s": 600},
                        "api": {"path": "/v1/whoami", "header": "X-Acme-Token", "scheme": ""}})";

}  // namespace

TEST_CASE("emulator: a described provider takes JSON client credentials and wants its own header") {
  Described d({emulator::parse_description(kAcme)});
  d.emu.add_client("acme", "app-1", "acme-secret-123");
  const std::vector<std::pair<std::string, std::string>> json{{"Content-Type", "application/json"}};
  auto token =
      d.send("POST", "/v1/auth",
             R"({"grant_type":"client_credentials","client_id":"app-1","client_secret":"acme-secret-123"})", json);
  REQUIRE(token.status == 200);
  auto answer = kit::JsonDocument::parse_object(token.body.view());
  REQUIRE(answer);
  CHECK(answer->integer("expires_in") == 600);
  const std::string access = answer->string("access_token").value();
  auto me = d.send("GET", "/v1/whoami", "", {{"X-Acme-Token", access}});
  CHECK(me.status == 200);
  CHECK(me.body.view() == R"({"client_id":"app-1"})");
  // The wrong header, or the right one with a scheme it does not use: 401, saying what it expects.
  auto wrong = d.send("GET", "/v1/whoami", "", {{"Authorization", "Bearer " + access}});
  CHECK(wrong.status == 401);
  CHECK(contains(std::string(wrong.body.view()), R"("expected":"X-Acme-Token: <token>")"));
  CHECK(d.send("GET", "/v1/whoami", "", {{"X-Acme-Token", "Bearer " + access}}).status == 401);
  // A form where it wants JSON; Basic where it wants the body; a wrong secret.
  auto form = d.send("POST", "/v1/auth", "grant_type=client_credentials&client_id=app-1&client_secret=acme-secret-123",
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(form.status == 400);
  CHECK(contains(std::string(form.body.view()), "Content-Type must be application/json"));
  auto basic = d.send("POST", "/v1/auth", R"({"grant_type":"client_credentials"})",
                      {{"Content-Type", "application/json"}, {"Authorization", "Basic YXBwLTE6YWNtZS1zZWNyZXQtMTIz"}});
  CHECK(basic.status == 401);
  CHECK(contains(std::string(basic.body.view()), "client_secret_post only"));
  auto refused = d.send("POST", "/v1/auth",
                        R"({"grant_type":"client_credentials","client_id":"app-1","client_secret":"no"})", json);
  CHECK(refused.status == 401);
  CHECK(contains(std::string(refused.body.view()), R"("error":"invalid_client")"));
  CHECK(d.emu.count("acme.token") == 4);
  CHECK(d.emu.count("acme.api") == 3);
}

TEST_CASE("emulator: switches flip over HTTP while it runs, and counters are read back") {
  Described d({emulator::parse_description(kAcme)});
  d.emu.add_client("acme", "app-1", "acme-secret-123");
  const std::vector<std::pair<std::string, std::string>> form{{"Content-Type", "application/x-www-form-urlencoded"}};
  const std::vector<std::pair<std::string, std::string>> json{{"Content-Type", "application/json"}};
  const std::string good =
      R"({"grant_type":"client_credentials","client_id":"app-1","client_secret":"acme-secret-123"})";
  CHECK(d.send("POST", "/_emulator/switches", "provider=acme&fail_status=429&retry_after_s=3", form).status == 200);
  auto limited = d.send("POST", "/v1/auth", good, json);
  CHECK(limited.status == 429);
  CHECK(d.header(limited, "retry-after") == "3");
  CHECK(d.send("POST", "/_emulator/switches", "provider=acme&reset=1&malformed=1", form).status == 200);
  auto malformed = d.send("POST", "/v1/auth", good, json);
  CHECK(malformed.status == 200);
  CHECK(contains(std::string(malformed.body.view()), "<html>"));
  CHECK(d.send("POST", "/_emulator/switches", "provider=acme&reset=1", form).status == 200);
  CHECK(d.send("POST", "/v1/auth", good, json).status == 200);
  CHECK(d.send("POST", "/_emulator/switches", "provider=acme&fail_status=401", form).status == 200);
  CHECK(d.send("POST", "/v1/auth", good, json).status == 401);
  auto bad = d.send("POST", "/_emulator/switches", "provider=acme&explode=1", form);
  CHECK(bad.status == 400);
  CHECK(contains(std::string(bad.body.view()), "unknown switch 'explode'"));
  CHECK(d.send("POST", "/_emulator/switches", "provider=acme&fail_status=200", form).status == 400);
  auto count = d.send("GET", "/_emulator/count?endpoint=acme.token");
  CHECK(count.body.view() == R"({"count":4})");
}

TEST_CASE(
    "emulator: POST /_emulator/clock moves its clock on: a token expires without waiting; reset() moves it back") {
  Described d({emulator::parse_description(kAcme)});
  d.emu.add_client("acme", "app-1", "acme-secret-123");
  const std::vector<std::pair<std::string, std::string>> form{{"Content-Type", "application/x-www-form-urlencoded"}};
  auto token = d.send("POST", "/v1/auth",
                      R"({"grant_type":"client_credentials","client_id":"app-1","client_secret":"acme-secret-123"})",
                      {{"Content-Type", "application/json"}});
  auto access = kit::JsonDocument::parse_object(token.body.view())->string("access_token").value();
  CHECK(d.send("GET", "/v1/whoami", "", {{"X-Acme-Token", access}}).status == 200);
  CHECK(d.send("POST", "/_emulator/clock", "advance_s=599", form).status == 200);  // lifetime_s is 600
  CHECK(d.send("GET", "/v1/whoami", "", {{"X-Acme-Token", access}}).status == 200);
  auto moved = d.send("POST", "/_emulator/clock", "advance_s=2", form);
  CHECK(moved.status == 200);
  CHECK(contains(std::string(moved.body.view()), R"({"ok":true,"now":)"));
  CHECK(d.send("GET", "/v1/whoami", "", {{"X-Acme-Token", access}}).status == 401);
  CHECK(d.emu.count("acme.expired_token") == 1);
  for (const char *bad : {"", "advance_s=-5", "advance_s=1e3", "advance_s=315360001", "advance_s=99999999999"}) {
    CAPTURE(bad);
    auto r = d.send("POST", "/_emulator/clock", bad, form);
    CHECK(r.status == 400);
    CHECK(contains(std::string(r.body.view()), "advance_s= must be a number of seconds"));
  }
  d.emu.reset();
  CHECK(d.send("GET", "/v1/whoami", "", {{"X-Acme-Token", access}}).status == 200);
}

TEST_CASE("emulator: a description's mistakes are named") {
  auto problem = [](const std::string &json) {
    try {
      emulator::parse_description(json);
    } catch (const std::exception &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(problem(R"({"id": "Acme"})"), "/id must be 1-64 characters"));
  CHECK(contains(problem(R"({"id": "a", "token": {"style": "xml"}})"),
                 "/token/style is 'xml'; expected one of form, json"));
  CHECK(contains(problem(R"({"id": "a", "token": {"client_auth": 3}})"), "/token/client_auth must be a string"));
  CHECK(contains(problem(R"({"id": "a", "api": {"path": "/_emulator/x"}})"), "outside /_emulator"));
  CHECK(contains(problem(R"({"id": "a", "token": {"lifetime_s": 0}})"), "/token/lifetime_s must be"));
  CHECK(contains(problem("not json"), "provider description:"));
  auto d = emulator::parse_description(R"({"id": "b"})");
  CHECK(d.token_path == "/b/token");
  CHECK(d.api_path == "/b/me");
  CHECK(d.api_scheme == "Bearer");
}

TEST_CASE("emulator: a mistyped name is refused, not accepted where no route looks") {
  CHECK_THROWS_WITH_AS(
      emulator::parse_description(R"({"id": "a", "token": {"styel": "json"}})"),
      doctest::Contains("unknown member /token/styel (/token has client_auth, lifetime_s, path, style)"),
      std::runtime_error);
  CHECK_THROWS_WITH_AS(emulator::parse_description(R"({"id": "a", "apis": {}})"),
                       doctest::Contains("unknown member /apis"), std::runtime_error);
  Described d({emulator::parse_description(kAcme)});
  CHECK_THROWS_WITH_AS(d.emu.add_client("acmee", "app-1", "s"),
                       doctest::Contains("unknown provider 'acmee' (acme, ainua"), std::invalid_argument);
  d.emu.add_client("avni-user", "someone", "s");  // a client kind that is not a provider's id
  const std::vector<std::pair<std::string, std::string>> form{{"Content-Type", "application/x-www-form-urlencoded"}};
  auto unknown = d.send("POST", "/_emulator/switches", "provider=acmee&fail_status=503", form);
  CHECK(unknown.status == 400);
  CHECK(contains(std::string(unknown.body.view()), "unknown provider 'acmee'"));
  CHECK_THROWS_WITH_AS(Described({emulator::parse_description(R"({"id": "ainua"})")}),
                       doctest::Contains("provider 'ainua' is described twice, or is built in"), std::runtime_error);
}

TEST_CASE("emulator: a second one on a port the first holds is refused") {
  Described first({});
  const int port = std::stoi(first.emu.origin().substr(first.emu.origin().rfind(':') + 1));
  auto &env = E2E::get();
  const std::string expected = ":" + std::to_string(port) + " (is the port in use?)";
  CHECK_THROWS_WITH_AS(
      emulator::Emulator(emulator::Emulator::Options{env.pki.server_cert, env.pki.server_key, "127.0.0.1", port, {}}),
      doctest::Contains(expected.c_str()), std::runtime_error);
}

TEST_CASE("emulator: the program refuses usage mistakes with exit 2, keeps a CA in use, and has --version") {
  auto &env = E2E::get();
  auto version = run_process({CREDPLUG_EMULATOR, "--version"});
  CHECK(version.exit_code == 0);
  CHECK(contains(version.out, "credplug-emulator "));
  CHECK(run_process({CREDPLUG_EMULATOR, "--no-such-option"}).exit_code == 2);
  CHECK(run_process({CREDPLUG_EMULATOR, "--port", "many"}).exit_code == 2);
  const std::string pki = env.dir + "/emulator-pki";
  REQUIRE(run_process({CREDPLUG_EMULATOR, "--make-pki", pki}).exit_code == 0);
  auto again = run_process({CREDPLUG_EMULATOR, "--make-pki", pki});
  CHECK(again.exit_code == 2);
  CHECK(contains(again.err, pki + "/ca.pem exists (an emulator may be using it); pass --overwrite"));
  CHECK(run_process({CREDPLUG_EMULATOR, "--make-pki", pki, "--overwrite"}).exit_code == 0);
  auto client = run_process({CREDPLUG_EMULATOR, "--cert", pki + "/server.pem", "--key", pki + "/server-key.pem",
                             "--client", "ainau:id:secret"});
  CHECK(client.exit_code == 2);
  CHECK(contains(client.err, "--client: unknown provider 'ainau'"));
  auto sw = run_process({CREDPLUG_EMULATOR, "--cert", pki + "/server.pem", "--key", pki + "/server-key.pem", "--switch",
                         "nexal:fail_status=503"});
  CHECK(sw.exit_code == 2);
  CHECK(contains(sw.err, "unknown provider 'nexal'"));
}

namespace {

// The value of `name` in a URL's query ("" if absent), form-decoded.
std::string query_value(const std::string &url, const std::string &name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  for (size_t start = q + 1; start < url.size();) {
    const size_t end = std::min(url.find('&', start), url.size());
    const std::string pair = url.substr(start, end - start);
    if (pair.rfind(name + "=", 0) == 0) {
      std::string out;
      const std::string v = pair.substr(name.size() + 1);
      for (size_t i = 0; i < v.size(); ++i)
        if (v[i] == '%' && i + 2 < v.size()) {
          out += char(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += v[i] == '+' ? ' ' : v[i];
        }
      return out;
    }
    start = end + 1;
  }
  return "";
}

struct Consent {
  Described &d;
  const std::string redirect = "http://127.0.0.1:5555/callback";
  const std::string verifier = "verifier-" + std::string(50, 'v');

  std::string challenge() const {
    const auto digest = kit::sha256(verifier);
    return kit::base64url_encode(std::string_view(reinterpret_cast<const char *>(digest.data()), digest.size()));
  }
  // GET /oauth/authorize: the Location it redirects to.
  std::string authorize(const std::string &client, const std::string &extra = "") {
    auto r = d.send("GET", "/oauth/authorize?response_type=code&client_id=" + client +
                               "&redirect_uri=" + kit::url_encode(redirect) + "&state=st-42&scope=read" + extra);
    REQUIRE(r.status == 302);
    for (const auto &[name, value] : r.headers)
      if (strcasecmp(name.c_str(), "Location") == 0) return value;
    return "";
  }
  std::string code(const std::string &client) {
    return query_value(authorize(client, "&code_challenge=" + challenge() + "&code_challenge_method=S256"), "code");
  }
  host::HttpResult token(const std::string &form) {
    return d.send("POST", "/oauth/token", form, {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  host::HttpResult redeem(const std::string &client, const std::string &code, const std::string &v = "") {
    return token("grant_type=authorization_code&client_id=" + client + "&code=" + code +
                 "&redirect_uri=" + kit::url_encode(redirect) + "&code_verifier=" + (v.empty() ? verifier : v));
  }
  host::HttpResult refresh(const std::string &client, const std::string &refresh_token) {
    return token("grant_type=refresh_token&client_id=" + client + "&refresh_token=" + kit::url_encode(refresh_token));
  }
  int me(const std::string &access) {
    return d.send("GET", "/oauth/me", "", {{"Authorization", "Bearer " + access}}).status;
  }
};

std::string member(const host::HttpResult &r, const char *name) {
  auto doc = kit::JsonDocument::parse_object(r.body.view());
  return doc ? doc->string(name).value_or("") : "";
}

}  // namespace

TEST_CASE("emulator: the authorization code grant with PKCE: approved, redirected with state and iss, single-use") {
  Described d({});
  d.emu.add_client("oauth2", "native-app", "");  // a public client: PKCE is its proof
  Consent c{d};
  const std::string location =
      c.authorize("native-app", "&code_challenge=" + c.challenge() + "&code_challenge_method=S256");
  CHECK(location.rfind(c.redirect + "?code=", 0) == 0);
  CHECK(query_value(location, "state") == "st-42");
  CHECK(query_value(location, "iss") == d.emu.origin());
  auto tokens = c.redeem("native-app", query_value(location, "code"));
  REQUIRE(tokens.status == 200);
  const std::string access = member(tokens, "access_token");
  CHECK_FALSE(member(tokens, "refresh_token").empty());
  CHECK(member(tokens, "scope") == "read");
  CHECK(c.me(access) == 200);
  // The code again: refused, and what it gave is revoked (RFC 6749 §4.1.2).
  auto replay = c.redeem("native-app", query_value(location, "code"));
  CHECK(replay.status == 400);
  CHECK(member(replay, "error") == "invalid_grant");
  CHECK(c.me(access) == 401);
  // A wrong verifier, another redirect URI: refused.
  auto wrong = c.redeem("native-app", c.code("native-app"), "another-verifier-" + std::string(40, 'x'));
  CHECK(member(wrong, "error_description") == "code_verifier does not match the code_challenge (PKCE S256)");
  const std::string code = c.code("native-app");
  auto elsewhere = c.token("grant_type=authorization_code&client_id=native-app&code=" + code +
                           "&redirect_uri=http%3A%2F%2F127.0.0.1%3A6666%2Fcallback&code_verifier=" + c.verifier);
  CHECK(member(elsewhere, "error_description") == "redirect_uri is not the one of the authorization request");
  // A public client has no client credentials grant.
  auto cc = c.token("grant_type=client_credentials&client_id=native-app");
  CHECK(cc.status == 401);
}

TEST_CASE("emulator: authorization refused: without PKCE, by the user, to an unknown client or redirect URI") {
  Described d({});
  d.emu.add_client("oauth2", "native-app", "");
  Consent c{d};
  std::string location = c.authorize("native-app");  // no code_challenge
  CHECK(query_value(location, "error") == "invalid_request");
  CHECK(query_value(location, "state") == "st-42");
  d.emu.set_switch("oauth2", "deny_authorization", "1");
  location = c.authorize("native-app", "&code_challenge=" + c.challenge() + "&code_challenge_method=S256");
  CHECK(query_value(location, "error") == "access_denied");
  CHECK(query_value(location, "code").empty());
  // Never redirected where it cannot be trusted: 400 here.
  CHECK(
      d.send("GET", "/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=" + kit::url_encode(c.redirect))
          .status == 400);
  CHECK(d.send("GET", "/oauth/authorize?response_type=code&client_id=native-app&redirect_uri=" +
                          kit::url_encode("http://evil.example/cb"))
            .status == 400);
}

TEST_CASE("emulator: refresh tokens rotate; one used twice revokes the whole family (RFC 9700 §4.14.2)") {
  Described d({});
  d.emu.add_client("oauth2", "web-app", "web-secret-123");
  Consent c{d};
  const std::string basic = "Basic " + kit::base64_encode("web-app:web-secret-123");
  // A fresh authorization of the confidential client, redeemed with its secret.
  auto authorized = [&] {
    return d.send("POST", "/oauth/token",
                  "grant_type=authorization_code&code=" + c.code("web-app") +
                      "&redirect_uri=" + kit::url_encode(c.redirect) + "&code_verifier=" + c.verifier,
                  {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", basic}});
  };
  auto first = authorized();
  REQUIRE(first.status == 200);
  const std::string r1 = member(first, "refresh_token");
  auto refresh = [&](const std::string &token) {
    return d.send("POST", "/oauth/token", "grant_type=refresh_token&refresh_token=" + kit::url_encode(token),
                  {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", basic}});
  };
  auto second = refresh(r1);
  REQUIRE(second.status == 200);
  const std::string r2 = member(second, "refresh_token"), a2 = member(second, "access_token");
  CHECK(r2 != r1);
  CHECK(c.me(a2) == 200);
  CHECK(d.emu.count("oauth2.refresh") == 1);
  // r1 again: reuse. The family goes: r2 and a2 too.
  auto reuse = refresh(r1);
  CHECK(reuse.status == 400);
  CHECK(member(reuse, "error") == "invalid_grant");
  CHECK(d.emu.count("oauth2.refresh_reuse") == 1);
  CHECK(member(refresh(r2), "error_description") == "the refresh token was revoked");
  CHECK(c.me(a2) == 401);
  // Another client cannot use this client's refresh token; without rotation it stays.
  d.emu.add_client("oauth2", "other-app", "other-secret-123");
  d.emu.set_switch("oauth2", "keep_refresh_token", "1");
  auto fresh = authorized();
  const std::string kept = member(fresh, "refresh_token");
  CHECK(member(refresh(kept), "refresh_token") == kept);
  CHECK(member(refresh(kept), "refresh_token") == kept);
  auto stolen = d.send("POST", "/oauth/token", "grant_type=refresh_token&refresh_token=" + kit::url_encode(kept),
                       {{"Content-Type", "application/x-www-form-urlencoded"},
                        {"Authorization", "Basic " + kit::base64_encode("other-app:other-secret-123")}});
  CHECK(member(stolen, "error_description") == "the refresh token was issued to another client");
  // Short lifetimes by switch: a refresh token of 1 s is refused once the clock moves on.
  d.emu.set_switch("oauth2", "refresh_lifetime_s", "1");
  d.emu.set_switch("oauth2", "keep_refresh_token", "0");
  auto brief = authorized();
  d.emu.advance_clock(5);
  CHECK(member(refresh(member(brief, "refresh_token")), "error_description") == "the refresh token has expired");
}
