#include "fleet/shared_token_store.hpp"

#include "base/unix_time.hpp"
#include "fleet/fleet_state.hpp"
#include "secrets/credential_state.hpp"
#include "secrets/json_wipe.hpp"
#include "secrets/output_rules.hpp"

#include <credplug/plugin.h>
#include <credplug/kit/oauth2.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "bounded_json.hpp"

namespace credplug::host {
namespace {

// Records live no longer than this, whatever the token says; a key not seen
// sealing for this long no longer has records (check_keys).
constexpr int64_t kMaxRecordMs = 7LL * 24 * 3600 * 1000;
constexpr const char *kKeyring = "credplug:v1:keyring";

// A lease's deadline is read on this process's clock: this much skew
// between the fleet's clocks is allowed before a lease counts as over.
constexpr int64_t kLeaseClockSkewMs = 1000;

// Lease (ARGV[1], ours, authenticated: fleet_state.hpp): take it and a new
// fence at once, when it is free or still the one we judged over (ARGV[4]:
// forged, or past its own deadline); else answer the lease that holds.
constexpr const char *kLeaseScript = R"(
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[4] then return held end
local f = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return f)";

// Write only over an older token and announce it (ARGV[6]: the news
// channel); release our lease (ARGV[7]) either way; note in the keyring
// when this key last sealed (check_keys reads it).
constexpr const char *kPublishScript = R"(
local current = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') or 0
local wrote = 0
if tonumber(ARGV[1]) > current then
  redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'rec', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
  redis.call('PUBLISH', ARGV[6], KEYS[1])
  wrote = 1
end
if redis.call('GET', KEYS[2]) == ARGV[7] then redis.call('DEL', KEYS[2]) end
return wrote)";

// The state: only over an older one.
constexpr const char *kPublishStateScript = R"(
local current = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') or 0
if tonumber(ARGV[1]) > current then
  redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'rec', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0)";

// Give the lease back; waiters hear of it and try for it at once.
constexpr const char *kReleaseScript = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[3], ARGV[2])
  return 1
end
return 0)";

// Drop the token of this fence, never a newer one.
constexpr const char *kInvalidateScript = R"(
if redis.call('HGET', KEYS[1], 'fence') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0)";

}  // namespace

std::string serialise_shared_token(const SharedToken &t) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("fence"), w.Uint64(t.fence);
  w.Key("iat_ms"), w.Int64(t.issued_at_ms);
  w.Key("exp_ms"), w.Int64(t.expires_at_ms);
  w.Key("headers");
  w.StartArray();
  for (const auto &h : t.headers) {
    w.StartArray();
    w.String(h.name.c_str(), rapidjson::SizeType(h.name.size()));
    w.String(h.value.view().data(), rapidjson::SizeType(h.value.size()));
    w.Bool(h.secret);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  std::string out(sb.GetString(), sb.GetSize());
  OPENSSL_cleanse(const_cast<char *>(sb.GetString()), sb.GetSize());
  return out;
}

std::optional<SharedToken> parse_shared_token(std::string_view text) {
  rapidjson::Document doc;
  if (!bounded_json::parse(doc, text).ok || !doc.IsObject()) return std::nullopt;
  SharedToken t;
  auto fence = doc.FindMember("fence"), iat = doc.FindMember("iat_ms"), exp = doc.FindMember("exp_ms"),
       headers = doc.FindMember("headers");
  bool ok = fence != doc.MemberEnd() && fence->value.IsUint64() && iat != doc.MemberEnd() && iat->value.IsInt64() &&
            exp != doc.MemberEnd() && exp->value.IsInt64() && headers != doc.MemberEnd() && headers->value.IsArray();
  if (ok) {
    t.fence = fence->value.GetUint64();
    t.issued_at_ms = iat->value.GetInt64();
    t.expires_at_ms = exp->value.GetInt64();
    // Held to what a plugin's output is held to (a record that opens was
    // written by the fleet, but is still read as hostile input).
    ok = t.fence > 0 && t.issued_at_ms > 0 && t.expires_at_ms > t.issued_at_ms &&
         t.expires_at_ms - t.issued_at_ms <= kit::oauth2::kMaxTokenLifetimeSeconds * 1000 &&
         headers->value.Size() <= kMaxHeaders;
    for (const auto &h : headers->value.GetArray()) {
      if (!ok || !h.IsArray() || h.Size() != 3 || !h[0].IsString() || !h[1].IsString() || !h[2].IsBool() ||
          header_problem(std::string_view(h[0].GetString(), h[0].GetStringLength()),
                         std::string_view(h[1].GetString(), h[1].GetStringLength()))) {
        ok = false;
        break;
      }
      t.headers.push_back(Header{std::string(h[0].GetString(), h[0].GetStringLength()),
                                 SecretString(std::string_view(h[1].GetString(), h[1].GetStringLength())),
                                 h[2].GetBool()});
    }
  }
  wipe_json_strings(doc);
  if (!ok || t.headers.empty()) return std::nullopt;
  return t;
}

