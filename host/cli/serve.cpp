// `credplug serve`: where the sidecar listens, who may call it, and how it
// stops (SIGTERM: no new connection; the requests in flight finish).
#include "serve.hpp"

#include "exit_codes.hpp"
#include "sidecar_routes.hpp"

#include <credplug/kit/secret.hpp>

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

namespace credplug::cli {
namespace {

// cpp-httplib 0.11 (Debian 12's) listens on TCP only (AF_UNIX came in
// 0.14), with a backlog of 5 (16 clients connecting at once lose SYNs and
// wait a second): this hands it a socket bound here through its protected
// listening socket, and its own accept loop, thread pool and keep-alive do
// the rest.
class Server : public httplib::Server {
 public:
  bool listen_on(int fd) {
    svr_sock_ = fd;
    return listen_after_bind();
  }
};

[[noreturn]] void refuse(const std::string &message) { throw Error(ErrorKind::InvalidInput, message); }

std::string errno_text() {
  char buffer[256];
  return strerror_r(errno, buffer, sizeof buffer);  // GNU's: returns the message
}

// A private directory of ours: owned by this user, no access for others, no symlink.
bool private_dir(const std::string &dir) {
  struct stat st {};
  return lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

// A Unix socket at `path`, bound with mode 0600 (no moment with more: the
// umask is set for the bind) and listening. A stale socket file (nothing
// answers) is replaced; a live one, or any other file, is refused.
int bind_unix_socket(const std::string &path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    refuse("--socket " + path + ": a Unix socket path is 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) refuse("--socket: socket(): " + errno_text());
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      close(fd);
      refuse("--socket " + path + " exists and is not a socket: not replacing it");
    }
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = probe >= 0 && connect(probe, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    if (probe >= 0) close(probe);
    if (live) {
      close(fd);
      refuse("--socket " + path + ": another server already listens there");
    }
    unlink(path.c_str());  // a stale socket of a server that ended
  }
  // Bound under a temporary name, then renamed once it listens: the path
  // appears only when a client's connect() succeeds (no moment where the
  // file exists and connecting is refused).
  const std::string bound_path = path + ".binding-" + std::to_string(getpid());
  sockaddr_un temp{};
  temp.sun_family = AF_UNIX;
  if (bound_path.size() >= sizeof temp.sun_path) {
    close(fd);
    refuse("--socket " + path + ": a Unix socket path is at most " + std::to_string(sizeof temp.sun_path - 21) +
           " bytes");
  }
  std::memcpy(temp.sun_path, bound_path.c_str(), bound_path.size() + 1);
  unlink(bound_path.c_str());
  const mode_t old = umask(0177);
  const int bound = bind(fd, reinterpret_cast<sockaddr *>(&temp), sizeof temp);
  const int bind_errno = errno;
  umask(old);
  if (bound != 0) {
    close(fd);
    errno = bind_errno;
    refuse("--socket " + path + ": bind(): " + errno_text());
  }
  if (listen(fd, SOMAXCONN) != 0 || rename(bound_path.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    close(fd);
    unlink(bound_path.c_str());
    errno = saved;
    refuse("--socket " + path + ": " + errno_text());
  }
  return fd;
}

// The port file appears whole: written beside it, then renamed, so a script
// that waits for the file never reads it empty (the first CI run did).
void write_port_file(const std::string &path, int port) {
  const std::string temp = path + ".tmp" + std::to_string(getpid());
  bool written = false;
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    written = static_cast<bool>(out.flush());
  }
  if (!written || rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    unlink(temp.c_str());
    refuse("--port-file " + path + ": " + why);
  }
}

// A TCP socket listening on ADDRESS:PORT (a numeric address; port 0: any
// free one, written back to `port`).
int bind_tcp_socket(const std::string &listen_option, const std::string &address, int &port) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *found = nullptr;
  if (getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr)
    refuse("--listen " + listen_option + ": the host must be a numeric address (127.0.0.1, [::1])");
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  // TCP_NODELAY is inherited by the accepted sockets: httplib writes an
  // answer's head and body apart, and Nagle would hold the body for the
  // client's delayed ACK (40 ms).
  const bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) == 0 &&
                  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes) == 0 &&
                  bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0;
  const int saved = errno;
  freeaddrinfo(found);
  if (!ok) {
    if (fd >= 0) close(fd);
    errno = saved;
    refuse("--listen " + listen_option + ": " + errno_text());
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &len);
  port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in *>(&bound)->sin_port);
  return fd;
}

