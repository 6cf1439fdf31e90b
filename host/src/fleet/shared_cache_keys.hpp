// The shared cache's secrets: where Redis is (redis:// URLs) and the fleet's
// keys (a key file), and what they are used for: naming a credential's
// records by HMAC, and sealing them with AES-256-GCM (OpenSSL). Nothing here
// talks to Redis.
#pragma once

#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

// redis://[user:password@]host:port/db, parsed. Throws Error(InvalidInput)
// naming what is wrong; rediss:// is refused (Debian's hiredis has no TLS).
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;            // Redis 6 ACL user; empty: the default user
  kit::SecretString password;  // empty: no AUTH
  std::string shown;           // the URL without the password, for messages
};
RedisAddress parse_redis_url(std::string_view url);

// A credential's JSON with no insignificant space, every object's members
// sorted by name and strings in one escaping, so that every process names
// it alike. Text that does not parse is returned as is.
std::string canonical_credential(std::string_view credential_json);

// The fleet's keys: the key file's lines, 64 hex characters each (32 bytes);
// the first is current (it seals), every one opens. Each has a public id: the
// first 8 bytes of SHA-256(key), in hex.
class KeyRing {
 public:
  // Reads a key file; throws Error(InvalidInput) naming the file and line.
  static KeyRing load(const std::string &path);
  static KeyRing from_text(std::string_view text, const std::string &origin);

  size_t size() const { return keys_.size(); }
  const std::string &id(size_t i) const { return keys_[i].id; }
  const std::string &current_id() const { return keys_[0].id; }
  bool has(const std::string &id) const;

  // The Redis key that names (plugin, credential) under key i: the same in
  // every process with that key and that credential however its JSON is
  // spaced or ordered (canonical_credential), and no credential text in it.
  // `account` (a label, "" for none) tells apart credentials of one JSON.
  std::string record_name(size_t i, std::string_view plugin_id, std::string_view credential_json,
                          const std::string &account = "") const;

  // AES-256-GCM under the current key: version | key id | nonce | ciphertext
  // | tag. `context` (the Redis key) is authenticated too, so a record moved
  // to another name does not open.
  std::string seal(std::string_view plaintext, std::string_view context) const;
  // nullopt when the record is not one of ours, was sealed with a key this
  // ring lacks (*unknown_key set to its id), or fails authentication.
  std::optional<kit::SecretString> open(std::string_view record, std::string_view context,
                                        std::string *unknown_key = nullptr) const;

  // HMAC-SHA-256 of `data` under key i's key for the fleet's own state in
  // Redis (keyring entries, leases: fleet_state.hpp), derived apart from
  // the naming and sealing keys.
  std::string state_mac(size_t i, std::string_view data) const;
  // The index of the key with this id; size() when the ring lacks it.
  size_t index_of(std::string_view id) const;

 private:
  struct Key {
    kit::SecretString bytes;   // 32
    kit::SecretString naming;  // HMAC key for record names, derived from bytes
    kit::SecretString state;   // HMAC key for keyring entries and leases, derived from bytes
    std::string id;
  };
  std::vector<Key> keys_;
};

}  // namespace credplug::host
