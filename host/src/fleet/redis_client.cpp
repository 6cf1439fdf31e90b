#include "fleet/redis_client.hpp"

#include "base/backoff.hpp"
#include "plugin/errno_text.hpp"

#include <credplug/plugin.h>

#include <hiredis/hiredis.h>

#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace credplug::host {
namespace {

constexpr size_t kMaxIdle = 8;

timeval as_timeval(long ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

RedisReply convert(const redisReply *r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::String, out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Status, out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Integer, out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Array;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Nil;
      break;
  }
  return out;
}

}  // namespace

// Hand-driven over hiredis's formatter and reader rather than through
// redisCommand(): hiredis 0.14's timeout bounds each read(), so a server
// sending a byte now and then held a caller forever; it buffers a bulk reply
// of any announced length; it writes with write(), so a server that hung up
// could raise SIGPIPE in the embedding process; and its output buffer kept
// AUTH's password unwiped. Here each exchange has one deadline, a reply a
// size cap (a record is a few KiB), sends use MSG_NOSIGNAL and the
// formatted command is wiped.
struct RedisConnection::Io {
  using Deadline = std::chrono::steady_clock::time_point;
  RedisConnection &c;

  // Ready for `events` before `deadline`? False with *why set, or with *why
  // empty when `wake_fd` became readable first.
  bool wait_for(short events, Deadline deadline, std::string *why, int wake_fd = -1) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p[2] = {{c.ctx_->fd, events, 0}, {wake_fd, POLLIN, 0}};
      const int ready =
          left.count() > 0 ? poll(p, wake_fd >= 0 ? 2 : 1, int(std::min<int64_t>(left.count(), 1 << 30))) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready > 0 && wake_fd >= 0 && (p[1].revents & POLLIN)) {
        why->clear();
        return false;
      }
      if (ready > 0) return true;
      *why = ready == 0 ? "no answer within " + std::to_string(c.timeout_ms_) + " ms"
                        : std::string("poll: ") + errno_text(errno);
      return false;
    }
  }

  bool send_all(const char *data, size_t size, Deadline deadline, std::string *why) {
    while (size > 0) {
      if (!wait_for(POLLOUT, deadline, why)) return false;
      const ssize_t n = send(c.ctx_->fd, data, size, MSG_NOSIGNAL);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        *why = std::string("send: ") + errno_text(errno);
        return false;
      }
      data += n, size -= size_t(n);
    }
    return true;
  }

  // One reply, at most kMaxReplyBytes read for it.
  redisReply *read_reply(Deadline deadline, std::string *why, int wake_fd = -1) {
    size_t received = 0;
    char buf[16384];
    for (;;) {
      void *r = nullptr;
      if (redisReaderGetReply(c.ctx_->reader, &r) != REDIS_OK) {
        *why = c.ctx_->reader->errstr;
        return nullptr;
      }
      if (r != nullptr) return static_cast<redisReply *>(r);
      if (!wait_for(POLLIN, deadline, why, wake_fd)) return nullptr;
      const ssize_t n = recv(c.ctx_->fd, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        *why = n == 0 ? "the server closed the connection" : std::string("recv: ") + errno_text(errno);
        return nullptr;
      }
      if ((received += size_t(n)) > kMaxReplyBytes) {
        *why = "a reply larger than " + std::to_string(kMaxReplyBytes) + " bytes";
        return nullptr;
      }
      if (redisReaderFeed(c.ctx_->reader, buf, size_t(n)) != REDIS_OK) {
        *why = "out of memory";
        return nullptr;
      }
    }
  }
};

std::unique_ptr<RedisConnection> RedisConnection::open(const RedisAddress &address, long timeout_ms, std::string *why) {
  std::unique_ptr<RedisConnection> c(new RedisConnection());
  c->timeout_ms_ = timeout_ms;
  c->ctx_ = redisConnectWithTimeout(address.host.c_str(), address.port, as_timeval(timeout_ms));
  if (c->ctx_ == nullptr || c->ctx_->err) {
    *why = c->ctx_ ? std::string("connect: ") + c->ctx_->errstr : "connect: out of memory";
    return nullptr;
  }
  redisSetTimeout(c->ctx_, as_timeval(timeout_ms));  // bounds a blocking send() past POLLOUT too
  redisEnableKeepAlive(c->ctx_);
  bool usable = true;
  if (!address.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!address.user.empty()) auth.push_back(address.user);
    auth.push_back(address.password.view());
    if (!c->command(auth, why, &usable)) {
      *why = "AUTH refused: " + *why;
      return nullptr;
    }
  }
  if (address.db != 0) {
    const std::string db = std::to_string(address.db);
    if (!c->command({"SELECT", db}, why, &usable)) {
      *why = "SELECT " + db + ": " + *why;
      return nullptr;
    }
  }
  return c;
}

RedisConnection::~RedisConnection() {
  if (ctx_) redisFree(ctx_);
}

std::optional<RedisReply> RedisConnection::command(const std::vector<std::string_view> &args, std::string *why,
                                                   bool *usable) {
  *usable = false;
  Io io{*this};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::vector<const char *> argv;
  std::vector<size_t> lens;
  for (auto a : args) argv.push_back(a.data()), lens.push_back(a.size());
  char *cmd = nullptr;
  const int len = redisFormatCommandArgv(&cmd, int(argv.size()), argv.data(), lens.data());
  if (len < 0) {
    *why = "out of memory";
    return std::nullopt;
  }
  const bool sent = io.send_all(cmd, size_t(len), deadline, why);
  OPENSSL_cleanse(cmd, size_t(len));
  redisFreeCommand(cmd);
  redisReply *reply = sent ? io.read_reply(deadline, why) : nullptr;
  if (reply == nullptr) return std::nullopt;
  std::optional<RedisReply> out;
  if (reply->type == REDIS_REPLY_ERROR)
    *why = std::string("Redis answered an error: ") + std::string(reply->str, reply->len).substr(0, 200);
  else
    out = convert(reply);
  freeReplyObject(reply);
  *usable = true;  // an error reply leaves the connection working
  return out;
}

std::optional<RedisReply> RedisConnection::next_push(int wake_fd, std::string *why) {
  Io io{*this};
  redisReply *reply = io.read_reply(std::chrono::steady_clock::time_point::max(), why, wake_fd);
  if (reply == nullptr) return std::nullopt;
  std::optional<RedisReply> out = convert(reply);
  freeReplyObject(reply);
  return out;
}

long redis_backoff_ms(int failures) { return backoff_ms(failures, 100, 30000); }

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
  retry_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(redis_backoff_ms(++failures_in_a_row_));
  idle_.clear();
}

void RedisClient::recovered() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (outage_ && log_) log_(CREDPLUG_LOG_WARN, "shared cache " + address_.shown + " reachable again; sharing tokens");
  outage_ = false;
  failures_in_a_row_ = 0;
}

std::unique_ptr<RedisConnection> RedisClient::take() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (outage_ && std::chrono::steady_clock::now() < retry_at_) return nullptr;
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  std::string why;
  auto c = RedisConnection::open(address_, timeout_ms_, &why);
  if (!c) failed(why);
  return c;
}

void RedisClient::give_back(std::unique_ptr<RedisConnection> c) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
}

std::optional<RedisReply> RedisClient::run(const std::vector<std::string_view> &args) {
  auto c = take();
  if (!c) return std::nullopt;
  std::string why;
  bool usable = true;
  auto reply = c->command(args, &why, &usable);
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