// The bearer token: read from `file`, or made (32 random bytes, hex) and
// written there 0600 when it does not exist. A file others may read is
// refused, as ssh refuses such a key.
std::string bearer_token(const std::string &file) {
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ErrorKind::InvalidInput, "no random bytes for a token");
    static const char hex[] = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) token += {hex[b >> 4], hex[b & 15]};
    OPENSSL_cleanse(bytes, sizeof bytes);
    const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) refuse("--token-file " + file + ": cannot create it: " + errno_text());
    const std::string line = token + "\n";
    const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    close(fd);
    if (!written) refuse("--token-file " + file + ": cannot write it");
    return token;
  }
  if (!S_ISREG(st.st_mode)) refuse("--token-file " + file + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    refuse("--token-file " + file + " may be read by other users (mode " + std::to_string((st.st_mode >> 6) & 7) +
           std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) + "): chmod 600 it");
  std::ifstream in(file, std::ios::binary);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16 || token.size() > 4096)
    refuse("--token-file " + file + ": a token is 16 to 4096 characters (" + std::to_string(token.size()) + " here)");
  for (unsigned char c : token)
    if (c <= 0x20 || c >= 0x7f) refuse("--token-file " + file + ": a token is printable ASCII without spaces");
  return token;
}

// SIGTERM and SIGINT reach a thread that stops the server: the handler only
// writes a byte to a pipe (all a handler may do).
int g_signal_pipe[2] = {-1, -1};
extern "C" void on_stop_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

std::string default_socket_path() {
  const std::string uid = std::to_string(geteuid());
  const std::string runtime = "/run/user/" + uid;
  if (private_dir(runtime)) return runtime + "/credplug.sock";
  const std::string dir = "/tmp/credplug-" + uid;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) refuse("cannot make " + dir + ": " + errno_text());
  if (!private_dir(dir))
    refuse(dir +
           " is not a private directory of this user's (another user's, a symlink, or open to others): "
           "give --socket PATH");
  return dir + "/credplug.sock";
}

int serve(Host &host, ServeOptions o, const OutputOptions &) {
  const bool tcp = !o.listen.empty();
  if (tcp && o.token_file.empty())
    refuse(
        "--listen needs --token-file FILE: every request must carry its bearer token (the file is made, 0600, "
        "when it does not exist)");
  if (!tcp && o.socket_path.empty()) o.socket_path = default_socket_path();
  const std::string token = o.token_file.empty() ? std::string() : bearer_token(o.token_file);
  host.plugins();  // load the plugins now: a broken one is reported before clients come

  Server server;
  Sidecar sidecar(host);
  sidecar.install(server, token);
  server.set_payload_max_length(o.max_body_bytes);
  server.set_read_timeout(o.read_timeout_s, 0);
  server.set_write_timeout(o.read_timeout_s, 0);
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(100000);  // httplib's default closes a client's connection every 5 requests
  const size_t threads = o.threads > 0 ? static_cast<size_t>(o.threads) : 1;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // After each exchange: one log line (never a body, never a header value),
  // and both bodies wiped: they carried credentials, states or tokens.
  server.set_logger([](const httplib::Request &req, const httplib::Response &res) {
    auto &request_body = const_cast<std::string &>(req.body);
    auto &response_body = const_cast<std::string &>(res.body);
    OPENSSL_cleanse(request_body.data(), request_body.size());
    OPENSSL_cleanse(response_body.data(), response_body.size());
    if (res.status >= 500)
      std::cerr << "credplug serve: " << req.method << " " << req.path << " " << res.status << "\n";
  });

  int fd = -1;
  std::string where;
  if (tcp) {
    const size_t colon = o.listen.rfind(':');
    if (colon == std::string::npos) refuse("--listen expects HOST:PORT (127.0.0.1:8700)");
    std::string address = o.listen.substr(0, colon);
    if (address.size() > 2 && address.front() == '[' && address.back() == ']')
      address = address.substr(1, address.size() - 2);
    int port = 0;
    try {
      port = std::stoi(o.listen.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
    if (port < 0 || port > 65535) refuse("--listen " + o.listen + ": the port is 0 to 65535");
    fd = bind_tcp_socket(o.listen, address, port);
    where = "http://" + o.listen.substr(0, colon) + ":" + std::to_string(port);
    if (!o.port_file.empty()) write_port_file(o.port_file, port);
  } else {
    fd = bind_unix_socket(o.socket_path);
    where = "unix:" + o.socket_path;
  }

  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) refuse("pipe(): " + errno_text());
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-answer is an error on that write, not our end

  std::atomic<bool> served{false};
  std::thread stopper([&] {
    char byte = 0;
    while (read(g_signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (byte == 0) return;  // the pipe closed: the server ended on its own
    std::cerr << "credplug serve: stopping: finishing the requests in flight\n";
    // stop() acts on a running server only: until listen has begun, ask again.
    while (!served.load()) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  std::cerr << "credplug serve: listening on " << where << (token.empty() ? "" : " (bearer token required)") << "\n";
  const bool ok = server.listen_on(fd);
  served = true;
  signal(SIGTERM, SIG_DFL);  // before the pipe closes: no handler writes to a closed (or reused) descriptor
  signal(SIGINT, SIG_DFL);
  close(g_signal_pipe[1]);  // ends the stopper if no signal came
  stopper.join();
  close(g_signal_pipe[0]);
  sidecar.close_all();
  if (!tcp) unlink(o.socket_path.c_str());
  std::cerr << "credplug serve: stopped\n";
  return ok ? kExitOk : kExitInternal;
}

}  // namespace credplug::cli
