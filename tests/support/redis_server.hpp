// A real redis-server (Debian's) for the shared cache's tests: started by the
// test itself on a free port, with no persistence, stopped with it. It can
// be killed and started again on the same port, as an outage.
#pragma once

#include <sys/types.h>
#include <string>

namespace credplug::testing {

class RedisServer {
 public:
  RedisServer();   // starts it; throws std::runtime_error if it cannot
  ~RedisServer();  // stops it
  RedisServer(const RedisServer &) = delete;
  RedisServer &operator=(const RedisServer &) = delete;

  int port() const { return port_; }
  std::string url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db); }
  void kill();   // SIGKILL: an outage
  void start();  // again, on the same port, empty
  bool running() const { return pid_ > 0; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace credplug::testing
