// credplug-emulator: the providers' servers on localhost, for the demo, for
// manual testing and for plugin authors (docs/EMULATOR.md).
//   credplug-emulator --make-pki DIR            write a CA and a server cert
//   credplug-emulator --cert C --key K [--port P] [--client PROVIDER:ID:SECRET ...]
//                     [--client-key PROVIDER:ID:PUBLIC_KEY.pem ...]
//                     [--provider DESCRIPTION.json ...] [--switch PROVIDER:NAME=VALUE ...]
//                     [--background [--pid-file F]]
// Prints "listening on https://localhost:PORT" and serves until killed.
#include <support/test_pki.hpp>
#include "emulator.hpp"

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <thread>

namespace {

// --background: forks before any thread starts. The child serves; the parent
// waits until it listens (it writes its origin into `ready`) or fails (the
// pipe closes empty: its own message is already on stderr), so a script's
// next line finds it listening without polling. Returns -1 in the child, the
// exit code in the parent.
int fork_into_background(int &ready_fd, const std::string &pid_file) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::cout.flush();
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    close(fds[0]);
    setsid();  // not stopped by the terminal's signals meant for the caller
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) dup2(null, STDIN_FILENO), dup2(null, STDOUT_FILENO), close(null);
    ready_fd = fds[1];
    return -1;
  }
  close(fds[1]);
  std::string origin;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;)
    if (n > 0)
      origin.append(buf, size_t(n));
    else if (errno != EINTR)
      break;
  close(fds[0]);
  if (origin.empty()) {  // it failed and said why; exit as it did
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  if (!pid_file.empty()) std::ofstream(pid_file) << child << "\n";
  std::cout << "listening on " << origin << " (pid " << child << "; stop it with kill " << child << ")" << std::endl;
  return 0;
}

