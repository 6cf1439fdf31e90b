// Issue 18: no code of a plugin runs outside the sandbox. A plugin hostile
// from its first instruction (tests/abi/plugins/early_hostile.c) tries to
// reach out from its constructor, its init(), a thread init() starts (which
// waits for the credential) and children it forks; the listeners it aims at
// must receive nothing, whatever runs it: `auth`, `plugins`, `check-plugin`,
// as root and as an unprivileged user; in the runner's namespaces, and
// where the kernel refuses them (the filter alone then).
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
constexpr const char *kNoNamespaces = "plugin runners start without namespaces: the kernel refused a user namespace";

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

std::string temporary_dir(const char *name) {
  std::string tmpl = std::string("/tmp/credplug-") + name + "-XXXXXX";
  std::string dir = mkdtemp(tmpl.data());
  chmod(dir.c_str(), 0755);
  return dir;
}

// A directory readable by every user, holding a copy of the plugin, its
// "report-to" and a credential. The file the plugin tries to read is
// readable by every user too, but outside the plugin's directory: out of
// the runner's file view.
struct EarlyHostileDir {
  std::string dir, credential, elsewhere, readable_file;
  explicit EarlyHostileDir(const Listeners &to) : dir(temporary_dir("early")), elsewhere(temporary_dir("elsewhere")) {
    std::filesystem::copy_file(CREDPLUG_EARLY_HOSTILE_PLUGIN, dir + "/credplug-early-hostile.so");
    readable_file = elsewhere + "/every-user-may-read.txt";
    std::ofstream(readable_file) << kFileContent << "\n";
    chmod(readable_file.c_str(), 0644);
    std::ofstream(dir + "/report-to") << to.port() << " " << to.name() << " " << readable_file << "\n";
    credential = dir + "/credential.json";
    std::ofstream(credential) << R"({"api_key": ")" << kLoot << "\"}\n";
  }
  ~EarlyHostileDir() {
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(elsewhere);
  }
  EarlyHostileDir(const EarlyHostileDir &) = delete;
  EarlyHostileDir &operator=(const EarlyHostileDir &) = delete;
};

enum class As {
  Caller,            // this test's user (root in CI)
  Unprivileged,      // uid 65534 (setpriv: no supplementary groups, no capabilities)
  NoUserNamespaces,  // where the kernel refuses user namespaces (see below)
};

// credplug, isolated, with only the early-hostile plugin.
//
// NoUserNamespaces: credplug runs in a user namespace of its own whose
// user.max_user_namespaces is 0 (the limit is per namespace, and its owner
// may lower it): the kernel then refuses its runners a user namespace, with
// ENOSPC, as a system with them turned off does (EPERM there).
ProcessResult early(const EarlyHostileDir &d, std::vector<std::string> args, As as = As::Caller) {
  args.insert(args.begin(), {"--isolation", "process", "--plugin-dir", d.dir});
  if (as == As::Caller) return E2E::get().cli(args);
  std::vector<std::string> argv =
      as == As::Unprivileged
          ? std::vector<std::string>{"/usr/bin/setpriv", "--reuid=65534",       "--regid=65534", "--clear-groups",
                                     "--inh-caps=-all",  "--bounding-set=-all", CREDPLUG_CLI}
          : std::vector<std::string>{
                "/usr/bin/unshare", "--user", "--map-current-user",
                "/bin/sh",          "-c",     "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" \"$@\"",
                CREDPLUG_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {{"CREDPLUG_CA_FILE", ""}, {"CREDPLUG_PLUGIN_PATH", ""}});
}

// Behind the second wall: the file outside the plugin's directory is not
// there at all, and the plugin is the first process of a PID namespace
// of its own, with no parent in view.
void check_walled(const std::string &out) {
  CHECK(contains(out, "constructor file: No such file or directory"));
  CHECK(contains(out, "constructor ids: pid 1 ppid 0"));
  CHECK(contains(out, "constructor host environ: No such file or directory"));  // no /proc at all
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
  check_walled(r.out);
  CHECK_FALSE(contains(r.err, kNoNamespaces));

  r = early(d, {"plugins", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, R"("namespaces": true)"));
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
  auto r = early(d, {"auth", "early-hostile", d.credential}, As::Unprivileged);
  INFO("credplug as uid 65534:\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  check_every_attempt_refused(r.out);
  check_walled(r.out);
  CHECK_FALSE(contains(r.out + r.err, kLoot));
  const std::string got = listeners.received();
  CHECK_MESSAGE(got.empty(), "the listeners received: " << got);
}

TEST_CASE(
    "sandbox: where the kernel refuses user namespaces, runners start without them, say so, and the filter still "
    "holds") {
  Listeners listeners;
  EarlyHostileDir d(listeners);
  auto r = early(d, {"auth", "early-hostile", d.credential}, As::NoUserNamespaces);
  INFO("credplug without user namespaces:\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  check_every_attempt_refused(r.out);
  // What the wall kept out is in view: a file its user may read, while it
  // loads (opening files ends with init()).
  CHECK(contains(r.out, "constructor file: READ"));
  CHECK(contains(r.err, kNoNamespaces));
  CHECK(contains(r.err, "max_user_namespaces"));

  r = early(d, {"plugins", "--json"}, As::NoUserNamespaces);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, R"("namespaces": false)"));
  CHECK(contains(r.out, R"("namespaces_unavailable": "the kernel refused a user namespace (No space left on device))"));
  r = early(d, {"check-plugin", d.dir + "/credplug-early-hostile.so"}, As::NoUserNamespaces);
  CHECK(contains(r.out, "isolation process without namespaces (the kernel refused"));

  const std::string got = listeners.received();
  CHECK_MESSAGE(got.empty(), "the listeners received: " << got);
}

TEST_CASE("sandbox (embedding API): a plugin cannot read this process's memory or environment while its runner lives") {
  Listeners listeners;
  EarlyHostileDir d(listeners);
  int dumpable_while_running = -1;
  auto report_of = [&](bool keep_dumpable, bool namespaces) {
    HostOptions o = E2E::get().host_options();
    o.plugin_dirs = {d.dir};
    o.use_default_dir = false;
    o.isolation = Isolation::Process;
    o.keep_dumpable_with_runners = keep_dumpable;
    o.runners_without_namespaces = !namespaces;
    Host host(o);
    auto credential = host.open("early-hostile", std::string(R"({"api_key": ")") + kLoot + "\"}");
    std::string report;
    for (const auto &i : credential->authenticate().info)
      if (i.key == "report") report = i.value.reveal();
    dumpable_while_running = prctl(PR_GET_DUMPABLE);
    return report;
  };
  // Default: the runner sees no /proc at all.
  const std::string walled = report_of(false, true);
  check_every_attempt_refused(walled);
  check_walled(walled);
  CHECK(dumpable_while_running == 0);
  // And without its namespaces, not dumpable while a runner lives, so
  // /proc/<this pid>/mem and environ are closed to a runner of the same
  // user (and a root runner has no capabilities left to override it).
  const std::string guarded = report_of(false, false);
  CHECK(dumpable_while_running == 0);
  CHECK(contains(guarded, "constructor host environ: Permission denied"));
  CHECK(contains(guarded, "constructor host mem: Permission denied"));
  CHECK(contains(guarded, "init host mem: Permission denied"));
  check_every_attempt_refused(guarded);
  // Kept dumpable on request (runners last until exit, so the first Hosts'
  // still hold it: made dumpable again for the comparison).
  prctl(PR_SET_DUMPABLE, 1);
  report_of(true, false);
  CHECK(dumpable_while_running == 1);
  CHECK(listeners.received().empty());
}
