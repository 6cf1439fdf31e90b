// Benchmark 12: the sidecar (`credplug serve`). A cached credential's
// headers over its Unix socket and over TCP with a bearer token, by libcurl
// clients on kept-alive connections, at 1 and 16 clients: p50, p99 and
// requests a second; beside the in-process call (Credential::headers()) in
// the same run, at 1 and 16 threads.
//
//   sidecar_bench [--calls N] [--runs R]
#include "bench_env.hpp"
#include "bench_run.hpp"

#include <curl/curl.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

using namespace credplug;
using namespace credplug::bench;

namespace {

struct Figures {
  double p50_us = 0, p99_us = 0, per_s = 0;
};

Figures figures(std::vector<double> us, double wall_s) {
  std::sort(us.begin(), us.end());
  Figures f;
  f.p50_us = us[us.size() / 2];
  f.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  f.per_s = static_cast<double>(us.size()) / wall_s;
  return f;
}

pid_t spawn(const std::vector<std::string> &args, const std::string &log) {
  std::vector<char *> argv;
  for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  require(rc == 0, "starting credplug serve");
  return pid;
}

// Waits for a file to appear (the socket, the port file): a state, not a time.
void wait_for_file(const std::string &path, pid_t server) {
  for (int i = 0; i < 30000; ++i) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && st.st_size >= 0 && (S_ISSOCK(st.st_mode) || st.st_size > 0)) return;
    int status = 0;
    require(waitpid(server, &status, WNOHANG) == 0, "credplug serve ended before it listened");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  require(false, "credplug serve did not listen within 30 s");
}

size_t collect(char *data, size_t size, size_t n, void *out) {
  static_cast<std::string *>(out)->append(data, size * n);
  return size * n;
}

struct Target {
  std::string socket;  // a Unix socket, or empty for TCP
  std::string base;    // http://...
  std::string token;   // bearer token, or empty
};

CURL *client(const Target &t, std::string *body, curl_slist **headers) {
  CURL *c = curl_easy_init();
  if (!t.socket.empty()) curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, t.socket.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  *headers = nullptr;
  if (!t.token.empty()) *headers = curl_slist_append(nullptr, ("Authorization: Bearer " + t.token).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
  return c;
}

long request(CURL *c, const std::string &url, std::string *body, const std::string &put_payload = "") {
  body->clear();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (put_payload.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, put_payload.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  }
  require(curl_easy_perform(c) == CURLE_OK, "a request to the sidecar");
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

Figures over_http(const Target &t, int clients, int calls) {
  std::vector<std::vector<double>> per_client(clients);
  std::atomic<int> bad{0};
  const std::string url = t.base + "/v1/credentials/bench/headers";
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k)
    threads.emplace_back([&, k] {
      std::string body;
      curl_slist *headers = nullptr;
      CURL *c = client(t, &body, &headers);
      per_client[k].reserve(calls / clients);
      for (int i = 0; i < calls / clients; ++i) {
        auto a = Clock::now();
        const long status = request(c, url, &body);
        per_client[k].push_back(ms_since(a) * 1000);
        if (status != 200 || body.find("\"Authorization\":\"Bearer ") == std::string::npos) {
          if (bad++ == 0) std::fprintf(stderr, "  answered %ld: %.200s\n", status, body.c_str());
        }
      }
      curl_easy_cleanup(c);
      curl_slist_free_all(headers);
    });
  for (auto &th : threads) th.join();
  const double wall_s = ms_since(t0) / 1000;
  require(bad == 0, "every answer is 200 with the token");
  std::vector<double> all;
  for (auto &v : per_client) all.insert(all.end(), v.begin(), v.end());
  return figures(all, wall_s);
}

Figures in_process(Credential &cred, int threads_n, int calls) {
  std::vector<std::vector<double>> per(threads_n);
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int k = 0; k < threads_n; ++k)
    threads.emplace_back([&, k] {
      per[k].reserve(calls / threads_n);
      for (int i = 0; i < calls / threads_n; ++i) {
        auto a = Clock::now();
        HeadersPtr h = cred.headers();
        per[k].push_back(ms_since(a) * 1000);
        require(!h->headers.empty(), "headers");
      }
    });
  for (auto &th : threads) th.join();
  const double wall_s = ms_since(t0) / 1000;
  std::vector<double> all;
  for (auto &v : per) all.insert(all.end(), v.begin(), v.end());
  return figures(all, wall_s);
}

}  // namespace