int run(int argc, char **argv) {
  std::string pki_dir, cert, key, port_file;
  int port = 0;
  std::vector<std::string> clients, client_keys, provider_files, switches;
  CLI::App app{"credplug-emulator: local HTTPS emulators of the credplug providers"};
  app.add_option("--make-pki", pki_dir, "Write ca.pem, server.pem and server-key.pem into DIR and exit");
  app.add_option("--cert", cert, "Server certificate (PEM)");
  app.add_option("--key", key, "Server private key (PEM)");
  std::string client_ca;
  app.add_option("--client-ca", client_ca,
                 "CA (PEM) of the client certificates a second port takes (mTLS): GET /mtls/me there answers\n"
                 "{\"subject\": CN}; printed as 'mTLS on https://localhost:PORT'");
  app.add_option("--port", port, "Port on 127.0.0.1 (0: any free port)");
  app.add_option("--port-file", port_file, "Write the chosen port to this file once listening");
  app.add_option("--client", clients, "PROVIDER:CLIENT_ID:SECRET, repeatable; the secret may be @ENV to read $ENV");
  app.add_option("--client-key", client_keys,
                 "PROVIDER:CLIENT_ID:PEM_FILE, repeatable: a client that signs JWTs (private_key_jwt, the JWT-bearer\n"
                 "grant) with the private half of this public key");
  app.add_option("--provider", provider_files, "A provider described in JSON (docs/EMULATOR.md), repeatable");
  app.add_option("--switch", switches,
                 "PROVIDER:NAME=VALUE, repeatable: make a provider misbehave from the start (fail_status, "
                 "retry_after_s, delay_ms, malformed, truncated, token_lifetime_s, refresh_revokes); POST "
                 "/_emulator/switches changes "
                 "them while it runs");
  bool overwrite = false, background = false;
  std::string pid_file;
  app.add_flag("--overwrite", overwrite, "With --make-pki: replace files already in DIR");
  app.add_flag("--background", background,
               "Serve from a background process: return once it listens (exit 0), or with its error");
  app.add_option("--pid-file", pid_file, "With --background: write the serving process's id to this file")
      ->needs("--background");
  app.set_version_flag("--version", "credplug-emulator " CREDPLUG_VERSION_STRING);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors exit 2, as credplug's do
  }

  try {
    if (!pki_dir.empty()) {
      // A running emulator may be serving the CA in DIR: replacing it would
      // fail every client that trusts the old one, far from here.
      for (const char *name : {"ca.pem", "server.pem", "server-key.pem"})
        if (std::string path = pki_dir + "/" + name; !overwrite && std::ifstream(path)) {
          std::cerr << "credplug-emulator: " << path << " exists (an emulator may be using it); pass --overwrite to "
                    << "replace it, or name a new directory\n";
          return 2;
        }
      auto pki = credplug::testing::make_test_pki(pki_dir);
      std::cout << pki.ca_cert << "\n";
      return 0;
    }
    if (cert.empty() || key.empty()) {
      std::cerr << "credplug-emulator: --cert and --key are required (make them with --make-pki DIR)\n";
      return 2;
    }
    int ready_fd = -1;
    if (background) {
      if (int code = fork_into_background(ready_fd, pid_file); code >= 0) return code;
    }
    // Blocked before the server thread starts, so that it inherits the mask
    // and SIGINT/SIGTERM reach sigwait() below for a clean stop.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::vector<credplug::emulator::ProviderDescription> providers;
    for (const auto &file : provider_files) {
      std::ifstream in(file);
      if (!in) {
        std::cerr << "credplug-emulator: cannot read " << file << "\n";
        return 2;
      }
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      try {
        providers.push_back(credplug::emulator::parse_description(text));
      } catch (const std::exception &e) {
        std::cerr << "credplug-emulator: " << file << ": " << e.what() << "\n";
        return 2;
      }
    }
    // What keeps it from serving (the port held, a certificate unreadable)
    // is the caller's to fix: a usage error.
    std::optional<credplug::emulator::Emulator> serving;
    try {
      serving.emplace(credplug::emulator::Emulator::Options{cert, key, "127.0.0.1", port, providers, client_ca});
    } catch (const std::exception &e) {
      std::cerr << "credplug-emulator: " << e.what() << "\n";
      return 2;
    }
    credplug::emulator::Emulator &emulator = *serving;
    for (const auto &s : switches) {
      size_t colon = s.find(':'), eq = s.find('=');
      std::string problem =
          colon == std::string::npos || eq == std::string::npos || eq < colon
              ? "--switch wants PROVIDER:NAME=VALUE"
              : emulator.set_switch(s.substr(0, colon), s.substr(colon + 1, eq - colon - 1), s.substr(eq + 1));
      if (!problem.empty()) {
        std::cerr << "credplug-emulator: " << problem << "\n";
        return 2;
      }
    }
    for (const auto &c : clients) {
      size_t a = c.find(':'), b = c.find(':', a == std::string::npos ? a : a + 1);
      if (a == std::string::npos || b == std::string::npos) {
        std::cerr << "credplug-emulator: --client wants PROVIDER:CLIENT_ID:SECRET\n";
        return 2;
      }
      std::string secret = c.substr(b + 1);
      if (!secret.empty() && secret[0] == '@') {
        const char *v = std::getenv(secret.c_str() + 1);
        if (!v) {
          std::cerr << "credplug-emulator: environment variable " << secret.substr(1) << " is not set\n";
          return 2;
        }
        secret = v;
      }
      try {
        emulator.add_client(c.substr(0, a), c.substr(a + 1, b - a - 1), secret);
      } catch (const std::invalid_argument &e) {
        std::cerr << "credplug-emulator: " << e.what() << "\n";
        return 2;
      }
    }
    for (const auto &c : client_keys) {
      size_t a = c.find(':'), b = c.find(':', a == std::string::npos ? a : a + 1);
      std::ifstream file(b == std::string::npos ? std::string() : c.substr(b + 1));
      std::string pem((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      if (a == std::string::npos || b == std::string::npos || pem.find("PUBLIC KEY") == std::string::npos) {
        std::cerr << "credplug-emulator: --client-key wants PROVIDER:CLIENT_ID:PEM_FILE of a public key\n";
        return 2;
      }
      try {
        emulator.add_client_key(c.substr(0, a), c.substr(a + 1, b - a - 1), pem);
      } catch (const std::invalid_argument &e) {
        std::cerr << "credplug-emulator: " << e.what() << "\n";
        return 2;
      }
    }
    emulator.wait_until_ready();
    if (!port_file.empty()) std::ofstream(port_file) << emulator.port() << "\n";
    std::cout << "listening on " << emulator.origin() << std::endl;
    if (!emulator.mtls_origin().empty()) std::cout << "mTLS on " << emulator.mtls_origin() << std::endl;
    if (ready_fd >= 0) {  // tell the parent, and let go of the caller's stderr
      const std::string origin = emulator.origin();
      (void)!write(ready_fd, origin.data(), origin.size());
      close(ready_fd);
      int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null >= 0) dup2(null, STDERR_FILENO), close(null);
    }
    int sig = 0;
    sigwait(&set, &sig);
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "credplug-emulator: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::cerr << "credplug-emulator: " << e.what() << "\n";
  }
  return 1;
}
