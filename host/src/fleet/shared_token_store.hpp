// The fleet-wide level of the token cache (L2, docs/SHARED_CACHE.md): each
// credential's token in Redis, sealed (shared_cache_keys.hpp) under a name
// every process with the fleet's key computes alike, obtained by one process
// at a time under a lease with a fencing token, written only if no newer
// token is there, and dropped fleet-wide by generation (the fence) on a 401.
// Any Redis failure degrades to "not shared": the caller obtains the token
// itself, and no caller ever sees an error for it.
#pragma once

#include "cache/cache_clock.hpp"
#include "cache/metrics.hpp"
#include "cache/token_cache.hpp"
#include "fleet/redis_client.hpp"
#include "fleet/shared_cache_keys.hpp"
#include "fleet/shared_cache_news.hpp"

#include <credplug/types.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace credplug::host {

// A token as the fleet shares it.
struct SharedToken {
  uint64_t fence = 0;         // which token of the credential, fleet-wide: 1, 2, ...
  int64_t issued_at_ms = 0;   // Unix, when its request was sent
  int64_t expires_at_ms = 0;  // Unix
  std::vector<Header> headers;
};

// A record's plaintext: JSON {fence, iat_ms, exp_ms, headers: [[name, value,
// secret]...]}. The parser holds it to a plugin's output limits (header
// count, sizes, no control characters) and to a sane lifetime; nullopt
// when it is not such a record.
std::string serialise_shared_token(const SharedToken &token);
std::optional<SharedToken> parse_shared_token(std::string_view text);

class SharedTokenStore {
 public:
  // Checks the keys at once: throws Error(InvalidInput) when the keyring
  // says, authenticated by one of the ring's keys, that a key the ring
  // lacks sealed records in the last 7 days. An entry no key authenticates
  // is logged, never refused; an unreachable Redis is not an error (it is
  // logged; sharing starts later).
  SharedTokenStore(RedisAddress address, KeyRing keys, const std::string &key_origin, long timeout_ms,
                   std::function<void(int, const std::string &)> log);

  // The Redis names of a credential, one per key, the current key's first;
  // `account` (a label) tells apart credentials of one JSON ("": none).
  std::vector<std::string> names(std::string_view plugin_id, std::string_view credential_json,
                                 const std::string &account = "") const;
  // The newest token under any of the names, nullopt when none (or down).
  std::optional<SharedToken> read(const std::vector<std::string> &names);
  enum class Lease { Acquired, Held, Unavailable };
  struct LeaseHeld {
    uint64_t fence = 0;
    std::string value;  // the lease as written (fleet_state.hpp): publish and release compare it
  };
  // A lease with a new fence (INCR), set with a PX of lease_ms and an
  // authenticated deadline: Acquired fills *held. A lease in Redis holds
  // only if the fleet wrote it and its deadline has not passed; one that
  // does not is taken over (and logged).
  Lease try_lease(const std::string &name, long lease_ms, LeaseHeld *held);
  // Writes the token under `name` unless a newer fence is there; releases
  // `lease` either way. False when not written.
  bool publish(const std::string &name, const SharedToken &token, const std::string &lease);
  void release(const std::string &name, const std::string &lease);
  // The credential's state (plugin.h, minor 4: a refresh token rotated on
  // every use) as the fleet keeps it: under `name`:state, sealed, with the
  // fence of the token request that made it, for 7 days whatever its
  // tokens' lifetimes, so that whichever process redeems next redeems the
  // newest. Written only over an older fence. False when not written.
  bool publish_state(const std::string &name, uint64_t fence, const SecretString &state);
  struct SharedState {
    uint64_t fence = 0;
    SecretString state;
  };
  // The newest state under any of the names; nullopt when none (or down).
  std::optional<SharedState> read_state(const std::vector<std::string> &names);
  // Drops the token of this fence (only that one) under every name.
  void invalidate(const std::vector<std::string> &names, uint64_t fence);

  RedisClient &redis() { return redis_; }
  SharedCacheNews &news() { return news_; }
  const KeyRing &keys() const { return keys_; }

 private:
  void check_keys(const std::string &key_origin);
  RedisClient redis_;
  SharedCacheNews news_;
  const KeyRing keys_;
  std::function<void(int, const std::string &)> log_;
  std::mutex warned_mutex_;
  std::vector<std::string> warned_unknown_;  // key ids already logged
};

// What one credential's fetcher keeps between fetches.
struct SharedCredential {
  std::shared_ptr<SharedTokenStore> store;
  Metrics *metrics = nullptr;  // the Host's: L2 hits, lease waits
  std::vector<std::string> names;
  std::mutex mutex;
  uint64_t last_fence = 0;         // of the token this process holds
  uint64_t invalidated_fence = 0;  // never take this one again from L2
  // The credential's state: the fence of the newest this process has, and
  // of the lease it holds now (0: none).
  uint64_t state_fence = 0;
  uint64_t lease_fence = 0;
  // True when obtaining a token without the lease, beside its holder,
  // would present a refresh token twice (the credential has state): then a
  // long wait fails instead.
  std::function<bool()> exclusive;
  // Recent tokens handed to the cache and their fences, for invalidate().
  std::deque<std::pair<std::weak_ptr<const HeaderSet>, uint64_t>> recent;
  uint64_t fence_of(const HeaderSet &set);  // 0: not one of the recent
  uint64_t newest();                        // last_fence, locked
  // A 401 on the token of `fence`: dropped fleet-wide (that one only), and
  // never taken from L2 again here.
  void invalidate(uint64_t fence);
};

// Whether fetch_shared() may hand back a token another process obtained
// (Reuse), or must ask the provider itself, under the lease (Fresh: an
// explicit authenticate() of a credential whose refresh token rotates).
enum class SharedFetch { Reuse, Fresh };

// The cache's fetcher with L2 in front of `here` (the plugin): a usable
// shared token is taken (Reuse only); else this process obtains one under
// the lease, or waits (polling) for the holder's record or the lease's end,
// at most `policy.max_wait_ms`, then obtains one itself (or fails, when the
// credential is exclusive). The wait ends early on news
// (shared_cache_news.hpp).
Fetched fetch_shared(SharedCredential &credential, FetchKind kind, const CachePolicy &policy, long lease_ms,
                     const CacheClock &clock, const std::function<Fetched(FetchKind)> &here,
                     SharedFetch mode = SharedFetch::Reuse);

}  // namespace credplug::host
