// The client-credentials request on the wire, observed through a fake host
// service table: both client-authentication styles of RFC 6749 §2.3.1,
// private_key_jwt and the JWT-bearer grant (RFC 7523).
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/jwt.hpp>
#include <credplug/kit/oauth2.hpp>
#include <support/test_keys.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>

using namespace credplug::kit;

struct credplug_http_response {
  int status;
  std::string body;
};

namespace {

struct Captured {
  std::string method, url, body;
  std::map<std::string, std::string> headers;
  std::vector<std::string> secrets;
  std::string answer = R"({"access_token":"tok-123456","token_type":"Bearer","expires_in":60})";
} g;

int32_t fake_send(credplug_call *, const credplug_http_request *req, credplug_http_response **out) {
  g.method = req->method;
  g.url = req->url;
  g.body.assign(static_cast<const char *>(req->body), req->body_len);
  for (const char *const *h = req->headers; *h; h += 2) g.headers[h[0]] = h[1];
  *out = new credplug_http_response{200, g.answer};
  return CREDPLUG_OK;
}

credplug_host_api fake_host() {
  credplug_host_api api{};
  api.struct_size = sizeof api;
  api.add_secret = [](credplug_call *, const char *v, size_t n) { g.secrets.emplace_back(v, n); };
  api.now_ms = []() -> int64_t { return 1700000000000; };
  api.http_send = fake_send;
  api.http_status = [](const credplug_http_response *r) -> int32_t { return r->status; };
  api.http_body = [](const credplug_http_response *r, size_t *n) -> const char * {
    *n = r->body.size();
    return r->body.c_str();
  };
  api.http_header = [](const credplug_http_response *, const char *) -> const char * { return nullptr; };
  api.http_error = [](const credplug_http_response *) -> const char * { return nullptr; };
  api.http_release = [](credplug_http_response *r) { delete r; };
  return api;
}

oauth2::ClientCredentialsRequest request(oauth2::ClientAuth auth) {
  oauth2::ClientCredentialsRequest r;
  r.token_url = "https://idp.example/oauth2/token";
  r.client_id = "my client";
  r.client_secret = SecretString(std::string("p@ss:w/rd"));
  r.client_auth = auth;
  r.scope = "read write";
  return r;
}

}  // namespace

TEST_CASE("client_secret_basic: url-encoded id and secret in a Basic header, not in the body") {
  g = Captured{};
  credplug_host_api api = fake_host();
  Call call(&api, nullptr);
  auto token = oauth2::request_client_credentials(call, request(oauth2::ClientAuth::Basic));
  CHECK(g.method == "POST");
  CHECK(g.url == "https://idp.example/oauth2/token");
  CHECK(g.headers["Content-Type"] == "application/x-www-form-urlencoded");
  CHECK(g.headers["Authorization"] == "Basic " + base64_encode("my%20client:p%40ss%3Aw%2Frd"));
  CHECK(g.body == "grant_type=client_credentials&scope=read%20write");
  CHECK(token.access_token.reveal() == "tok-123456");
  CHECK(token.expires_in.value() == 60);
  // The Basic value and the token were declared secret to the host.
  CHECK(std::find(g.secrets.begin(), g.secrets.end(), g.headers["Authorization"]) != g.secrets.end());
  CHECK(std::find(g.secrets.begin(), g.secrets.end(), "tok-123456") != g.secrets.end());
}

TEST_CASE("client_secret_post: id and secret in the form body, no Authorization header") {
  g = Captured{};
  credplug_host_api api = fake_host();
  Call call(&api, nullptr);
  oauth2::request_client_credentials(call, request(oauth2::ClientAuth::Post));
  CHECK(g.headers.count("Authorization") == 0);
  CHECK(g.body ==
        "grant_type=client_credentials&scope=read%20write&client_id=my%20client&client_secret=p%40ss%3Aw%2Frd");
  CHECK(std::find(g.secrets.begin(), g.secrets.end(), g.body) != g.secrets.end());
}

TEST_CASE("the request surfaces the token endpoint's rejection as a Failure") {
  g = Captured{};
  g.answer = R"({"error":"invalid_client"})";
  credplug_host_api api = fake_host();
  api.http_status = [](const credplug_http_response *) -> int32_t { return 400; };
  Call call(&api, nullptr);
  try {
    oauth2::request_client_credentials(call, request(oauth2::ClientAuth::Post));
    FAIL("expected a Failure");
  } catch (const Failure &f) {
    CHECK(f.code() == CREDPLUG_ERR_REJECTED);
  }
}

