#include "fleet/shared_cache_news.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace credplug::host {

SharedCacheNews::SharedCacheNews(RedisAddress address, long timeout_ms)
    : address_(std::move(address)), timeout_ms_(timeout_ms), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  // Subscribed from the start: a cold start's first wait comes a few ms
  // after the Host is made, too soon for a subscriber started by it.
  if (wake_fd_ >= 0) subscriber_ = std::thread([this] { run(); });
}

SharedCacheNews::~SharedCacheNews() {
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
  if (subscriber_.joinable()) subscriber_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

SharedCacheNews::Ticket::Ticket(SharedCacheNews &news, std::string name) : news_(news), name_(std::move(name)) {
  std::lock_guard<std::mutex> lock(news_.mutex_);
  Watch &w = news_.watched_[name_];
  ++w.tickets;
  seen_ = w.news;
}

SharedCacheNews::Ticket::~Ticket() {
  std::lock_guard<std::mutex> lock(news_.mutex_);
  auto it = news_.watched_.find(name_);
  if (--it->second.tickets == 0) news_.watched_.erase(it);
}

bool SharedCacheNews::Ticket::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(news_.mutex_);
  const Watch &w = news_.watched_.at(name_);
  if (!news_.changed_.wait_for(lock, timeout, [&] { return w.news != seen_; })) return false;
  seen_ = w.news;
  return true;
}

void SharedCacheNews::deliver(const std::string &name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = watched_.find(name);
  if (it == watched_.end()) return;
  ++it->second.news;
  changed_.notify_all();
}

void SharedCacheNews::run() {
  int failures = 0;
  for (;;) {
    std::string why;
    bool usable = false;
    if (auto c = RedisConnection::open(address_, timeout_ms_, &why);
        c && c->command({"SUBSCRIBE", kChannel}, &why, &usable)) {
      subscribed_ = true;
      failures = 0;
      // ["message", channel, record name] until the connection fails or we
      // are woken to stop (why empty).
      while (auto m = c->next_push(wake_fd_, &why))
        if (m->type == RedisReply::Array && m->elements.size() == 3 && m->elements[0].text == "message")
          deliver(m->elements[2].text);
      subscribed_ = false;
      if (why.empty()) return;
    }
    // Down: the store's RedisClient logs and counts the outage; here, only
    // a pause before trying again (or the wake to stop).
    pollfd p{wake_fd_, POLLIN, 0};
    if (poll(&p, 1, int(redis_backoff_ms(++failures))) > 0) return;
  }
}

}  // namespace credplug::host
