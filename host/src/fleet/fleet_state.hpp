// What the fleet writes to Redis besides sealed records, authenticated, so
// that a writer without the fleet's key can neither stop a process from
// starting nor hold a lease for ever (docs/SHARED_CACHE.md, "A Redis
// someone else writes to"):
//
// - a keyring entry says when a key last sealed a record: "<ms>" then
//   " <key id>:<mac>" under every key of the sealer's ring, so a process
//   that shares any one of them can tell the fleet wrote it;
// - a lease says until when it holds: "<nonce> <deadline ms> <key id>
//   <mac>" under the holder's current key, bound to the record's name.
//
// MACs are HMAC-SHA-256 under KeyRing::state_mac, cut to 16 bytes, in hex.
#pragma once

#include "fleet/shared_cache_keys.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace credplug::host {

std::string keyring_entry(const KeyRing &ring, std::string_view sealing_id, int64_t sealed_ms);
// When the entry for `sealing_id` says that key sealed, if one of the
// ring's keys authenticates it; nullopt when none does.
std::optional<int64_t> keyring_entry_time(const KeyRing &ring, std::string_view entry, std::string_view sealing_id);

// A new lease for `name`, held until `deadline_ms` (Unix ms), under the
// ring's current key.
std::string lease_value(const KeyRing &ring, std::string_view name, int64_t deadline_ms);
// The deadline inside a lease for `name`, if the ring authenticates it;
// nullopt for anything else (no fleet process wrote it for this name).
std::optional<int64_t> lease_deadline(const KeyRing &ring, std::string_view value, std::string_view name);

}  // namespace credplug::host
