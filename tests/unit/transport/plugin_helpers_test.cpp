// The minor-2 helpers (json_string ... oauth2_token), through the host's own
// table, as an in-process plugin calls them (the runner's table instantiates
// the same code; e2e runs the C example through both).
#include "transport/host_services.hpp"

#include <credplug/plugin.h>

#include <support/host_call.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

using credplug::host::host_services;

namespace {

using Call = credplug::testing::HostCall;

credplug_http_response response(int status, const std::string &body,
                                std::vector<std::pair<std::string, std::string>> headers = {}) {
  credplug_http_response r;
  r.result.status = status;
  r.result.body = credplug::kit::SecretString(body);
  r.result.headers = std::move(headers);
  return r;
}

const credplug_host_api &api() { return *host_services(); }

}  // namespace

TEST_CASE("helpers: the host table is minor 5 and has every helper") {
  CHECK(api().abi_minor == 5);
  CHECK(CREDPLUG_HAS_FIELD(&api(), credplug_host_api, out_state));
  CHECK(CREDPLUG_HAS_FIELD(&api(), credplug_host_api, jwt_sign));
  CHECK(bool(api().json_string));
  CHECK(bool(api().oauth2_token));
  CHECK(bool(api().out_query));
  CHECK(bool(api().jwt_sign));
}

TEST_CASE("helpers: JSON values by member name or JSON pointer, NULL or the fallback otherwise") {
  Call c;
  const std::string json = R"({"client_id":"abc","auth":{"port":8443,"tls":true,"list":["x","y"]},"n":"12"})";
  auto str = [&](const char *where) { return api().json_string(&c.call, json.data(), json.size(), where); };
  REQUIRE(str("client_id") != nullptr);
  CHECK(std::string(str("client_id")) == "abc");
  CHECK(std::string(str("/client_id")) == "abc");
  CHECK(std::string(str("/auth/list/1")) == "y");
  CHECK(str("missing") == nullptr);
  CHECK(str("auth") == nullptr);  // an object, not a string
  CHECK(str(nullptr) == nullptr);
  CHECK(api().json_string(nullptr, json.data(), json.size(), "client_id") == nullptr);
  CHECK(api().json_number(json.data(), json.size(), "/auth/port", -1) == 8443);
  CHECK(api().json_number(json.data(), json.size(), "n", -1) == -1);  // a string is not a number
  CHECK(api().json_bool(json.data(), json.size(), "/auth/tls", -1) == 1);
  CHECK(api().json_bool(json.data(), json.size(), "/auth/port", -1) == -1);
  // Not JSON, too deep, invalid UTF-8: absent, never a crash.
  CHECK(api().json_string(&c.call, "{\"a\":", 5, "a") == nullptr);
  std::string deep = std::string(100, '[') + std::string(100, ']');
  CHECK(api().json_number(deep.data(), deep.size(), "/0", 7) == 7);
  std::string bad_utf8 = "{\"a\":\"\xff\"}";
  CHECK(api().json_string(&c.call, bad_utf8.data(), bad_utf8.size(), "a") == nullptr);
  // Only `len` bytes are read.
  CHECK(std::string(api().json_string(&c.call, R"({"a":"1"}garbage)", 9, "a")) == "1");
}

TEST_CASE("helpers: returned strings stay valid for the whole call") {
  Call c;
  const std::string json = R"({"a":"first"})";
  const char *first = api().json_string(&c.call, json.data(), json.size(), "a");
  for (int i = 0; i < 1000; ++i) api().url_encode(&c.call, "more text", 0);
  CHECK(std::string(first) == "first");
}

TEST_CASE("helpers: base64, URL and form encoding; the SECRET flag makes the result a secret of the call") {
  Call c;
  CHECK(std::string(api().base64_encode(&c.call, "Man", 3, 0)) == "TWFu");
  CHECK(std::string(api().base64_encode(&c.call, "M", 1, 0)) == "TQ==");
  CHECK(std::string(api().base64_encode(&c.call, "\xfb\xff", 2, CREDPLUG_BASE64_URL)) == "-_8");
  CHECK(std::string(api().base64_encode(&c.call, nullptr, 0, 0)).empty());
  CHECK(api().base64_encode(&c.call, nullptr, 3, 0) == nullptr);
  CHECK(std::string(api().url_encode(&c.call, "a b&c=d/\xc3\xa9~", 0)) == "a%20b%26c%3Dd%2F%C3%A9~");
  const char *fields[] = {"grant_type", "client_credentials", "scope", nullptr, "x y", "1+1", nullptr};
  CHECK(std::string(api().form_encode(&c.call, fields, 0)) == "grant_type=client_credentials&x%20y=1%2B1");
  CHECK(api().form_encode(&c.call, nullptr, 0) == nullptr);
  CHECK(api().url_encode(nullptr, "x", 0) == nullptr);

  CHECK_FALSE(c.secret("YWxpY2U6czNjcjN0LXZhbHVl"));
  const char *b64 = api().base64_encode(&c.call, "alice:s3cr3t-value", 18, CREDPLUG_FLAG_SECRET);
  CHECK(c.secret(b64));
  const char *pair[] = {"client_secret", "p@ss word&more", nullptr};
  const char *body = api().form_encode(&c.call, pair, CREDPLUG_FLAG_SECRET);
  CHECK(c.secret(body));
  CHECK(c.redactor.apply(std::string("sent ") + body).find("p%40ss") == std::string::npos);
}