TEST_CASE("expect_success words a connection test's failures alike for every plugin") {
  credplug_host_api api = fake_host();
  const ApiAnswer answer{"the Example API",          "GET /me",           "api_url",
                         "is this the Example API?", "the session token", " (Expired)"};
  auto failure_for = [&](int status) -> std::pair<int32_t, std::string> {
    HttpResponse response(&api, new credplug_http_response{status, ""});
    try {
      expect_success(response, answer);
    } catch (const Failure &f) {
      return {f.code(), f.what()};
    }
    return {CREDPLUG_OK, ""};
  };
  CHECK(failure_for(200).first == CREDPLUG_OK);
  CHECK(failure_for(204).first == CREDPLUG_OK);
  CHECK(failure_for(401) ==
        std::pair<int32_t, std::string>{CREDPLUG_ERR_REJECTED,
                                        "the Example API refused the session token: GET /me -> HTTP 401 (Expired)"});
  CHECK(failure_for(403).first == CREDPLUG_ERR_REJECTED);
  CHECK(failure_for(404) == std::pair<int32_t, std::string>{CREDPLUG_ERR_INVALID_CONFIG,
                                                            "api_url: GET /me -> HTTP 404; is this the Example API?"});
  CHECK(failure_for(503) ==
        std::pair<int32_t, std::string>{CREDPLUG_ERR_PROVIDER, "the Example API answered GET /me with HTTP 503"});
  CHECK(failure_for(302).first == CREDPLUG_ERR_PROVIDER);
}

namespace {

// The form's value for `name`, decoded ("" when absent).
std::string form_value(const std::string &body, const std::string &name) {
  for (size_t start = 0; start < body.size();) {
    size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(start, end - start);
    if (pair.rfind(name + "=", 0) == 0) {
      std::string out, v = pair.substr(name.size() + 1);
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          out += char(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += v[i];
        }
      }
      return out;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace

TEST_CASE("private_key_jwt: a client assertion signed with the client's key, no secret, client_id beside it") {
  g = Captured{};
  credplug_host_api api = fake_host();
  Call call(&api, nullptr);
  const std::string pem = credplug::testing::make_private_key_pem("p256");
  const SigningKey key = SigningKey::load(JwtAlg::ES256, pem);
  auto r = request(oauth2::ClientAuth::PrivateKeyJwt);
  r.assertion_key = &key;
  r.key_id = "k1";
  auto token = oauth2::request_client_credentials(call, r);
  CHECK(token.access_token.reveal() == "tok-123456");
  CHECK(g.headers.count("Authorization") == 0);
  CHECK(form_value(g.body, "client_id") == "my client");
  CHECK(form_value(g.body, "client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  CHECK(form_value(g.body, "client_secret").empty());
  const std::string assertion = form_value(g.body, "client_assertion");
  CHECK(credplug::testing::verify_jwt(assertion, "ES256", pem));
  auto jwt = decode_jwt(assertion);
  REQUIRE(jwt);
  CHECK(jwt->header.string("kid") == "k1");
  CHECK(jwt->claims.string("iss") == "my client");
  CHECK(jwt->claims.string("sub") == "my client");
  CHECK(jwt->claims.string("aud") == "https://idp.example/oauth2/token");
  CHECK(jwt->iat() == 1700000000);
  CHECK(*jwt->exp() - *jwt->iat() == 120);
  CHECK(std::find(g.secrets.begin(), g.secrets.end(), assertion) != g.secrets.end());
  CHECK(oauth2::client_auth_from_string("private_key_jwt") == oauth2::ClientAuth::PrivateKeyJwt);
  // For a server that wants its issuer identifier as the audience (FAPI 2.0).
  r.assertion_audience = "https://idp.example";
  oauth2::request_client_credentials(call, r);
  auto for_issuer = decode_jwt(form_value(g.body, "client_assertion"));
  REQUIRE(for_issuer);
  CHECK(for_issuer->claims.string("aud") == "https://idp.example");
}

TEST_CASE("JWT-bearer grant: the assertion is the grant, for a subject, with the scope") {
  g = Captured{};
  credplug_host_api api = fake_host();
  Call call(&api, nullptr);
  const std::string pem = credplug::testing::make_private_key_pem("rsa2048");
  const SigningKey key = SigningKey::load(JwtAlg::RS256, pem);
  oauth2::JwtBearerRequest r;
  r.token_url = "https://oauth2.example/token";
  r.key = &key;
  r.issuer = "svc@project.example";
  r.subject = "user@example.com";
  r.scope = "read";
  r.claims = {{"target", "api"}};
  auto token = oauth2::request_jwt_bearer(call, r);
  CHECK(token.access_token.reveal() == "tok-123456");
  CHECK(form_value(g.body, "grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer");
  CHECK(form_value(g.body, "scope") == "read");
  const std::string assertion = form_value(g.body, "assertion");
  CHECK(credplug::testing::verify_jwt(assertion, "RS256", pem));
  auto jwt = decode_jwt(assertion);
  REQUIRE(jwt);
  CHECK(jwt->claims.string("iss") == "svc@project.example");
  CHECK(jwt->claims.string("sub") == "user@example.com");
  CHECK(jwt->claims.string("aud") == "https://oauth2.example/token");
  CHECK(jwt->claims.string("target") == "api");
}
