#include "redis_server.hpp"

#include "process.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace credplug::testing {
namespace {

bool answers(int port) {
  timeval tv{0, 200000};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
  bool ok = false;
  if (c && !c->err) {
    auto *r = static_cast<redisReply *>(redisCommand(c, "PING"));
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
  }
  if (c) redisFree(c);
  return ok;
}

}  // namespace

RedisServer::RedisServer() : port_(unused_local_port()) { start(); }

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

void RedisServer::start() {
  const std::string port = std::to_string(port_);
  std::vector<std::string> args{"redis-server",
                                "--port",
                                port,
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--loglevel",
                                "warning",
                                "--protected-mode",
                                "no",
                                "--logfile",
                                ""};
  try {
    pid_ = spawn_quiet(args);
  } catch (const std::exception &) {
    throw std::runtime_error("cannot start redis-server (is it installed? scripts/install-deps.sh installs it)");
  }
  for (int i = 0; i < 200; ++i) {
    if (answers(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  kill();
  throw std::runtime_error("redis-server did not answer on port " + port);
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace credplug::testing
