// The C examples of ABI minor 3, written with the host's helpers alone:
// a private_key_jwt / JWT-bearer client (examples/c-plugin/private_key_jwt.c)
// and per-request HMAC signing (hmac_signer.c), against the emulator, which
// verifies assertions with the client's public key and each signature with
// the shared secret; through the CLI and the C++ API, in whichever isolation
// mode the suite runs; and a client certificate (mTLS) from credential
// values, against the emulator's port that wants one. A key never shows in
// any output.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <credplug/kit/json.hpp>
#include <support/test_keys.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace credplug;
using namespace credplug::testing;

namespace {

const std::string kJwtClient = "jwt-client-1";
const std::string kHmacKey = "hmac-key-1";
const std::string kHmacSecret = "CANARY-hmac-signing-secret-do-not-print";

ProcessResult run(const std::vector<std::string> &args) {
  std::vector<std::string> full{"--plugin-dir", CREDPLUG_EXAMPLE_PLUGIN_DIR};
  full.insert(full.end(), args.begin(), args.end());
  auto r = E2E::get().trusted(full);
  CHECK_FALSE(contains(r.out + r.err, kHmacSecret));
  CHECK_FALSE(contains(r.out + r.err, "PRIVATE KEY"));
  return r;
}

// A key pair of `kind`; the public half registered for kJwtClient.
std::string registered_key(const char *kind) {
  std::string key = make_private_key_pem(kind);
  E2E::get().emu->add_client_key("oauth2", kJwtClient, public_key_pem(key));
  return key;
}

std::string jwt_credential(const std::string &key, const std::string &alg, const std::string &extra = "") {
  const std::string origin = E2E::get().emu->origin();
  return R"({"token_url":")" + origin + R"(/oauth/token","client_id":")" + kJwtClient + R"(","private_key":)" +
         kit::json_quote(key) + R"(,"alg":")" + alg + R"(","test_url":")" + origin + R"(/oauth/me")" + extra + "}";
}

std::string hmac_credential(const std::string &secret = kHmacSecret) {
  return R"({"api_url":")" + E2E::get().emu->origin() + R"(/hmac","key_id":")" + kHmacKey + R"(","secret":")" + secret +
         "\"}";
}

}  // namespace

TEST_CASE("auth kinds: private_key_jwt in C, every alg: the emulator verifies the assertion with the public key") {
  auto &env = E2E::get();
  env.reset();
  const std::string rsa = registered_key("rsa2048");
  auto r = run({"test", "jwt-client-c", env.write_new("jwt", jwt_credential(rsa, "RS256"))});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "client_id: " + kJwtClient));
  const auto [target, body] = env.emu->last_request("oauth2.token");
  CHECK(contains(body, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"));
  CHECK(contains(body, "client_assertion=ey"));
  CHECK_FALSE(contains(body, "client_secret"));
  // Each alg with its kind of key, through the C++ API.
  HostOptions options = env.host_options();
  options.plugin_dirs = {CREDPLUG_EXAMPLE_PLUGIN_DIR};
  Host host(options);
  for (auto alg_kind : {std::pair{"PS256", "rsa2048"}, {"ES256", "p256"}, {"EdDSA", "ed25519"}}) {
    const char *alg = alg_kind.first, *kind = alg_kind.second;
    CAPTURE(alg);
    const std::string key = registered_key(kind);
    auto auth = host.open("jwt-client-c", jwt_credential(key, alg))->authenticate();
    REQUIRE(auth.headers.size() == 1);
    CHECK(auth.headers[0].secret);
    CHECK(auth.expiry_source == "plugin");
  }
}

TEST_CASE("auth kinds: the JWT-bearer grant in C: the assertion is the grant") {
  auto &env = E2E::get();
  env.reset();
  const std::string key = registered_key("p256");
  auto r = run({"test", "jwt-client-c",
                env.write_new("jwt", jwt_credential(key, "ES256", R"(,"grant":"jwt_bearer","scope":"read")"))});
  CHECK(r.exit_code == 0);
  const std::string body = env.emu->last_request("oauth2.token").second;
  CHECK(contains(body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"));
  CHECK(contains(body, "assertion=ey"));
  CHECK_FALSE(contains(body, "client_assertion"));
}

TEST_CASE("auth kinds: a key the provider does not hold is refused with exit 4; an unfit key with exit 3") {
  auto &env = E2E::get();
  env.reset();
  registered_key("rsa2048");
  auto r =
      run({"test", "jwt-client-c", env.write_new("jwt", jwt_credential(make_private_key_pem("rsa2048"), "RS256"))});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "invalid_client (the assertion's signature does not verify with the client's key)"));
  r = run({"auth", "jwt-client-c", env.write_new("jwt", jwt_credential(make_private_key_pem("rsa1024"), "RS256"))});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the private key (RS256): an RSA key of 1024 bits; RS256 needs 2048 bits or more"));
  r = run({"auth", "jwt-client-c", env.write_new("jwt", jwt_credential(make_private_key_pem("p256"), "EdDSA"))});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "an EC key on P-256; EdDSA here is Ed25519"));
}