SharedTokenStore::SharedTokenStore(RedisAddress address, KeyRing keys, const std::string &key_origin, long timeout_ms,
                                   std::function<void(int, const std::string &)> log)
    : redis_(address, timeout_ms, log),
      news_(std::move(address), timeout_ms),
      keys_(std::move(keys)),
      log_(std::move(log)) {
  check_keys(key_origin);
}

void SharedTokenStore::check_keys(const std::string &key_origin) {
  auto reply = redis_.run({"HGETALL", kKeyring});
  if (!reply) return;  // unreachable (logged): checked records are refused as they come
  const int64_t now = unix_ms_now();
  for (size_t i = 0; i + 1 < reply->elements.size() && i < size_t(2) * 1024; i += 2) {
    const std::string id = reply->elements[i].text.substr(0, 64);
    if (keys_.has(id)) continue;
    // Only what the fleet wrote may refuse a start: an entry none of our
    // keys authenticates (another fleet's, or a writer's without the key)
    // means records this process cannot read, said once, and no more.
    const auto last = keyring_entry_time(keys_, reply->elements[i + 1].text, id);
    if (!last) {
      if (log_)
        log_(CREDPLUG_LOG_WARN, "shared cache: " + redis_.address().shown + " names key " + displayable(id, 64) +
                                    " in its keyring, and no key in " + key_origin +
                                    " authenticates that entry (another fleet's, or written without the key): "
                                    "records sealed with it cannot be read here; ignored");
      continue;
    }
    if (now - *last > kMaxRecordMs) continue;
    const int64_t ago_min = std::max<int64_t>(0, now - *last) / 60000;
    throw Error(ErrorKind::InvalidInput,
                "the shared cache " + redis_.address().shown + " holds tokens sealed with key " + id + " (last " +
                    std::to_string(ago_min) + " min ago), which the key file " + key_origin +
                    " lacks: every process would miss them; add that key to the file as a later line (keys rotate "
                    "by adding the new one first), or use the fleet's key file");
  }
  // The keyring learns a key when it seals a record (kPublishScript), not
  // when a process starts with it: a key that sealed nothing bars no one.
}

std::vector<std::string> SharedTokenStore::names(std::string_view plugin_id, std::string_view credential_json,
                                                 const std::string &account) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < keys_.size(); ++i) out.push_back(keys_.record_name(i, plugin_id, credential_json, account));
  return out;
}

std::optional<SharedToken> SharedTokenStore::read(const std::vector<std::string> &names) {
  std::optional<SharedToken> best;
  for (const auto &name : names) {
    auto reply = redis_.run({"HGET", name, "rec"});
    if (!reply) return best;  // down: what we have
    if (reply->type != RedisReply::String) continue;
    std::string unknown;
    auto plain = keys_.open(reply->text, name, &unknown);
    kit::wipe(reply->text);
    if (!plain) {
      const std::string &what = unknown.empty() ? name : unknown;  // warned about once each
      std::lock_guard<std::mutex> lock(warned_mutex_);
      if (std::find(warned_unknown_.begin(), warned_unknown_.end(), what) == warned_unknown_.end()) {
        warned_unknown_.push_back(what);
        if (log_)
          log_(CREDPLUG_LOG_ERROR, unknown.empty() ? "shared cache: a record under " + name +
                                                         " failed authentication (tampered, or written by another "
                                                         "fleet); ignored"
                                                   : "shared cache: a record is sealed with key " + unknown +
                                                         ", which the key file lacks; ignored");
      }
      continue;
    }
    auto token = parse_shared_token(plain->view());
    if (token && (!best || token->fence > best->fence)) best = std::move(token);
  }
  return best;
}

SharedTokenStore::Lease SharedTokenStore::try_lease(const std::string &name, long lease_ms, LeaseHeld *held) {
  const std::string mine = lease_value(keys_, name, unix_ms_now() + lease_ms);
  std::string judged_over;  // a lease seen holding that does not hold
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto reply = redis_.run({"EVAL", kLeaseScript, "2", name + ":lease", name + ":fence", mine,
                             std::to_string(lease_ms), std::to_string(kMaxRecordMs * 4), judged_over});
    if (!reply) return Lease::Unavailable;
    if (reply->type == RedisReply::Integer && reply->integer > 0) {
      held->fence = uint64_t(reply->integer);
      held->value = mine;
      return Lease::Acquired;
    }
    if (reply->type != RedisReply::String) return Lease::Unavailable;
    // Held, as far as Redis says. A lease holds until the deadline sealed
    // in it, whatever its TTL says (a writer without the key may have
    // removed it), and only if the fleet wrote it.
    const auto deadline = lease_deadline(keys_, reply->text, name);
    if (deadline && unix_ms_now() <= *deadline + kLeaseClockSkewMs) return Lease::Held;
    if (log_)
      log_(CREDPLUG_LOG_WARN, "shared cache: the lease on " + name +
                                  (deadline ? " outlived its own deadline (its TTL was removed)"
                                            : " was not written by the fleet (no key authenticates it)") +
                                  "; taken over");
    judged_over = reply->text;
  }
  return Lease::Held;
}

