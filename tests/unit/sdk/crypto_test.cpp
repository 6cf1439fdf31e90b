// The kit's crypto and the C helpers over it (plugin.h, minor 3): digests
// against published vectors, JWTs of every alg verified by an independent
// verifier (support/test_keys.cpp), and keys refused with a reason that never
// quotes them.
#include "transport/host_services.hpp"

#include <credplug/plugin.h>
#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/failure.hpp>
#include <credplug/kit/jwt.hpp>
#include <support/test_keys.hpp>

#include <support/host_call.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <set>
#include <string>

using credplug::host::host_services;
namespace kit = credplug::kit;

namespace {

using Call = credplug::testing::HostCall;

const credplug_host_api &api() { return *host_services(); }

std::string failure_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const kit::Failure &e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("crypto: SHA-256 (FIPS 180-2) and HMAC-SHA-256 (RFC 4231) vectors, in the kit and the C helpers") {
  CHECK(kit::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(kit::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(kit::hex_encode(kit::hmac_sha256("Jefe", "what do ya want for nothing?").reveal()) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Call c;
  uint8_t digest[32];
  REQUIRE(api().sha256("abc", 3, digest) == CREDPLUG_OK);
  CHECK(std::string(api().hex_encode(&c.call, digest, 32, 0)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE(api().hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, digest) == CREDPLUG_OK);
  const std::string mac = api().hex_encode(&c.call, digest, 32, CREDPLUG_FLAG_SECRET);
  CHECK(mac == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(c.secret(mac));
  CHECK(api().sha256(nullptr, 3, digest) == CREDPLUG_ERR_PLUGIN);
  CHECK(api().sha256(nullptr, 0, digest) == CREDPLUG_OK);  // the empty message
  CHECK(api().hmac_sha256("k", 1, "d", 1, nullptr) == CREDPLUG_ERR_PLUGIN);
  CHECK(api().hex_encode(nullptr, digest, 32, 0) == nullptr);
}

TEST_CASE("crypto: random bytes differ from call to call") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(kit::random_id(16));
  CHECK(seen.size() == 100);
  CHECK(kit::random_id(16).size() == 22);  // 16 bytes, base64url, unpadded
  unsigned char a[32] = {}, b[32] = {};
  REQUIRE(api().random_bytes(a, sizeof a) == CREDPLUG_OK);
  REQUIRE(api().random_bytes(b, sizeof b) == CREDPLUG_OK);
  CHECK(std::memcmp(a, b, sizeof a) != 0);
  CHECK(api().random_bytes(nullptr, 4) == CREDPLUG_ERR_PLUGIN);
}

TEST_CASE("crypto: a JWT of every alg, checked by an independent verifier, with the claims asked for") {
  struct Case {
    const char *alg, *kind;
  };
  for (Case k : {Case{"RS256", "rsa2048"}, Case{"PS256", "rsa2048"}, Case{"ES256", "p256"}, Case{"EdDSA", "ed25519"},
                 Case{"HS256", nullptr}}) {
    CAPTURE(k.alg);
    const std::string key =
        k.kind ? credplug::testing::make_private_key_pem(k.kind) : "a shared secret of 32 bytes!!!!";
    Call c;
    credplug_key *loaded = nullptr;
    REQUIRE(api().key_load(&c.call, k.alg, key.data(), key.size(), nullptr, &loaded) == CREDPLUG_OK);
    const char *scope_claims[] = {"scope", "read write", "skipped", nullptr, nullptr};
    credplug_jwt_claims claims{};
    claims.struct_size = sizeof claims;
    claims.iss = "client-1";
    claims.sub = "client-1";
    claims.aud = "https://auth.example/token";
    claims.lifetime_s = 120;
    claims.kid = "key-7";
    claims.claims = scope_claims;
    claims.claims_json = R"({"n": 3, "nested": {"a": [1, 2]}})";
    const char *jwt = api().jwt_sign(&c.call, loaded, &claims);
    REQUIRE(jwt != nullptr);
    CHECK(c.secret(jwt));
    CHECK(credplug::testing::verify_jwt(jwt, k.alg, key));
    auto decoded = kit::decode_jwt(jwt);
    REQUIRE(decoded);
    CHECK(decoded->header.string("kid") == "key-7");
    CHECK(decoded->header.string("typ") == "JWT");
    CHECK(decoded->claims.string("iss") == "client-1");
    CHECK(decoded->claims.string("aud") == "https://auth.example/token");
    CHECK(decoded->claims.string("scope") == "read write");
    CHECK_FALSE(decoded->claims.has("skipped"));
    CHECK(decoded->claims.integer("n") == 3);
    CHECK(decoded->claims.integer("/nested/a/1") == 2);
    REQUIRE(decoded->exp());
    CHECK(*decoded->exp() - *decoded->iat() == 120);
    CHECK(decoded->claims.string("jti").value_or("").size() == 22);
    // Another key does not verify it (the verifier can fail).
    if (k.kind) CHECK_FALSE(credplug::testing::verify_jwt(jwt, k.alg, credplug::testing::make_private_key_pem(k.kind)));
    // Two signings differ (jti); a bad claims object is refused.
    CHECK(std::string(api().jwt_sign(&c.call, loaded, &claims)) != jwt);
    claims.claims_json = "[1]";
    CHECK(api().jwt_sign(&c.call, loaded, &claims) == nullptr);
    claims.claims_json = R"({"iss": "again"})";
    CHECK(api().jwt_sign(&c.call, loaded, &claims) == nullptr);
    claims.claims_json = nullptr;
    claims.lifetime_s = 86401;
    CHECK(api().jwt_sign(&c.call, loaded, &claims) == nullptr);
    api().key_free(loaded);
  }
}

TEST_CASE("crypto: an encrypted PEM key opens with its passphrase, and says so without it") {
  const std::string key = credplug::testing::make_private_key_pem("p256", "correct horse");
  auto pass = kit::SecretString(std::string_view("correct horse"));
  kit::SigningKey loaded = kit::SigningKey::load(kit::JwtAlg::ES256, key, &pass);
  const std::string jwt = kit::sign_jwt(loaded, kit::JwtClaims{}, 1700000000).reveal();
  CHECK(credplug::testing::verify_jwt(jwt, "ES256", key, "correct horse"));
  CHECK_FALSE(credplug::testing::verify_jwt(jwt, "ES256", key, "wrong"));
  auto wrong = kit::SecretString(std::string_view("wrong"));
  CHECK(contains(failure_of([&] { kit::SigningKey::load(kit::JwtAlg::ES256, key, &wrong); }),
                 "the passphrase does not decrypt the key"));
  CHECK(contains(failure_of([&] { kit::SigningKey::load(kit::JwtAlg::ES256, key); }),
                 "the key is encrypted and no passphrase was given"));
}

TEST_CASE("crypto: a key that cannot sign with the alg is refused, naming the field and why, never the key") {
  const std::string rsa1024 = credplug::testing::make_private_key_pem("rsa1024");
  const std::string p384 = credplug::testing::make_private_key_pem("p384");
  const std::string ed = credplug::testing::make_private_key_pem("ed25519");
  auto refused = [](kit::JwtAlg alg, const std::string &text) {
    return failure_of([&] { kit::SigningKey::load(alg, text, nullptr, "assertion_key"); });
  };
  CHECK(contains(refused(kit::JwtAlg::RS256, rsa1024), "assertion_key (RS256): an RSA key of 1024 bits"));
  CHECK(contains(refused(kit::JwtAlg::ES256, p384), "an EC key on secp384r1; ES256 needs an EC key on P-256"));
  CHECK(contains(refused(kit::JwtAlg::RS256, ed), "an Ed25519 key; RS256 needs an RSA key"));
  CHECK(contains(refused(kit::JwtAlg::EdDSA, p384), "EdDSA here is Ed25519"));
  CHECK(contains(refused(kit::JwtAlg::RS256, "/etc/keys/client.pem"), "not a PEM private key"));
  const std::string damaged = "-----BEGIN PRIVATE KEY-----\nAAAA-not-base64\n-----END PRIVATE KEY-----\n";
  const std::string message = refused(kit::JwtAlg::RS256, damaged);
  CHECK(contains(message, "is not a private key OpenSSL can read"));
  CHECK_FALSE(contains(message, "AAAA"));
  CHECK(contains(refused(kit::JwtAlg::RS256, std::string(70000, 'A')), "more than the 65536"));
  // Through the C helper: the call's error says it, *out stays NULL.
  Call c;
  credplug_key *loaded = reinterpret_cast<credplug_key *>(&c);
  CHECK(api().key_load(&c.call, "RS256", rsa1024.data(), rsa1024.size(), nullptr, &loaded) ==
        CREDPLUG_ERR_INVALID_CONFIG);
  CHECK(loaded == nullptr);
  CHECK(contains(c.call.error_message, "the private key (RS256): an RSA key of 1024 bits"));
  CHECK(api().key_load(&c.call, "none", "x", 1, nullptr, &loaded) == CREDPLUG_ERR_PLUGIN);
  CHECK(contains(c.call.error_message, "unknown algorithm"));
  api().key_free(nullptr);
}