TEST_CASE("auth kinds: HMAC signing in C: test and each signed request pass the emulator's check") {
  auto &env = E2E::get();
  env.reset();
  env.emu->add_client("hmac", kHmacKey, kHmacSecret);
  const std::string file = env.write_new("hmac", hmac_credential());
  auto r = run({"test", "hmac-signer-c", file});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "key_id: " + kHmacKey));
  CHECK(contains(r.out, "no token: this provider signs each request"));
  r = run({"sign", "hmac-signer-c", file, "--method", "POST", "--url", env.emu->origin() + "/hmac/orders?page=2",
           "--data", "{\"n\":1}", "--time", "1700000000"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "X-Key-Id: " + kHmacKey));  // public, though its name says key
  CHECK(contains(r.out, "X-Timestamp: 1700000000"));
  CHECK(contains(r.out, "X-Signature: <secret, 64 characters>"));
  // Signed through the C++ API and sent as signed: accepted; changed: refused.
  HostOptions options = env.host_options();
  options.plugin_dirs = {CREDPLUG_EXAMPLE_PLUGIN_DIR};
  Host host(options);
  auto cred = host.open("hmac-signer-c", hmac_credential());
  host::HttpOptions http_options;
  http_options.ca_file = env.pki.ca_cert;
  host::HttpsClient http(http_options);
  auto send = [&](const std::string &url, const std::string &body, const SignedRequest &s) {
    host::HttpRequestSpec spec;
    spec.method = "POST";
    spec.url = url;
    spec.body = SecretString(body);
    for (const auto &h : s.headers) spec.headers.emplace_back(h.name, h.value);
    return http.send(spec).status;
  };
  RequestToSign request;
  request.method = "post";  // upper-cased before signing
  const std::string url = env.emu->origin() + "/hmac/orders?page=2";
  request.url = url;
  request.body = std::string_view("{\"n\":1}");
  SignedRequest s = cred->sign(request);
  CHECK(send(url, "{\"n\":1}", s) == 200);
  CHECK(send(url, "{\"n\":2}", s) == 401);                                        // another body
  CHECK(send(env.emu->origin() + "/hmac/orders?page=3", "{\"n\":1}", s) == 401);  // another URL
  // A wrong secret fails the connection test with exit 4.
  r = run({"test", "hmac-signer-c", env.write_new("hmac", hmac_credential("CANARY-not-the-right-secret"))});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "GET {api_url}/me answered HTTP 401"));
}

TEST_CASE("auth kinds: check-plugin makes a throwaway key for a key field, so create() runs offline") {
  auto r = E2E::get().cli({"check-plugin", std::string(CREDPLUG_EXAMPLE_PLUGIN_DIR) + "/credplug-jwt-client-c.so"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "  ok    create: create() accepted a credential made from the schema"));
  CHECK_FALSE(contains(r.out, "PRIVATE KEY"));
}

namespace {

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A credential for the emulator's client-certificate port.
std::string mtls_credential(const std::string &cert, const std::string &key, const std::string &passphrase = "") {
  return R"({"url":")" + E2E::get().emu->mtls_origin() + R"(","client_certificate":)" + kit::json_quote(cert) +
         R"(,"client_key":)" + kit::json_quote(key) +
         (passphrase.empty() ? "" : R"(,"client_key_passphrase":)" + kit::json_quote(passphrase)) + "}";
}

ProcessResult run_mtls(const std::vector<std::string> &args) {
  std::vector<std::string> full{"--plugin-dir", CREDPLUG_KIT_PLUGIN_DIR};
  full.insert(full.end(), args.begin(), args.end());
  auto r = E2E::get().trusted(full);
  CHECK_FALSE(contains(r.out + r.err, "PRIVATE KEY"));
  CHECK_FALSE(contains(r.out + r.err, kTestClientKeyPassphrase));
  return r;
}

}  // namespace

TEST_CASE("auth kinds: a client certificate from credential values reaches a server that wants one") {
  auto &env = E2E::get();
  env.reset();
  const std::string cert = slurp(env.pki.client_cert);
  auto r = run_mtls({"auth", "mtls-client", env.write_new("mtls", mtls_credential(cert, slurp(env.pki.client_key)))});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, std::string("X-Mtls-Subject: ") + kTestClientName));
  CHECK(contains(r.out, "does not expire"));
  // An encrypted key with its passphrase: decrypted in memory, never a file.
  r = run_mtls(
      {"test", "mtls-client",
       env.write_new("mtls", mtls_credential(cert, slurp(env.pki.client_key_encrypted), kTestClientKeyPassphrase))});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, std::string("subject: ") + kTestClientName));
  CHECK(env.emu->count("mtls.api") == 3);  // auth, then test: authenticate() and test()
}

TEST_CASE("auth kinds: a client certificate that cannot be used is named before anything is sent") {
  auto &env = E2E::get();
  env.reset();
  const std::string cert = slurp(env.pki.client_cert);
  auto r = run_mtls({"auth", "mtls-client",
                     env.write_new("mtls", mtls_credential(cert, slurp(env.pki.client_key_encrypted), "wrong"))});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the passphrase does not decrypt the client key"));
  r = run_mtls(
      {"auth", "mtls-client", env.write_new("mtls", mtls_credential(cert, slurp(env.pki.client_key_encrypted)))});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the client key is encrypted and no passphrase was given"));
  r = run_mtls({"auth", "mtls-client", env.write_new("mtls", mtls_credential(cert, slurp(env.other_pki.client_key)))});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the client key does not match the client certificate"));
  CHECK(env.emu->count("mtls.api") == 0);
  // A certificate another CA signed: the server's handshake refuses it.
  r = run_mtls(
      {"auth", "mtls-client",
       env.write_new("mtls", mtls_credential(slurp(env.other_pki.client_cert), slurp(env.other_pki.client_key)))});
  CHECK(r.exit_code == 5);
  CHECK(env.emu->count("mtls.api") == 0);
}
