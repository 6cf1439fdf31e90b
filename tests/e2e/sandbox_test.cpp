// Issue 18: no code of a plugin runs outside the sandbox. A plugin hostile
// from its first instruction (tests/abi/plugins/early_hostile.c) tries to
// reach out from its constructor, its init(), a thread init() starts (which
// waits for the credential) and children it forks; the listeners it aims at
// must receive nothing, whatever runs it: `auth`, `plugins`, `check-plugin`,
// as root and as an unprivileged user.
#include "fixture.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace credplug;
using namespace credplug::testing;

namespace {

constexpr const char *kLoot = "EARLY-HOSTILE-CREDENTIAL-7f3a";
constexpr const char *kFileContent = "EARLY-HOSTILE-FILE-CONTENT-91c2";

// A TCP listener on loopback and an abstract unix socket, non-blocking:
// what anyone sent them is collected by received().
class Listeners {
 public:
  Listeners() {
    tcp_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(tcp_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    REQUIRE(listen(tcp_, 64) == 0);
    socklen_t len = sizeof addr;
    getsockname(tcp_, reinterpret_cast<sockaddr *>(&addr), &len);
    port_ = ntohs(addr.sin_port);

    name_ = "credplug-early-hostile-" + std::to_string(getpid()) + "-" + std::to_string(port_);
    unix_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::copy(name_.begin(), name_.end(), un.sun_path + 1);
    REQUIRE(bind(unix_, reinterpret_cast<sockaddr *>(&un),
                 socklen_t(offsetof(sockaddr_un, sun_path) + 1 + name_.size())) == 0);
    REQUIRE(listen(unix_, 64) == 0);
  }
  ~Listeners() {
    close(tcp_);
    close(unix_);
  }
  Listeners(const Listeners &) = delete;
  Listeners &operator=(const Listeners &) = delete;

  int port() const { return port_; }
  const std::string &name() const { return name_; }

  // Every connection made so far and what it sent, as text; "" when none.
  std::string received() {
    std::string all;
    for (int listener : {tcp_, unix_}) {
      for (int conn; (conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
        all += "[a connection]";
        char buffer[4096];
        for (ssize_t got; (got = read(conn, buffer, sizeof buffer)) > 0;) all.append(buffer, size_t(got));
        close(conn);
      }
    }
    return all;
  }

 private:
  int tcp_ = -1, unix_ = -1, port_ = 0;
  std::string name_;
};

// A directory readable by every user, holding a copy of the plugin, its
// "report-to" and a credential; the file the plugin's thread tries to read
// is root's alone.
struct EarlyHostileDir {
  std::string dir, credential, secret_file;
  explicit EarlyHostileDir(const Listeners &to) {
    char tmpl[] = "/tmp/credplug-early-XXXXXX";
    dir = mkdtemp(tmpl);
    chmod(dir.c_str(), 0755);
    std::filesystem::copy_file(CREDPLUG_EARLY_HOSTILE_PLUGIN, dir + "/credplug-early-hostile.so");
    secret_file = dir + "/root-only.txt";
    std::ofstream(secret_file) << kFileContent << "\n";
    chmod(secret_file.c_str(), 0600);
    std::ofstream(dir + "/report-to") << to.port() << " " << to.name() << " " << secret_file << "\n";
    credential = dir + "/credential.json";
    std::ofstream(credential) << R"({"api_key": ")" << kLoot << "\"}\n";
  }
  ~EarlyHostileDir() { std::filesystem::remove_all(dir); }
  EarlyHostileDir(const EarlyHostileDir &) = delete;
  EarlyHostileDir &operator=(const EarlyHostileDir &) = delete;
};

// credplug, isolated, with only the early-hostile plugin; as `user` when
// given (setpriv: no supplementary groups, no capabilities).
ProcessResult early(const EarlyHostileDir &d, std::vector<std::string> args, bool unprivileged = false) {
  args.insert(args.begin(), {"--isolation", "process", "--plugin-dir", d.dir});
  if (!unprivileged) return E2E::get().cli(args);
  std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534",       "--regid=65534", "--clear-groups",
                                "--inh-caps=-all",  "--bounding-set=-all", CREDPLUG_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {{"CREDPLUG_CA_FILE", ""}, {"CREDPLUG_PLUGIN_PATH", ""}});
}

// What the plugin saw of each attempt, as its report says.
void check_every_attempt_refused(const std::string &out) {
  for (const char *stage : {"constructor", "init", "init thread"}) {
    INFO("stage: " << stage);
    CHECK(contains(out, std::string(stage) + " tcp: Operation not permitted"));
    CHECK(contains(out, std::string(stage) + " unix: Operation not permitted"));
    CHECK(contains(out, std::string(stage) + " fork: Operation not permitted"));
    CHECK(contains(out, std::string(stage) + " exec: Operation not permitted"));
    CHECK_FALSE(contains(out, std::string(stage) + " host mem: READ"));
    CHECK_FALSE(contains(out, std::string(stage) + " host environ: READ"));
  }
  CHECK(contains(out, "init thread: STARTED"));
  CHECK(contains(out, "init thread file: Operation not permitted"));
  CHECK_FALSE(contains(out, "SENT"));
  CHECK_FALSE(contains(out, "FORKED"));
}

}  // namespace