bool SharedTokenStore::publish(const std::string &name, const SharedToken &token, const std::string &lease) {
  std::string plain = serialise_shared_token(token);
  std::string sealed = keys_.seal(plain, name);
  kit::wipe(plain);
  const int64_t ttl = std::clamp<int64_t>(token.expires_at_ms - unix_ms_now(), 1, kMaxRecordMs);
  auto reply = redis_.run({"EVAL", kPublishScript, "3", name, name + ":lease", kKeyring, std::to_string(token.fence),
                           sealed, std::to_string(ttl), keys_.current_id(),
                           keyring_entry(keys_, keys_.current_id(), unix_ms_now()), SharedCacheNews::kChannel, lease});
  return reply && reply->type == RedisReply::Integer && reply->integer == 1;
}

bool SharedTokenStore::publish_state(const std::string &name, uint64_t fence, const SecretString &state) {
  const std::string key = name + ":state";
  std::string sealed = keys_.seal(state.view(), key + ":" + std::to_string(fence));
  auto reply =
      redis_.run({"EVAL", kPublishStateScript, "1", key, std::to_string(fence), sealed, std::to_string(kMaxRecordMs)});
  return reply && reply->type == RedisReply::Integer && reply->integer == 1;
}

std::optional<SharedTokenStore::SharedState> SharedTokenStore::read_state(const std::vector<std::string> &names) {
  std::optional<SharedState> best;
  for (const auto &name : names) {
    const std::string key = name + ":state";
    auto reply = redis_.run({"HMGET", key, "fence", "rec"});
    if (!reply || reply->type != RedisReply::Array || reply->elements.size() != 2 ||
        reply->elements[0].type != RedisReply::String || reply->elements[1].type != RedisReply::String)
      continue;
    const uint64_t fence = std::strtoull(reply->elements[0].text.c_str(), nullptr, 10);
    // The fence is sealed in with it: a record moved to another fence does not open.
    auto plain = keys_.open(reply->elements[1].text, key + ":" + std::to_string(fence));
    kit::wipe(reply->elements[1].text);
    if (!plain || state_problem(plain->view())) continue;
    if (!best || fence > best->fence) best = SharedState{fence, std::move(*plain)};
  }
  return best;
}

void SharedTokenStore::release(const std::string &name, const std::string &lease) {
  redis_.run({"EVAL", kReleaseScript, "1", name + ":lease", lease, name, SharedCacheNews::kChannel});
}

void SharedTokenStore::invalidate(const std::vector<std::string> &names, uint64_t fence) {
  for (const auto &name : names) redis_.run({"EVAL", kInvalidateScript, "1", name, std::to_string(fence)});
}

uint64_t SharedCredential::fence_of(const HeaderSet &set) {
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto &[weak, fence] : recent)
    if (auto held = weak.lock(); held.get() == &set) return fence;
  return 0;
}

uint64_t SharedCredential::newest() {
  std::lock_guard<std::mutex> lock(mutex);
  return last_fence;
}

void SharedCredential::invalidate(uint64_t fence) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    invalidated_fence = std::max(invalidated_fence, fence);
  }
  store->invalidate(names, fence);
}

