// RedisClient against a real redis-server and against servers that
// misbehave on purpose: one that answers a byte at a time, forever, and one
// that announces and sends a reply of 2 MiB. Each command must end within its
// timeout with nothing, the outage logged and counted, never hang or
// buffer without bound.
#include "fleet/redis_client.hpp"

#include <support/redis_server.hpp>

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

using namespace credplug;
using namespace credplug::host;

namespace {

// A TCP server on a free local port that answers its first client's first
// command with `answer(fd)` (which sends with MSG_NOSIGNAL: the client may
// hang up first), then closes.
class MisbehavingServer {
 public:
  explicit MisbehavingServer(std::function<void(int)> answer) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener_, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(listen(listener_, 4) == 0);
    thread_ = std::thread([this, answer] {
      int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      char buf[4096];
      if (read(fd, buf, sizeof buf) > 0) answer(fd);
      close(fd);
    });
  }
  ~MisbehavingServer() {
    stop = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  std::atomic<bool> stop{false};

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

struct Logged {
  std::mutex mutex;
  std::string lines;
  std::function<void(int, const std::string &)> sink() {
    return [this](int, const std::string &line) {
      std::lock_guard<std::mutex> lock(mutex);
      lines += line + "\n";
    };
  }
  bool has(const std::string &part) {
    std::lock_guard<std::mutex> lock(mutex);
    return lines.find(part) != std::string::npos;
  }
};

}  // namespace

TEST_CASE("redis client: commands and replies of up to 1 MiB through a real redis-server") {
  credplug::testing::RedisServer redis;
  RedisClient client(parse_redis_url(redis.url()), 2000, nullptr);
  const std::string value(RedisConnection::kMaxReplyBytes - 64, 'v');
  auto set = client.run({"SET", "k", value});
  REQUIRE(set);
  CHECK(set->text == "OK");
  auto got = client.run({"GET", "k"});
  REQUIRE(got);
  CHECK(got->text == value);
  CHECK(client.run({"INCR", "n"})->integer == 1);
  CHECK(client.errors() == 0);
  CHECK(client.run({"SET", "big", value + std::string(128, 'v')}));
  CHECK_FALSE(client.run({"GET", "big"}));  // over the cap: refused like a dead server
  CHECK(client.errors() == 1);
}

TEST_CASE("redis client: a server that answers a byte at a time cannot hold a command past its timeout") {
  MisbehavingServer server([&](int fd) {
    // A bulk reply that never ends: one byte every 20 ms, for up to 10 s.
    if (send(fd, "$100000\r\n", 9, MSG_NOSIGNAL) != 9) return;
    for (int i = 0; i < 500 && !server.stop; ++i) {
      if (send(fd, "x", 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  Logged log;
  RedisClient client(parse_redis_url(server.url()), 250, log.sink());
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(client.run({"GET", "k"}));
  // Not a timing test: without one deadline for the whole exchange the
  // command lasts as long as the server drips (10 s).
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(client.errors() == 1);
  CHECK(log.has("no answer within 250 ms"));
}

TEST_CASE("redis client: a reply larger than 1 MiB is refused before it is all read") {
  std::atomic<size_t> sent{0};
  MisbehavingServer server([&](int fd) {
    const size_t size = 64u << 20;  // announces 64 MiB
    const std::string head = "$" + std::to_string(size) + "\r\n";
    if (send(fd, head.data(), head.size(), MSG_NOSIGNAL) != ssize_t(head.size())) return;
    const std::string chunk(1 << 16, 'a');
    while (sent < size && !server.stop) {
      ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the client hung up
      sent += size_t(n);
    }
  });
  Logged log;
  RedisClient client(parse_redis_url(server.url()), 5000, log.sink());
  CHECK_FALSE(client.run({"GET", "k"}));
  CHECK(log.has("a reply larger than 1048576 bytes"));
  CHECK(client.errors() == 1);
  // It hung up after about 1 MiB; the rest is what the two sockets buffer
  // (loopback autotuning allows several MiB), far short of the 64 announced.
  CHECK(sent < (40u << 20));
}
