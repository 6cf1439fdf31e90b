#include "redis_client.hpp"

#include <credplug/plugin.h>

#include <hiredis/hiredis.h>

#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

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
  long timeout_ms = 0;
  ~Connection() {
    if (ctx) redisFree(ctx);
  }
  // A reply, or the reason there is none (the connection is then unusable
  // unless `usable` stays true: an error reply leaves it working).
  //
  // Hand-driven rather than through redisCommand(): hiredis 0.14's timeout
  // bounds each read(), so a server sending a byte now and then held a
  // caller forever; it buffers a bulk reply of any announced length; it
  // writes with write(), so a server that hung up could raise SIGPIPE in
  // the embedding process; and its output buffer kept AUTH's password
  // unwiped. Here the whole exchange has one deadline, the reply a size cap
  // (a record is a few KiB), sends use MSG_NOSIGNAL and the formatted
  // command is wiped.
  std::optional<RedisReply> command(const std::vector<std::string_view> &args, std::string &why, bool &usable) {
    usable = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    for (auto a : args) argv.push_back(a.data()), lens.push_back(a.size());
    char *cmd = nullptr;
    const int len = redisFormatCommandArgv(&cmd, int(argv.size()), argv.data(), lens.data());
    if (len < 0) {
      why = "out of memory";
      return std::nullopt;
    }
    const bool sent = send_all(cmd, size_t(len), deadline, why);
    OPENSSL_cleanse(cmd, size_t(len));
    redisFreeCommand(cmd);
    redisReply *reply = nullptr;
    if (!sent || !read_reply(reply, deadline, why)) return std::nullopt;
    std::optional<RedisReply> out;
    if (reply->type == REDIS_REPLY_ERROR)
      why = std::string("Redis answered an error: ") + std::string(reply->str, reply->len).substr(0, 200);
    else
      out = convert(reply);
    freeReplyObject(reply);
    usable = true;  // an error reply leaves the connection working
    return out;
  }

  // Waits until the socket is ready for `events`, at most until `deadline`.
  bool wait_for(short events, std::chrono::steady_clock::time_point deadline, std::string &why) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{ctx->fd, events, 0};
      const int ready = left.count() > 0 ? poll(&p, 1, int(left.count())) : 0;
      if (ready > 0) return true;
      if (ready < 0 && errno == EINTR) continue;
      why = ready == 0 ? "no answer within " + std::to_string(timeout_ms) + " ms" : std::string("poll: ") + std::strerror(errno);
      return false;
    }
  }

  bool send_all(const char *data, size_t size, std::chrono::steady_clock::time_point deadline, std::string &why) {
    while (size > 0) {
      if (!wait_for(POLLOUT, deadline, why)) return false;
      const ssize_t n = send(ctx->fd, data, size, MSG_NOSIGNAL);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        why = std::string("send: ") + std::strerror(errno);
        return false;
      }
      data += n, size -= size_t(n);
    }
    return true;
  }

  bool read_reply(redisReply *&reply, std::chrono::steady_clock::time_point deadline, std::string &why) {
    size_t received = 0;
    char buf[16384];
    for (;;) {
      void *r = nullptr;
      if (redisReaderGetReply(ctx->reader, &r) != REDIS_OK) {
        why = ctx->reader->errstr;
        return false;
      }
      if (r != nullptr) {
        reply = static_cast<redisReply *>(r);
        return true;
      }
      if (!wait_for(POLLIN, deadline, why)) return false;
      const ssize_t n = recv(ctx->fd, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        why = n == 0 ? "the server closed the connection" : std::string("recv: ") + std::strerror(errno);
        return false;
      }
      if ((received += size_t(n)) > RedisClient::kMaxReplyBytes) {
        why = "a reply larger than " + std::to_string(RedisClient::kMaxReplyBytes) + " bytes";
        return false;
      }
      if (redisReaderFeed(ctx->reader, buf, size_t(n)) != REDIS_OK) {
        why = "out of memory";
        return false;
      }
    }
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
  c->timeout_ms = timeout_ms_;
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
