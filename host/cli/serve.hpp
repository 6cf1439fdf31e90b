// `credplug serve`: the sidecar. One Host serves every client of a local
// HTTP/1.1 API (docs/SIDECAR.md) over a Unix socket (mode 0600, the
// default) or loopback TCP with a bearer token.
#pragma once

#include "output.hpp"

#include <credplug/host.hpp>

#include <cstddef>
#include <string>

namespace credplug::cli {

struct ServeOptions {
  std::string socket_path;  // --socket; empty with no --listen: default_socket_path()
  std::string listen;       // --listen HOST:PORT (PORT 0: any free one)
  std::string token_file;   // --token-file: required with --listen, optional on a socket
  std::string port_file;    // --port-file: the TCP port written once listening
  // Connections served at once: httplib gives each kept-alive connection a
  // thread until it goes quiet (5 s), so this bounds concurrent clients.
  int threads = 64;
  size_t max_body_bytes = size_t{256} * 1024;
  int read_timeout_s = 10;  // a client that sends its request slower than this is dropped
};

// $XDG_RUNTIME_DIR's usual place when it exists (/run/user/UID, made by
// systemd-logind, private to the user), else /tmp/credplug-UID (made 0700,
// refused when another user owns it), + "/credplug.sock".
std::string default_socket_path();

// Serves until SIGTERM or SIGINT, then finishes the requests in flight and
// returns kExitOk. Throws Error(InvalidInput) naming what is wrong with a
// path, address or token file before it serves.
int serve(Host &host, ServeOptions options, const OutputOptions &out);

}  // namespace credplug::cli
