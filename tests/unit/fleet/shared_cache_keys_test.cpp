// The shared cache's URL, key file, record names and sealing.
#include "fleet/shared_cache_keys.hpp"

#include <credplug/host.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace credplug;
using namespace credplug::host;

namespace {

const std::string kKeyA = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const std::string kKeyB = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    CHECK(e.kind() == ErrorKind::InvalidInput);
    return e.what();
  }
  return "";
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("shared cache: redis URLs, and what is wrong with one, never quoting its password") {
  auto a = parse_redis_url("redis://127.0.0.1:6380/2");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6380);
  CHECK(a.db == 2);
  CHECK(a.password.empty());
  auto b = parse_redis_url("redis://fleet:s3cret-pass@cache.internal");
  CHECK(b.user == "fleet");
  CHECK(b.password.view() == "s3cret-pass");
  CHECK(b.port == 6379);
  CHECK(b.shown == "redis://fleet:***@cache.internal:6379/0");
  CHECK(parse_redis_url("redis://:only-pass@h:1/0").user.empty());
  CHECK(contains(error_of([] { parse_redis_url("rediss://h:6380"); }), "hiredis (Debian's 0.14) cannot speak"));
  CHECK(contains(error_of([] { parse_redis_url("http://h"); }), "does not start with redis://"));
  CHECK(contains(error_of([] { parse_redis_url("redis://h:99999"); }), "port above 65535"));
  CHECK(contains(error_of([] { parse_redis_url("redis://h/16"); }), "database number above 15"));
  CHECK(contains(error_of([] { parse_redis_url("redis://user@h"); }), "user info without a password"));
  const std::string message = error_of([] { parse_redis_url("redis://u:pw-secret@h:x"); });
  CHECK(contains(message, "no valid port"));
  CHECK_FALSE(contains(message, "pw-secret"));
}

TEST_CASE("shared cache: key files, with the line of each mistake") {
  KeyRing ring = KeyRing::from_text("# fleet keys\n" + kKeyA + "\n\n" + kKeyB + "\r\n", "keys.txt");
  CHECK(ring.size() == 2);
  CHECK(ring.current_id().size() == 16);
  CHECK(ring.id(0) != ring.id(1));
  CHECK(contains(error_of([] { KeyRing::from_text("abc\n", "k"); }), "k line 1 is not a key: expected 64 hex"));
  CHECK(contains(error_of([] { KeyRing::from_text(std::string(63, 'a') + "z\n", "k"); }), "not hex"));
  CHECK(contains(error_of([] { KeyRing::from_text(kKeyA + "\n" + kKeyA, "k"); }), "k line 2 repeats a key"));
  CHECK(contains(error_of([] { KeyRing::from_text("# none\n", "k"); }), "has no key"));
  CHECK(contains(error_of([] { KeyRing::load("/nonexistent/keys"); }), "cannot read the shared cache key file"));
  // No key material in any message.
  CHECK_FALSE(contains(error_of([] { KeyRing::from_text(kKeyA + "\n" + kKeyA, "k"); }), kKeyA));
}

TEST_CASE("shared cache: record names are the same for every holder of the key, and say nothing of the credential") {
  KeyRing a1 = KeyRing::from_text(kKeyA, "a"), a2 = KeyRing::from_text(kKeyA, "a"), b = KeyRing::from_text(kKeyB, "b");
  const std::string cred = R"({"client_id":"connector-1","client_secret":"s3cr3t"})";
  const std::string name = a1.record_name(0, "ainua", cred);
  CHECK(name == a2.record_name(0, "ainua", cred));
  CHECK(name != b.record_name(0, "ainua", cred));
  CHECK(name != a1.record_name(0, "nexla", cred));
  // The same credential however it is spaced, ordered or escaped; another
  // value is another credential.
  CHECK(name == a1.record_name(0, "ainua", cred + " "));
  CHECK(name == a1.record_name(0, "ainua",
                               "{\n  \"client_secret\" : \"s3cr3t\",\n  \"client_id\": \"connector-\\u0031\"\n}\n"));
  CHECK(name != a1.record_name(0, "ainua", R"({"client_id":"connector-1","client_secret":"s3cr3T"})"));
  CHECK(name != a1.record_name(0, "ainua", R"({"client_id":"connector-1","client_secret":"s3cr3t","scope":"a"})"));
  CHECK(canonical_credential(R"( {"b":[{"y":1,"x":true}],"a":null} )") == R"({"a":null,"b":[{"x":true,"y":1}]})");
  CHECK(name.rfind("credplug:v1:" + a1.current_id() + ":", 0) == 0);
  CHECK_FALSE(contains(name, "connector"));
}

TEST_CASE(
    "shared cache: records are sealed; tampering, another name or an unknown key open nothing; old keys still open") {
  KeyRing a = KeyRing::from_text(kKeyA, "a");
  const std::string record = a.seal("the plaintext token record", "name-1");
  CHECK_FALSE(contains(record, "plaintext"));
  CHECK(a.seal("the plaintext token record", "name-1") != record);  // a fresh nonce each time
  auto opened = a.open(record, "name-1");
  REQUIRE(opened);
  CHECK(opened->view() == "the plaintext token record");
  CHECK_FALSE(a.open(record, "name-2"));  // moved to another credential's name
  std::string tampered = record;
  tampered[tampered.size() / 2] ^= 1;
  CHECK_FALSE(a.open(tampered, "name-1"));
  CHECK_FALSE(a.open("short", "name-1"));
  std::string unknown;
  KeyRing b = KeyRing::from_text(kKeyB, "b");
  CHECK_FALSE(b.open(record, "name-1", &unknown));
  CHECK(unknown == a.current_id());
  // Rotation: the new key first, the old one after it: old records open.
  KeyRing rotated = KeyRing::from_text(kKeyB + "\n" + kKeyA, "r");
  CHECK(rotated.open(record, "name-1").has_value());
  CHECK(rotated.current_id() == b.current_id());
}