Fetched fetch_shared(SharedCredential &c, FetchKind kind, const CachePolicy &policy, long lease_ms,
                     const CacheClock &clock, const std::function<Fetched(FetchKind)> &here, SharedFetch mode) {
  SharedTokenStore &store = *c.store;
  auto remember = [&](Fetched &f, uint64_t fence) {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.last_fence = std::max(c.last_fence, fence);
    c.recent.emplace_back(f.set, fence);
    while (c.recent.size() > 4) c.recent.pop_front();
    return std::move(f);
  };
  // A shared token this process may take now: not invalidated here, and
  // valid past the skew the cache would apply to it (TokenCache::install:
  // the policy's, at most a quarter of its lifetime).
  auto usable = [&](const SharedToken &t) {
    if (mode == SharedFetch::Fresh) return false;
    std::lock_guard<std::mutex> lock(c.mutex);
    const int64_t skew = std::min<int64_t>(policy.skew_ms, (t.expires_at_ms - t.issued_at_ms) / 4);
    if (t.fence == c.invalidated_fence || t.expires_at_ms - skew <= clock.unix_ms()) return false;
    return kind == FetchKind::Authenticate ? t.fence >= c.last_fence : t.fence > c.last_fence;
  };
  // A wait for another process's token request, measured from its start.
  std::optional<int64_t> waiting_since;
  auto end_wait = [&] {
    if (waiting_since && c.metrics)
      c.metrics->observe<&MetricsSnapshot::lease_wait_duration>(double(clock.now_ns() - *waiting_since) / 1e6);
    waiting_since.reset();
  };
  auto take = [&](SharedToken &t) {
    end_wait();
    if (c.metrics) c.metrics->count<&MetricsSnapshot::l2_hits>();
    // Installed as if requested when it was: the cache's skew and refresh
    // point then fall where they do in the process that obtained it.
    Fetched f;
    // + 1: both wall-clock readings are truncated to the millisecond, and
    // a token taken from the fleet must not outlive its expiry by one.
    const int64_t age_ms = std::max<int64_t>(0, clock.unix_ms() - t.issued_at_ms) + 1;
    f.sent_ns = clock.now_ns() - age_ms * 1000000;
    f.lifetime_ms = long(t.expires_at_ms - t.issued_at_ms);
    f.expires_unix_ms = t.expires_at_ms;
    f.set = std::make_shared<HeaderSet>();
    f.set->headers = std::move(t.headers);
    f.set->expires_at = t.expires_at_ms / 1000;
    if (f.lifetime_ms >= kNeverExpiresLifetimeMs) {  // stored as such by a process told it never expires
      f.never_expires = f.set->never_expires = true;
      f.set->expires_at.reset();
    }
    return remember(f, t.fence);
  };
  const int64_t give_up = clock.now_ns() + int64_t(policy.max_wait_ms) * 1000000;
  long pause_ms = 5;  // then 7, 10, 15 ... 200, unless news comes first
  std::optional<SharedCacheNews::Ticket> news;
  for (;;) {
    if (mode == SharedFetch::Reuse)
      if (auto t = store.read(c.names); t && usable(*t)) return take(*t);
    SharedTokenStore::LeaseHeld lease;
    switch (store.try_lease(c.names[0], lease_ms, &lease)) {
      case SharedTokenStore::Lease::Unavailable:
        end_wait();
        return here(kind);  // Redis is down: not shared, never an error
      case SharedTokenStore::Lease::Acquired: {
        end_wait();
        // Another holder may have finished between our read and our lease:
        // its token is then the one to take (and the lease goes back).
        if (mode == SharedFetch::Reuse)
          if (auto t = store.read(c.names); t && usable(*t)) {
            store.release(c.names[0], lease.value);
            return take(*t);
          }
        Fetched f;
        try {
          {
            std::lock_guard<std::mutex> lock(c.mutex);
            c.lease_fence = lease.fence;
          }
          f = here(kind);
        } catch (...) {
          std::lock_guard<std::mutex> lock(c.mutex);
          c.lease_fence = 0;
          store.release(c.names[0], lease.value);
          throw;
        }
        {
          std::lock_guard<std::mutex> lock(c.mutex);
          c.lease_fence = 0;
        }
        // The obtainer's own expiry, to the millisecond: taken from the time
        // before here() instead, a taker's whole-second expires_at fell a
        // second early whenever the plugin call crossed a millisecond.
        SharedToken t{lease.fence, f.expires_unix_ms - f.lifetime_ms, f.expires_unix_ms, f.set->headers};
        store.publish(c.names[0], t, lease.value);
        return remember(f, lease.fence);
      }
      case SharedTokenStore::Lease::Held:
        break;
    }
    // Another process is obtaining it: wait for its record, or for its lease
    // to end (then this one tries), at most max_wait.
    if (!waiting_since) waiting_since = clock.now_ns();
    if (clock.now_ns() >= give_up) {
      end_wait();
      if (c.exclusive && c.exclusive())
        throw FetchFailure(ErrorKind::Network,
                           "another process of the fleet has held this credential's lease for " +
                               std::to_string(policy.max_wait_ms) +
                               " ms; its refresh token is not presented beside it (that would present it twice)",
                           std::nullopt);
      return here(kind);
    }
    if (!news) {  // listen first, then look again: news from now on is not missed
      news.emplace(store.news(), c.names[0]);
      continue;
    }
    const int64_t left_ms = (give_up - clock.now_ns()) / 1000000;
    news->wait(std::chrono::milliseconds(std::max<int64_t>(1, std::min<int64_t>(pause_ms, left_ms))));
    pause_ms = std::min(pause_ms * 3 / 2, 200L);
  }
}

}  // namespace credplug::host
