// A Redis connection for the shared token cache, through hiredis (Debian's
// 0.14, synchronous API): every command bounded by a timeout, a small pool
// of connections for concurrent callers, and an outage handled quietly —
// while Redis is unreachable, slow or answering errors, run() returns
// nullopt at once (no caller waits for a dead server), the outage is logged
// once and counted, and reconnection is retried with backoff.
#pragma once

#include "fleet/shared_cache_keys.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace credplug::host {

struct RedisReply {
  enum Type { Nil, String, Integer, Array, Status } type = Nil;
  std::string text;  // String, Status
  long long integer = 0;
  std::vector<RedisReply> elements;
};

// How long to wait before trying Redis again after `failures` in a row:
// 100 ms, doubling to 30 s.
long redis_backoff_ms(int failures);

// One connection, authenticated and on its database. Every exchange has one
// deadline as a whole and a reply at most kMaxReplyBytes (see the .cpp for
// why hiredis's own I/O is not used). Not thread-safe: one user at a time.
class RedisConnection {
 public:
  // The most one reply may bring; a larger one fails the exchange (the
  // connection is then unusable), as a dead server does.
  static constexpr size_t kMaxReplyBytes = 1 << 20;

  // Connects, authenticates and selects the database, each step within
  // `timeout_ms`; nullptr with *why set when any fails.
  static std::unique_ptr<RedisConnection> open(const RedisAddress &address, long timeout_ms, std::string *why);
  ~RedisConnection();
  RedisConnection(const RedisConnection &) = delete;
  RedisConnection &operator=(const RedisConnection &) = delete;

  // One command, sent and answered within the timeout. nullopt with *why
  // set when there is no reply or Redis answered an error; *usable says
  // whether the connection still works (it does after an error reply).
  std::optional<RedisReply> command(const std::vector<std::string_view> &args, std::string *why, bool *usable);
  // The next reply the server pushes unasked (a subscription's message),
  // waiting until one comes, the connection fails (nullopt, *why set) or
  // `wake_fd` becomes readable (nullopt, *why empty).
  std::optional<RedisReply> next_push(int wake_fd, std::string *why);

 private:
  RedisConnection() = default;
  struct Io;
  redisContext *ctx_ = nullptr;
  long timeout_ms_ = 0;
};

class RedisClient {
 public:
  // `log(level, message)`: where the outage and recovery lines go.
  RedisClient(RedisAddress address, long timeout_ms, std::function<void(int, const std::string &)> log);
  ~RedisClient();
  RedisClient(const RedisClient &) = delete;
  RedisClient &operator=(const RedisClient &) = delete;

  // One command, sent and answered within the timeout (the whole exchange,
  // not each read); nullopt when Redis is down, slow, answered an error or
  // sent more than RedisConnection::kMaxReplyBytes.
  std::optional<RedisReply> run(const std::vector<std::string_view> &args);
  const RedisAddress &address() const { return address_; }
  uint64_t errors() const { return errors_.load(); }

 private:
  std::unique_ptr<RedisConnection> take();  // pooled or new; nullptr while down or unreachable
  void give_back(std::unique_ptr<RedisConnection> c);
  void failed(const std::string &why);  // marks an outage: log once, back off
  void recovered();

  const RedisAddress address_;
  const long timeout_ms_;
  const std::function<void(int, const std::string &)> log_;
  std::mutex mutex_;  // the pool and the outage state
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  bool outage_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  int failures_in_a_row_ = 0;
  std::atomic<uint64_t> errors_{0};
};

}  // namespace credplug::host
