// Issue 18: what a runner sends cannot exhaust the host. The hostile plugin
// (tests/abi/plugins/hostile.c) floods add_secret(), log lines and frames
// for a call the host is busy with, and asks for longer HTTPS timeouts than
// the host allows; each is cut at a documented bound, and the host's
// memory and time stay bounded.
#include "fixture.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

using namespace credplug;
using namespace credplug::testing;

namespace {

// A TCP port that completes connections and never answers: a TLS handshake
// to it waits until someone's timeout.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr *>(&addr), &len);
    url_ = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  }
  ~SilentServer() { close(fd_); }
  SilentServer(const SilentServer &) = delete;
  SilentServer &operator=(const SilentServer &) = delete;
  const std::string &url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
};

std::string hostile(const std::string &action, const std::string &extra = "") {
  return E2E::get().write_new("bounded", R"({"action": ")" + action + R"(", "where": "authenticate")" + extra + "}");
}

ProcessResult isolated(std::vector<std::string> args) { return E2E::get().isolated_hostile(std::move(args)); }

size_t count(const std::string &text, const std::string &part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("bounded host: a plugin's request timeout may shorten the host's, never lengthen it") {
  SilentServer silent;
  const auto started = std::chrono::steady_clock::now();
  auto r = isolated({"--timeout", "1000", "auth", "hostile",
                     hostile("egress", R"(, "url": ")" + silent.url() + R"(", "timeout": 60000)")});
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "egress: status 0"));
  CHECK(took < std::chrono::seconds(30));  // the plugin asked for 60 s; the host allows 1 s
}

TEST_CASE("bounded host: 40,000 add_secret() values fail the call at the cap, without quadratic work") {
  auto r = isolated({"auth", "hostile", hostile("secrets")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "declared more than 256 secrets or 1048576 bytes of them (add_secret)"));
}

TEST_CASE("bounded host: 200,000 log lines in a call pass on as 1,000, then one line says the rest are dropped") {
  auto r = isolated({"auth", "hostile", hostile("logs")});
  CHECK(r.exit_code == 0);
  CHECK(count(r.err, "hostile log flood") == 1000);
  CHECK(count(r.err, "logged more than 1000 lines in one call; the rest of this call's are dropped") == 1);
}

TEST_CASE("bounded host: frames flooding a call the host is busy with stop the runner at the queue's bound") {
  // Call A waits on HTTPS while a thread of its plugin floods outputs for
  // it; call B, in the same runner, keeps the host reading the channel, so
  // A's frames pile up in A's inbox.
  SilentServer silent;
  const std::string a = hostile("flood", R"(, "url": ")" + silent.url() + R"(", "timeout": 20000)");
  const std::string b = hostile("loop");
  auto r = isolated({"--timeout", "20000", "test", "hostile", a, b});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out + r.err, "queued more than 4096 frames or 80 MiB for call"));
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  CHECK(children.ru_maxrss < 1024 * 1024);  // KiB: no credplug this suite ran grew past 1 GiB
}

TEST_CASE("isolated: a call that runs long in plugin code does not hold up the runner's other calls") {
  // The runner's reading thread ran the long call itself and left nobody
  // reading: the other credential's calls waited for the first's deadline.
  const std::string quick = hostile("ok");
  const std::string slow = hostile("loop");
  auto r = isolated({"--timeout", "3000", "test", "hostile", slow, quick});
  CHECK(r.exit_code == 7);
  std::string quick_row;
  for (size_t at = 0, end; at < r.out.size(); at = end + 1) {
    end = r.out.find('\n', at);
    if (end == std::string::npos) end = r.out.size();
    if (r.out.compare(at, quick.size(), quick) == 0) quick_row = r.out.substr(at, end - at);
  }
  INFO("the quick credential's row: " << quick_row);
  CHECK(contains(quick_row, " ok "));
}

TEST_CASE("egress counts addresses only: a version string opens nothing; plugins --json and check-plugin list egress") {
  // "version": "127.1" let a plugin reach https://127.1/, which libcurl
  // reads as 127.0.0.1:443.
  auto r = isolated({"auth", "hostile", hostile("egress", R"(, "host": "127.1")")});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "refused to send a request to https://127."));
  // What each plugin may reach, for the operator.
  r = E2E::get().cli({"plugins", "--json"});
  rapidjson::Document doc;
  REQUIRE_FALSE(doc.Parse(r.out.c_str()).HasParseError());
  std::map<std::string, std::string> egress;
  for (const auto &p : doc["plugins"].GetArray()) {
    std::string text;
    for (const auto &o : p["egress"]["declared"].GetArray()) text += std::string(o.GetString()) + " ";
    text += "|";
    for (const auto &f : p["egress"]["address_fields"].GetArray()) text += std::string(" ") + f.GetString();
    egress[p["id"].GetString()] = text;
  }
  CHECK(egress["avni"] == "https://cognito-idp.*.amazonaws.com |");
  CHECK(egress["nexla"] == "https://api.nexla.io |");
  CHECK(egress["ainua"] == "| ainua_url");
  CHECK(egress["opencrvs"] == "|");
  r = E2E::get().cli({"check-plugin", std::string(CREDPLUG_PLUGIN_DIR) + "/credplug-nexla.so"});
  CHECK(contains(r.out,
                 "ok    egress: may reach https://api.nexla.io (x-credplug-egress), the https:// URLs its "
                 "credential holds"));
}

TEST_CASE(
    "bounded runner: a thread left spinning after its call, or 3,000 threads, end the runner; the next call gets a "
    "new one") {
  for (const std::string action : {"spin", "threads"}) {
    CAPTURE(action);
    std::vector<std::string> logs;
    std::mutex logs_mutex;
    // A copy of the plugin of its own: its runner is this test's alone.
    const std::string dir = E2E::get().dir + "/" + E2E::get().new_dir("watched");
    const std::string file = dir + "/credplug-hostile.so";
    std::filesystem::copy_file(std::string(CREDPLUG_HOSTILE_PLUGIN_DIR) + "/credplug-hostile.so", file);
    HostOptions o = E2E::get().host_options();
    o.plugin_dirs = {dir};
    o.isolation = Isolation::Process;
    o.log = [&](int, const std::string &line) {
      std::lock_guard<std::mutex> lock(logs_mutex);
      logs.push_back(line);
    };
    Host host(o);
    const std::string said = action == "spin" ? "[hostile] plugin code kept computing with no call running"
                                              : "threads, more than 128: the runner ends";
    auto logged = [&] {
      std::lock_guard<std::mutex> lock(logs_mutex);
      return std::any_of(logs.begin(), logs.end(), [&](const std::string &l) { return contains(l, said); });
    };
    auto left_behind = host.open("hostile", R"({"action": ")" + action + R"(", "where": "authenticate"})");
    const std::vector<pid_t> runner = processes_with(file);
    REQUIRE_FALSE(runner.empty());
    try {
      left_behind->authenticate();  // answered; what it started goes on (or the runner ends first)
    } catch (const Error &) {
    }
    // The runner ends by itself; the host learns of it (and of its last
    // words) at the next call, which gets a new runner.
    CHECK(eventually([&] { return std::all_of(runner.begin(), runner.end(), process_ended); }, 60000));
    auto ok = host.open("hostile", R"({"action": "ok", "where": "x"})");
    CHECK(logged());
    CHECK(eventually(
        [&] {
          try {
            ok->authenticate();
            return true;
          } catch (const Error &) {
            return false;
          }
        },
        30000));
  }
}
