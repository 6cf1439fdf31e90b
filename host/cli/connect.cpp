#include "connect.hpp"

#include "exit_codes.hpp"

#include <credplug/kit/json.hpp>
#include <credplug/kit/secret.hpp>

#include <httplib.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

extern char **environ;

namespace credplug::cli {
namespace {

constexpr size_t kMaxPastedUrl = 8192;

// Starts `$BROWSER URL` (its first ':'-separated entry; "%s" is the URL),
// else xdg-open where a display is; its output goes nowhere. The child,
// if any, to reap.
std::optional<pid_t> open_in_browser(const std::string &url, const ConnectOptions &options) {
  std::vector<std::string> argv;
  if (!options.browser.empty()) {
    std::string command = options.browser;
    command = command.substr(0, command.find(':'));
    if (size_t at = command.find("%s"); at != std::string::npos)
      argv = {"/bin/sh", "-c", command.replace(at, 2, "\"$1\""), "sh", url};
    else
      argv = {command, url};
  } else if (options.display) {
    argv = {"xdg-open", url};
  } else {
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char *> args;
  args.reserve(argv.size() + 1);
  for (auto &a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::nullopt;
  return pid;
}

const char *kPage =
    "<!doctype html><meta charset=utf-8><title>credplug</title><p>%s</p><p>You may close this window.</p>";

std::string page(const std::string &text) {
  std::string html(kPage);
  std::string escaped;
  for (char c : text) escaped += c == '<' ? "&lt;" : c == '&' ? "&amp;" : std::string(1, c);
  return html.replace(html.find("%s"), 2, escaped);
}

// What the loopback listener heard: the state, or the error it ended with.
struct Outcome {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::optional<SecretString> state;
  std::optional<Error> error;
};

}  // namespace

int connect_account(Host &host, const std::string &id, const std::string &file, const CredentialText &credential,
                    const ConnectOptions &options, const OutputOptions &out) {
  if (file == "-")
    throw Error(ErrorKind::InvalidInput,
                "connect writes the account's refresh token into the credential file: give a file, not -");
  httplib::Server server;
  const int port = options.port ? (server.bind_to_port("127.0.0.1", options.port) ? options.port : -1)
                                : server.bind_to_any_port("127.0.0.1");
  if (port <= 0)
    throw Error(ErrorKind::Network, "cannot listen on 127.0.0.1" +
                                        (options.port ? ":" + std::to_string(options.port) : std::string()) +
                                        " for the redirect");
  const std::string redirect_uri = "http://127.0.0.1:" + std::to_string(port) + "/callback";
  PendingAuthorization pending = host.begin_authorization(id, credential.json.view(), redirect_uri);
  if (out.json)
    std::cout << "{\"authorization_url\": " << kit::json_quote(pending.url)
              << ", \"redirect_uri\": " << kit::json_quote(redirect_uri) << "}" << std::endl;
  else
    std::cout << "Open this address in a browser to connect the account:\n  " << pending.url << std::endl;

  Outcome outcome;
  auto finish = [&](std::optional<SecretString> state, std::optional<Error> error) {
    std::lock_guard<std::mutex> lock(outcome.mutex);
    if (outcome.finished) return;
    outcome.finished = true;
    outcome.state = std::move(state);
    outcome.error = std::move(error);
    outcome.done.notify_all();
  };
  auto complete = [&](const std::string &redirect_url) {
    try {
      finish(host.complete_authorization(pending.pending.view(), redirect_url), std::nullopt);
    } catch (const Error &e) {
      finish(std::nullopt, e);
    }
  };

  std::optional<pid_t> browser;
  std::thread listener;
  if (options.open_browser) {
    server.Get("/callback", [&](const httplib::Request &request, httplib::Response &response) {
      complete("http://127.0.0.1:" + std::to_string(port) + request.target);
      std::lock_guard<std::mutex> lock(outcome.mutex);
      response.set_content(page(outcome.error ? std::string("The account was not connected: ") + outcome.error->what()
                                              : "The account is connected."),
                           "text/html; charset=utf-8");
    });
    listener = std::thread([&] { server.listen_after_bind(); });
    browser = open_in_browser(pending.url, options);
    std::cerr << (browser ? "credplug: opened it in a browser; waiting for the redirect to " + redirect_uri + "\n"
                          : "credplug: waiting for the redirect to " + redirect_uri + "\n");
  } else {
    std::cerr << "Then paste the address the browser was sent to (it starts with " << redirect_uri << "):\n";
    std::string line;
    if (!std::getline(std::cin, line) || line.size() > kMaxPastedUrl)
      finish(std::nullopt, Error(ErrorKind::InvalidInput,
                                 "no address was pasted on standard input (one line, at "
                                 "most 8 KiB)"));
    else
      complete(line.substr(0, line.find_last_not_of("\r \t") + 1));
  }
  {
    std::unique_lock<std::mutex> lock(outcome.mutex);
    if (!outcome.done.wait_for(lock, std::chrono::seconds(options.wait_s), [&] { return outcome.finished; })) {
      outcome.finished = true;
      outcome.error = Error(ErrorKind::InvalidInput,
                            "no redirect arrived within " + std::to_string(options.wait_s) + " s; run connect again");
    }
  }
  server.stop();
  if (listener.joinable()) listener.join();
  if (browser) waitpid(*browser, nullptr, WNOHANG);
  if (outcome.error) throw *outcome.error;
  write_credential_state(file, *outcome.state);
  if (out.json)
    std::cout << "{\"ok\": true, \"plugin\": " << kit::json_quote(id) << ", \"file\": " << kit::json_quote(file) << "}"
              << std::endl;
  else
    std::cout << id << ": connected; the account's refresh token is kept in " << file << " (\"$state\")" << std::endl;
  return kExitOk;
}

int disconnect_account(Credential &credential, const std::string &id, const std::string &file,
                       const OutputOptions &out) {
  credential.revoke();
  if (out.json)
    std::cout << "{\"ok\": true, \"plugin\": " << kit::json_quote(id) << ", \"file\": " << kit::json_quote(file) << "}"
              << std::endl;
  else
    std::cout << id << ": disconnected; the grant was revoked at the provider and " << file
              << "'s \"$state\" emptied (connect again to use it)" << std::endl;
  return kExitOk;
}

}  // namespace credplug::cli
