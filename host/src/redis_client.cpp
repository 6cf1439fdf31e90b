#include "redis_client.hpp"

#include <credplug/plugin.h>

#include <hiredis/hiredis.h>

namespace credplug::host {
namespace {

constexpr long kFirstBackoffMs = 100, kMaxBackoffMs = 30000;
constexpr size_t kMaxIdle = 8;

timeval as_timeval(long ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

RedisReply convert(const redisReply *r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::String, out.text.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Status, out.text.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Integer, out.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Array;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = RedisReply::Nil; break;
  }
  return out;
}

}  // namespace

struct RedisClient::Connection {
  redisContext *ctx = nullptr;
  ~Connection() {
    if (ctx) redisFree(ctx);
  }
  // A reply, or the reason there is none (the connection is then unusable
  // unless `usable` stays true: an error reply leaves it working).
  std::optional<RedisReply> command(const std::vector<std::string_view> &args, std::string &why, bool &usable) {
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    for (auto a : args) argv.push_back(a.data()), lens.push_back(a.size());
    auto *reply = static_cast<redisReply *>(redisCommandArgv(ctx, int(argv.size()), argv.data(), lens.data()));
    if (reply == nullptr) {
      why = ctx->errstr[0] ? ctx->errstr : "no reply";
      usable = false;
      return std::nullopt;
    }
    std::optional<RedisReply> out;
    if (reply->type == REDIS_REPLY_ERROR) {
      why = std::string("Redis answered an error: ") + std::string(reply->str, reply->len).substr(0, 200);
      usable = true;
    } else {
      out = convert(reply);
    }
    freeReplyObject(reply);
    return out;
  }
};

RedisClient::RedisClient(RedisAddress address, long timeout_ms, std::function<void(int, const std::string &)> log)
    : address_(std::move(address)), timeout_ms_(timeout_ms), log_(std::move(log)) {}

RedisClient::~RedisClient() = default;

void RedisClient::failed(const std::string &why) {
  errors_.fetch_add(1);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!outage_ && log_)
    log_(CREDPLUG_LOG_WARN, "shared cache " + address_.shown + " unavailable (" + why +
                                "); serving from this process's cache and obtaining tokens here until it is back");
  outage_ = true;
  backoff_ms_ = backoff_ms_ == 0 ? kFirstBackoffMs : std::min(backoff_ms_ * 2, kMaxBackoffMs);
  retry_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms_);
  idle_.clear();
}

void RedisClient::recovered() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (outage_ && log_) log_(CREDPLUG_LOG_WARN, "shared cache " + address_.shown + " reachable again; sharing tokens");
  outage_ = false;
  backoff_ms_ = 0;
}

std::unique_ptr<RedisClient::Connection> RedisClient::take() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (outage_ && std::chrono::steady_clock::now() < retry_at_) return nullptr;
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<Connection>();
  c->ctx = redisConnectWithTimeout(address_.host.c_str(), address_.port, as_timeval(timeout_ms_));
  if (c->ctx == nullptr || c->ctx->err) {
    failed(c->ctx ? std::string("connect: ") + c->ctx->errstr : "connect: out of memory");
    return nullptr;
  }
  redisSetTimeout(c->ctx, as_timeval(timeout_ms_));
  redisEnableKeepAlive(c->ctx);
  std::string why;
  bool usable = true;
  if (!address_.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!address_.user.empty()) auth.push_back(address_.user);
    auth.push_back(address_.password.view());
    if (!c->command(auth, why, usable)) {
      failed("AUTH refused: " + why);
      return nullptr;
    }
  }
  if (address_.db != 0) {
    const std::string db = std::to_string(address_.db);
    if (!c->command({"SELECT", db}, why, usable)) {
      failed("SELECT " + db + ": " + why);
      return nullptr;
    }
  }
  return c;
}

void RedisClient::give_back(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
}

std::optional<RedisReply> RedisClient::run(const std::vector<std::string_view> &args) {
  auto c = take();
  if (!c) return std::nullopt;
  std::string why;
  bool usable = true;
  auto reply = c->command(args, why, usable);
  if (!reply) {
    if (!usable) {
      failed(why);
      return std::nullopt;
    }
    // An error reply (a script error, a wrong type): counted and logged at
    // debug; the connection and the outage state are unaffected.
    errors_.fetch_add(1);
    if (log_) log_(CREDPLUG_LOG_DEBUG, "shared cache: " + std::string(args[0]) + ": " + why);
    give_back(std::move(c));
    return std::nullopt;
  }
  recovered();
  give_back(std::move(c));
  return reply;
}

}  // namespace credplug::host