int main(int argc, char **argv) {
  int calls = 20000, runs = 3;
  read_flags(argc, argv, {{"--calls", &calls}, {"--runs", &runs}});
  calls = std::max(calls, 16);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  BenchEnv env;
  const std::string cli = CREDPLUG_CLI;
  const std::vector<std::string> common = {cli, "--plugin-dir", CREDPLUG_PLUGIN_DIR, "--ca-file", env.pki.ca_cert};

  Target unix_target{env.dir + "/credplug.sock", "http://sidecar", ""};
  auto args = common;
  args.insert(args.end(), {"serve", "--socket", unix_target.socket});
  const pid_t unix_server = spawn(args, env.dir + "/serve-unix.log");
  wait_for_file(unix_target.socket, unix_server);

  args = common;
  args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0", "--port-file", env.dir + "/port", "--token-file",
                           env.dir + "/token"});
  const pid_t tcp_server = spawn(args, env.dir + "/serve-tcp.log");
  wait_for_file(env.dir + "/port", tcp_server);
  std::string port, token;
  std::ifstream(env.dir + "/port") >> port;
  std::ifstream(env.dir + "/token") >> token;
  Target tcp_target{"", "http://127.0.0.1:" + port, token};

  const std::string put = R"({"plugin":"ainua","credential":)" + env.ainua_credential() + "}";
  for (const Target *t : {&unix_target, &tcp_target}) {
    std::string body;
    curl_slist *headers = nullptr;
    CURL *c = client(*t, &body, &headers);
    require(request(c, t->base + "/v1/credentials/bench", &body, put) == 201, "registering the credential");
    require(request(c, t->base + "/v1/credentials/bench/headers", &body) == 200, "the first headers");
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
  }
  Host host(env.host_options());
  auto cred = host.open("ainua", env.ainua_credential());
  cred->headers();
  const auto tokens_before = env.emu->count("ainua.token");

  struct Row {
    const char *how;
    int clients;
    std::vector<Figures> runs;
  };
  std::vector<Row> rows = {{"in-process Credential::headers()", 1, {}},
                           {"in-process Credential::headers()", 16, {}},
                           {"sidecar, Unix socket (libcurl, kept alive)", 1, {}},
                           {"sidecar, Unix socket (libcurl, kept alive)", 16, {}},
                           {"sidecar, TCP + bearer token (libcurl, kept alive)", 1, {}},
                           {"sidecar, TCP + bearer token (libcurl, kept alive)", 16, {}}};
  for (int r = 0; r < runs; ++r) {
    rows[0].runs.push_back(in_process(*cred, 1, calls * 10));
    rows[1].runs.push_back(in_process(*cred, 16, calls * 10));
    rows[2].runs.push_back(over_http(unix_target, 1, calls));
    rows[3].runs.push_back(over_http(unix_target, 16, calls));
    rows[4].runs.push_back(over_http(tcp_target, 1, calls));
    rows[5].runs.push_back(over_http(tcp_target, 16, calls));
  }
  require(env.emu->count("ainua.token") == tokens_before, "no token request while the token is cached");

  for (pid_t pid : {unix_server, tcp_server}) {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    require(WIFEXITED(status) && WEXITSTATUS(status) == 0, "credplug serve exits 0 on SIGTERM");
  }

  if (failures() != 0)  // what the servers said
    for (const char *log : {"/serve-unix.log", "/serve-tcp.log"}) {
      std::ifstream in(env.dir + log);
      std::fprintf(stderr, "%s:\n%s\n", log, std::string(std::istreambuf_iterator<char>(in), {}).c_str());
    }
  std::printf(
      "benchmark 12: the sidecar, a cached token's headers (median of %d runs; %d requests per run, the "
      "in-process rows %d calls)\n",
      runs, calls, calls * 10);
  std::printf("| how | clients | p50 | p99 | per second |\n|---|---|---|---|---|\n");
  for (const Row &row : rows) {
    auto pick = [&](double Figures::*field) {
      std::vector<double> v;
      for (const auto &f : row.runs) v.push_back(f.*field);
      return median(v);
    };
    std::printf("| %s | %d | %.1f us | %.1f us | %.0f |\n", row.how, row.clients, pick(&Figures::p50_us),
                pick(&Figures::p99_us), pick(&Figures::per_s));
  }
  curl_global_cleanup();
  return failures() == 0 ? 0 : 1;
}