TEST_CASE("sandbox: a plugin's constructor, init(), its threads and forks reach nothing, through every command") {
  Listeners listeners;
  EarlyHostileDir d(listeners);

  auto r = early(d, {"auth", "early-hostile", d.credential});
  REQUIRE(r.exit_code == 0);
  check_every_attempt_refused(r.out);

  CHECK(early(d, {"plugins"}).exit_code == 0);
  r = early(d, {"check-plugin", d.dir + "/credplug-early-hostile.so", "--credential", d.credential});
  CHECK(contains(r.out + r.err, "early-hostile"));
  r = early(d, {"test", "early-hostile", d.credential});  // no test(): authenticate only
  CHECK(contains(r.out + r.err, "early-hostile"));

  const std::string got = listeners.received();
  CHECK_MESSAGE(got.empty(), "the listeners received: " << got);
  CHECK_FALSE(contains(got, kLoot));
}

TEST_CASE("sandbox: as an unprivileged user, the same plugin reaches nothing either") {
  Listeners listeners;
  EarlyHostileDir d(listeners);
  auto r = early(d, {"auth", "early-hostile", d.credential}, true);
  INFO("credplug as uid 65534:\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  check_every_attempt_refused(r.out);
  CHECK_FALSE(contains(r.out + r.err, kLoot));
  const std::string got = listeners.received();
  CHECK_MESSAGE(got.empty(), "the listeners received: " << got);
}

TEST_CASE("sandbox (embedding API): a plugin cannot read this process's memory or environment while its runner lives") {
  Listeners listeners;
  EarlyHostileDir d(listeners);
  int dumpable_while_running = -1;
  auto report_of = [&](bool keep_dumpable) {
    HostOptions o = E2E::get().host_options();
    o.plugin_dirs = {d.dir};
    o.use_default_dir = false;
    o.isolation = Isolation::Process;
    o.keep_dumpable_with_runners = keep_dumpable;
    Host host(o);
    auto credential = host.open("early-hostile", std::string(R"({"api_key": ")") + kLoot + "\"}");
    std::string report;
    for (const auto &i : credential->authenticate().info)
      if (i.key == "report") report = i.value.reveal();
    dumpable_while_running = prctl(PR_GET_DUMPABLE);
    return report;
  };
  // Default: not dumpable while a runner lives, so /proc/<this pid>/mem and
  // environ are closed to a runner of the same user (and a root runner has
  // no capabilities left to override it).
  const std::string guarded = report_of(false);
  CHECK(dumpable_while_running == 0);
  CHECK(contains(guarded, "constructor host environ: Permission denied"));
  CHECK(contains(guarded, "constructor host mem: Permission denied"));
  CHECK(contains(guarded, "init host mem: Permission denied"));
  check_every_attempt_refused(guarded);
  // Kept dumpable on request (runners last until exit, so the first Host's
  // still holds it: made dumpable again for the comparison).
  prctl(PR_SET_DUMPABLE, 1);
  report_of(true);
  CHECK(dumpable_while_running == 1);
  CHECK(listeners.received().empty());
}