TEST_CASE("helpers: at most 16 MiB of helper strings per call") {
  Call c;
  const std::string big(4u << 20, 'a');
  int kept = 0;
  while (api().url_encode(&c.call, big.c_str(), 0) != nullptr && kept < 10) ++kept;
  CHECK(kept == 3);  // the fourth would pass 16 MiB
}

TEST_CASE("helpers: oauth2_token reads a success, declares the tokens secret") {
  Call c;
  auto r = response(200, R"({"access_token":"tok-123456789","token_type":"bearer","expires_in":"3600",)"
                         R"("scope":"read write","refresh_token":"ref-987654321"})");
  credplug_oauth2_token t{};
  t.struct_size = sizeof t;
  REQUIRE(api().oauth2_token(&c.call, &r, "Example token endpoint", &t) == CREDPLUG_OK);
  CHECK(std::string(t.access_token) == "tok-123456789");
  CHECK(std::string(t.token_type) == "bearer");
  CHECK(t.expires_in == 3600);
  CHECK(std::string(t.scope) == "read write");
  CHECK(std::string(t.refresh_token) == "ref-987654321");
  CHECK(t.error == nullptr);
  CHECK(c.secret("tok-123456789"));
  CHECK(c.secret("ref-987654321"));
  CHECK_FALSE(c.call.error_set);
}

TEST_CASE("helpers: oauth2_token classifies failures exactly as the kit, naming the endpoint") {
  struct Case {
    int status;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int32_t code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {401,
       R"({"error":"invalid_client","error_description":"bad secret"})",
       {},
       CREDPLUG_ERR_REJECTED,
       "the Example token endpoint rejected the client credentials: invalid_client (bad secret)"},
      {400, R"({"error":"invalid_scope"})", {}, CREDPLUG_ERR_INVALID_CONFIG, "refused the requested scope"},
      {404, "", {}, CREDPLUG_ERR_INVALID_CONFIG, "URL was not found (HTTP 404)"},
      {503,
       "",
       {{"retry-after", "7"}},
       CREDPLUG_ERR_PROVIDER,
       "is failing (HTTP 503); the server asks to retry after 7 s"},
      {429, "", {{"retry-after", "2"}}, CREDPLUG_ERR_PROVIDER, "rate-limiting requests (HTTP 429)"},
      {200, "<html>oops</html>", {}, CREDPLUG_ERR_PROVIDER, "the body is not a JSON object"},
      {200, R"({"token_type":"Bearer"})", {}, CREDPLUG_ERR_PROVIDER, "without an access_token"},
      {200, R"({"access_token":"x","token_type":"mac"})", {}, CREDPLUG_ERR_PROVIDER, "token of type 'mac'"},
      {200, R"({"access_token":"x","expires_in":-5})", {}, CREDPLUG_ERR_PROVIDER, "invalid expires_in"},
  };
  for (const auto &k : cases) {
    CAPTURE(k.body);
    Call c;
    auto r = response(k.status, k.body, k.headers);
    credplug_oauth2_token t{};
    t.struct_size = sizeof t;
    CHECK(api().oauth2_token(&c.call, &r, "Example token endpoint", &t) == k.code);
    CHECK(c.call.error_code == k.code);
    CHECK(c.call.error_message.find(k.message) != std::string::npos);
    CHECK(t.access_token == nullptr);
  }
  Call c;
  auto r = response(401, R"({"error":"invalid_client","error_description":"bad secret"})");
  credplug_oauth2_token t{};
  t.struct_size = sizeof t;
  api().oauth2_token(&c.call, &r, nullptr, &t);
  CHECK(std::string(t.error) == "invalid_client");
  CHECK(std::string(t.error_description) == "bad secret");
  CHECK(c.call.error_message.find("the token endpoint rejected") == 0);  // the default name
}

TEST_CASE("helpers: oauth2_token on a failed send, a NULL response, a short or a longer struct") {
  Call c;
  credplug_http_response failed;
  failed.error = "connect to localhost:1 failed";
  credplug_oauth2_token t{};
  t.struct_size = sizeof t;
  CHECK(api().oauth2_token(&c.call, &failed, "X token endpoint", &t) == CREDPLUG_ERR_NETWORK);
  CHECK(c.call.error_message == "the X token endpoint could not be reached: connect to localhost:1 failed");
  CHECK(api().oauth2_token(&c.call, nullptr, "X", &t) == CREDPLUG_ERR_PLUGIN);
  credplug_oauth2_token small{};
  small.struct_size = offsetof(credplug_oauth2_token, error);
  auto ok = response(200, R"({"access_token":"tok-abcdefgh"})");
  CHECK(api().oauth2_token(&c.call, &ok, "X", &small) == CREDPLUG_ERR_PLUGIN);
  CHECK(c.call.error_message.find("struct_size") != std::string::npos);
  // A plugin built against a later minor, whose struct is longer: nothing
  // past this host's struct is written.
  unsigned char buffer[sizeof(credplug_oauth2_token) + 16];
  std::memset(buffer, 0xAB, sizeof buffer);
  auto *bigger = reinterpret_cast<credplug_oauth2_token *>(buffer);
  bigger->struct_size = sizeof buffer;
  CHECK(api().oauth2_token(&c.call, &ok, "X", bigger) == CREDPLUG_OK);
  CHECK(bigger->struct_size == sizeof buffer);
  CHECK(std::string(bigger->access_token) == "tok-abcdefgh");
  for (size_t i = sizeof(credplug_oauth2_token); i < sizeof buffer; ++i) CHECK(buffer[i] == 0xAB);
  CHECK(api().oauth2_token(nullptr, &ok, "X", &t) == CREDPLUG_ERR_PLUGIN);
}
