// Issue 9: a hostile plugin (tests/abi/plugins/hostile.c) run isolated, through the
// CLI and the embedding API. Each fault is contained, reported by name with
// exit 7 (or refused as an output, exit 6), leaks nothing, and the process
// goes on serving its other credentials.
#include "fixture.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

using namespace credplug;
using namespace credplug::testing;

namespace {

std::string hostile_file(const std::string &action, const std::string &where, const std::string &extra = "") {
  return E2E::get().write_new("hostile", R"({"action": ")" + action + R"(", "where": ")" + where + "\"" + extra + "}");
}

// credplug with the hostile plugins (and the real ones), isolated.
ProcessResult isolated(std::vector<std::string> args) { return E2E::get().isolated_hostile(std::move(args)); }

HostOptions hostile_host() {
  HostOptions o = E2E::get().host_options();
  o.plugin_dirs.insert(o.plugin_dirs.begin(), CREDPLUG_HOSTILE_PLUGIN_DIR);
  o.isolation = Isolation::Process;
  return o;
}

std::string error_of(const std::function<void()> &f, ErrorKind *kind = nullptr) {
  try {
    f();
  } catch (const Error &e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE(
    "isolated: a crash in create, authenticate or test fails that call with exit 7, naming plugin, signal and "
    "operation") {
  for (const std::string where : {"create", "authenticate", "test"}) {
    CAPTURE(where);
    auto r = isolated({where == "test" ? "test" : "auth", "hostile", hostile_file("crash", where)});
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "plugin 'hostile' crashed (SIGSEGV) during " + where));
  }
  auto r = isolated({"auth", "hostile", hostile_file("abort", "authenticate")});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "plugin 'hostile' crashed (SIGABRT) during authenticate"));
  // destroy() runs after the answer: the crash costs the runner, not the command.
  r = isolated({"auth", "hostile", hostile_file("crash", "destroy")});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Authorization"));
}

TEST_CASE("isolated: a crash in credplug_get_interface, init or a constructor skips that plugin; the others list") {
  auto r = isolated({"--plugin-dir", CREDPLUG_PLUGIN_DIR, "plugins"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "hostile"));
  CHECK(contains(r.out, "ainua"));
  CHECK(contains(r.err, "credplug-crash-entry.so: crashed while loading (SIGSEGV)"));
  CHECK(contains(r.err, "credplug-crash-init.so: crashed while loading (SIGSEGV)"));
  CHECK(contains(r.err, "credplug-ctor-abort.so: crashed while loading (SIGABRT)"));
  r = isolated({"schema", "crash-init"});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "crashed while loading (SIGSEGV)"));
}

TEST_CASE("isolated: an endless loop is stopped at the call's deadline (--timeout plus 2 s)") {
  auto start = std::chrono::steady_clock::now();
  auto r = isolated({"--timeout", "500", "auth", "hostile", hostile_file("loop", "authenticate")});
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "plugin 'hostile' did not finish authenticate within 2500 ms; its runner was stopped"));
  CHECK(took < 20000);
}

TEST_CASE("isolated: the sandbox refuses opening files, connecting sockets and running programs") {
  auto &env = E2E::get();
  const std::string marker = "CANARY-file-content-the-plugin-must-not-read";
  const std::string secret_file = env.write("hostile-secret.txt", marker + "\n");
  auto r = isolated({"auth", "hostile", hostile_file("open", "authenticate", R"(, "path": ")" + secret_file + "\"")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "Operation not permitted"));
  CHECK_FALSE(contains(r.out + r.err, marker));

  // A port that listens: only the sandbox stands between the plugin and it.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 4) == 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr *>(&addr), &len);
  r = isolated({"auth", "hostile",
                hostile_file("socket", "authenticate", ", \"port\": " + std::to_string(ntohs(addr.sin_port)))});
  close(listener);
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "socket: Operation not permitted"));

  const std::string touched = env.dir + "/hostile-exec-ran";
  r = isolated({"auth", "hostile", hostile_file("exec", "test", R"(, "path": ")" + touched + "\"")});
  CHECK(r.exit_code == 0);  // auth does not run test()
  r = isolated({"test", "hostile", hostile_file("exec", "test", R"(, "path": ")" + touched + "\"")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "system: "));
  CHECK(contains(r.err, "(Operation not permitted)"));
  r = isolated({"auth", "hostile", hostile_file("execve", "authenticate", R"(, "path": ")" + touched + "\"")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "execve: Operation not permitted"));
  CHECK_FALSE(std::filesystem::exists(touched));
}

TEST_CASE("isolated: a system call the sandbox forbids ends the runner, and the message names the call") {
  auto r = isolated({"auth", "hostile", hostile_file("getcwd", "authenticate")});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err,
                 "plugin 'hostile' was stopped by the sandbox during authenticate: it called getcwd (system "
                 "call 79), which plugins may not make (see docs/SANDBOX.md)"));
  // The handler that names the call is not the plugin's to take over: trying
  // ends the runner too (by SIGSYS, without a name).
  r = isolated({"test", "hostile", hostile_file("sigsys", "test")});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "plugin 'hostile' crashed (SIGSYS: a system call its sandbox forbids) during test"));
  CHECK_FALSE(contains(r.err, "SIGSYS ignored"));
}

TEST_CASE("isolated: a huge output is refused by the host's limits, not taken in") {
  auto r = isolated({"auth", "hostile", hostile_file("huge", "authenticate")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "X-Huge"));
  CHECK(r.err.size() < (4u << 20));  // the logs are there, the 16 MiB header is not
}

TEST_CASE("isolated (embedding API): a crashing plugin fails its own calls; other credentials keep being served") {
  auto &env = E2E::get();
  env.reset();
  Host host(hostile_host());
  auto ainua = host.open("ainua", env.ainua_credential());
  auto crashing = host.open("hostile", R"({"action": "crash", "where": "authenticate"})");
  auto fine = host.open("hostile", R"({"action": "ok", "where": "authenticate"})");
  CHECK(fine->headers()->find("Authorization") != nullptr);

  ErrorKind kind{};
  CHECK(contains(error_of([&] { crashing->headers(); }, &kind),
                 "plugin 'hostile' crashed (SIGSEGV) during authenticate"));
  CHECK(kind == ErrorKind::Plugin);
  CHECK(ainua->headers()->find("Authorization") != nullptr);
  // The runner is started again; the other instance is made again in it.
  CHECK(fine->authenticate().headers.size() == 1);
  // A second credential in the same plugin, after the crash.
  auto later = host.open("hostile", R"({"action": "ok", "where": "test"})");
  CHECK(later->test().has_test);
}

TEST_CASE(
    "isolated (embedding API): a crash in refresh() keeps the valid token served and renews it by authenticate()") {
  HostOptions o = hostile_host();
  o.cache.skew_ms = 0;
  o.cache.refresh_fraction = 1.0;  // every headers() after the first is in the refresh window
  o.cache.max_refresh_window_ms = 24L * 3600 * 1000;
  Host host(o);
  auto cred = host.open("hostile", R"({"action": "crash", "where": "refresh"})");
  auto first = cred->headers();
  REQUIRE(first->find("Authorization") != nullptr);
  CHECK(eventually([&] {
    auto h = cred->headers();  // never throws: the old token is valid
    auto s = cred->cache_status();
    return s.background_refreshes >= 1 && s.generation >= 2 && h->find("Authorization") != nullptr;
  }));
  auto s = cred->cache_status();
  CAPTURE(s.token_requests);
  CAPTURE(s.generation);
  CAPTURE(s.last_error);
  CHECK(s.last_error.empty());
}

TEST_CASE(
    "egress: a request to an origin the credential does not name is refused before a byte is sent, in both modes") {
  auto &env = E2E::get();
  env.reset();
  const std::string port = std::to_string(env.emu->port());
  for (Isolation mode : {Isolation::Process, Isolation::InProcess}) {
    CAPTURE(to_string(mode));
    HostOptions o = hostile_host();
    o.isolation = mode;
    Host host(o);
    auto undeclared = host.open("hostile", R"({"action": "egress", "where": "authenticate", "port": )" + port + "}");
    ErrorKind kind{};
    std::string message = error_of([&] { undeclared->authenticate(); }, &kind);
    CHECK(contains(message, "refused to send a request to https://localhost:" + port +
                                ": the plugin may reach only the origins its credential names"));
    CHECK(kind == ErrorKind::InvalidInput);
    CHECK(host.http_stats().requests == 0);
    // The same origin named by the credential: the request goes out.
    auto named = host.open("hostile", R"({"action": "egress", "where": "authenticate", "url": "https://localhost:)" +
                                          port + R"(/nowhere"})");
    CHECK(contains(error_of([&] { named->authenticate(); }), "egress: status 404"));
    CHECK(host.http_stats().requests == 1);
  }
  auto r = env.trusted({"--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR, "auth", "hostile",
                        hostile_file("egress", "authenticate", ", \"port\": " + port)});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "refused to send a request to https://localhost:" + port));
}

TEST_CASE("isolated: 120 credentials tested 8 at a time share one runner; every call is answered") {
  // Overlapping calls in one runner: answers read by whichever runner thread
  // is reading must reach the call that waits for them.
  auto &env = E2E::get();
  env.reset();
  const std::string dir = env.new_dir("isolated-many");
  for (int i = 0; i < 120; ++i) {
    const std::string id = "iso-" + std::to_string(i), secret = "iso-secret-" + std::to_string(i);
    env.emu->add_client("ainua", id, secret);
    env.write(dir + "/c" + std::to_string(i) + ".json", R"({"ainua_url":"localhost:)" +
                                                            std::to_string(env.emu->port()) + R"(","client_id":")" +
                                                            id + R"(","client_secret":")" + secret + "\"}");
  }
  // Overlap by chance here; runner_process_test forces it every round.
  auto r = env.trusted({"--isolation", "process", "test", "ainua", env.dir + "/" + dir, "--jobs", "8"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "120 credential(s): 120 passed"));
}

TEST_CASE(
    "isolated: a runner that keeps crashing is started again after a growing backoff; calls meanwhile fail at once") {
  Host host(hostile_host());
  auto crashing = host.open("hostile", R"({"action": "crash", "where": "authenticate"})");
  int crashes = 0;
  std::string message;
  for (int i = 0; i < 20; ++i) {
    message = error_of([&] { crashing->authenticate(); });
    if (!contains(message, "plugin 'hostile' crashed (SIGSEGV) during authenticate")) break;
    ++crashes;
  }
  CHECK(crashes >= 2);  // the first restart is immediate
  CHECK(contains(message, "plugin 'hostile' is not running (its runner crashed (SIGSEGV)); it is started again in "));
  // After the backoff it is started again (and crashes again).
  const size_t at = message.find("started again in ") + std::string("started again in ").size();
  const long wait_ms = std::stol(message.substr(at));
  CHECK(wait_ms > 0);
  CHECK(eventually(
      [&] { return contains(error_of([&] { crashing->authenticate(); }), "crashed (SIGSEGV) during authenticate"); }));
  // A call that succeeds ends the backoff for the tests after this one.
  CHECK(eventually(
      [&] {
        return error_of([&] { host.open("hostile", R"({"action": "ok", "where": "x"})")->authenticate(); }).empty();
      },
      60000));
}

TEST_CASE(
    "isolated: closing a credential does not wait for destroy(); one that never returns ends its runner after 5 s") {
  std::vector<std::string> logs;
  std::mutex logs_mutex;
  HostOptions o = hostile_host();
  o.log = [&](int, const std::string &m) {
    std::lock_guard<std::mutex> lock(logs_mutex);
    logs.push_back(m);
  };
  Host host(o);
  auto other = host.open("hostile", R"({"action": "ok", "where": "x", "n": 1})");
  {
    auto looping = host.open("hostile", R"({"action": "loop", "where": "destroy"})");
    looping->authenticate();
    auto t0 = std::chrono::steady_clock::now();
    looping.reset();  // destroy() starts, and never returns
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  }
  // Calls go on meanwhile; once the runner has ended itself, the next call
  // gets a new one (the other credential is made again in it), and the
  // runner's last words are logged.
  auto said = [&] {
    std::lock_guard<std::mutex> lock(logs_mutex);
    for (const auto &m : logs)
      if (contains(m, "destroy() ran past 5 s")) return true;
    return false;
  };
  CHECK(eventually([&] { return error_of([&] { other->authenticate(); }).empty() && said(); }, 30000));
}

TEST_CASE("isolated: without its runner, a plugin is not loaded, and the message says what to do") {
  auto r =
      E2E::get().trusted({"--isolation", "process", "schema", "ainua"}, {{"CREDPLUG_RUNNER", "/nonexistent/runner"}});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err,
                 "cannot start the plugin runner /nonexistent/runner (No such file or directory); reinstall "
                 "credplug, or run plugins you trust with --isolation in-process"));
  r = E2E::get().trusted({"--isolation", "in-process", "schema", "ainua"},
                         {{"CREDPLUG_RUNNER", "/nonexistent/runner"}});
  CHECK(r.exit_code == 0);
}

namespace {

// The descendants of `parent` whose command name starts with `name`: a
// runner is two processes in its namespaces (docs/SANDBOX.md), one
// without them.
std::vector<pid_t> descendants_named(pid_t parent, const std::string &name) {
  std::multimap<pid_t, std::pair<pid_t, std::string>> children;  // by parent
  for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.find('(') == std::string::npos) continue;
    const std::string comm = line.substr(line.find('(') + 1, line.rfind(')') - line.find('(') - 1);
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") == std::string::npos)
      children.emplace(ppid, std::pair{std::stoi(pid), comm});
  }
  std::vector<pid_t> out, parents{parent};
  while (!parents.empty()) {
    const pid_t p = parents.back();
    parents.pop_back();
    for (auto [it, end] = children.equal_range(p); it != end; ++it) {
      parents.push_back(it->second.first);
      if (it->second.second.rfind(name, 0) == 0) out.push_back(it->second.first);
    }
  }
  return out;
}

// CPU time the process has used, in clock ticks (utime + stime).
long cpu_ticks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// A fresh copy of Ainua's file in a directory of its own: loading it starts
// a runner (a file loaded before is served by the runner it has).
std::string fresh_ainua_dir() {
  auto &env = E2E::get();
  std::string dir = env.dir + "/" + env.new_dir("zygote");
  std::filesystem::copy_file(std::string(CREDPLUG_PLUGIN_DIR) + "/credplug-ainua.so", dir + "/credplug-ainua.so");
  return dir;
}

// This process's children named `comm` exactly.
std::vector<pid_t> children_named(const std::string &comm) {
  std::vector<pid_t> out;
  for (pid_t p : descendants_named(getpid(), comm)) {
    std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid() && state != "Z" && line.find("(" + comm + ")") != std::string::npos) out.push_back(p);
  }
  return out;
}

std::string command_line(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

}  // namespace

// Issue 23: runners start as copies of a zygote runner (docs/SANDBOX.md,
// "The zygote"), as children of this process, and show their plugin file
// in their command line as a spawned runner does.
TEST_CASE("isolated: runners are copies of a zygote, children of this process; a killed zygote is replaced") {
  auto &env = E2E::get();
  env.reset();
  HostOptions o = env.host_options();
  o.isolation = Isolation::Process;
  o.plugin_dirs = {fresh_ainua_dir()};
  const std::string file = o.plugin_dirs[0] + "/credplug-ainua.so";
  auto host = std::make_unique<Host>(o);
  auto cred = host->open("ainua", env.ainua_credential());
  CHECK(cred->headers()->find("Authorization") != nullptr);

  std::vector<pid_t> zygotes = children_named("credplug-zygote");
#if defined(__SANITIZE_THREAD__)
  // A ThreadSanitizer runner refuses to be a zygote (a clone() the
  // sanitizer does not see): runners are spawned, and work.
  CHECK(eventually([] { return children_named("credplug-zygote").empty(); }));
  CHECK_FALSE(processes_with(file).empty());
  return;
#endif
  REQUIRE(zygotes.size() == 1);
  CHECK(contains(command_line(zygotes[0]), "credplug-plugin-runner --protocol "));
  CHECK(contains(command_line(zygotes[0]), " --zygote"));
  // The runner of the file: this process's child (CLONE_PARENT), named as a
  // spawned runner is, its file in its command line.
  std::vector<pid_t> runner = processes_with(file);
  REQUIRE_FALSE(runner.empty());
  const auto own = children_named("credplug-plugin");
  CHECK(std::any_of(runner.begin(), runner.end(),
                    [&](pid_t p) { return std::find(own.begin(), own.end(), p) != own.end(); }));
  CHECK(contains(command_line(runner[0]), "credplug-plugin-runner --protocol "));
  CHECK_FALSE(contains(command_line(runner[0]), "--zygote"));
  CHECK(descendants_named(zygotes[0], "").empty());  // the zygote is no runner's parent

  // Its crash is seen by its signal: this process reaps it.
  auto crashing = [&] {
    HostOptions h = hostile_host();
    return std::make_unique<Host>(h);
  }();
  auto crash = crashing->open("hostile", R"({"action": "crash", "where": "authenticate"})");
  CHECK(contains(error_of([&] { crash->headers(); }), "crashed (SIGSEGV) during authenticate"));

  // Killed, the zygote is started again for the next runner (or, where the
  // load took the spare runner, for the next spare; it is named once it runs).
  ::kill(zygotes[0], SIGKILL);
  CHECK(eventually([&] { return process_ended(zygotes[0]); }));
  o.plugin_dirs = {fresh_ainua_dir()};
  Host after(o);
  auto again = after.open("ainua", env.ainua_credential());
  CHECK(again->headers()->find("Authorization") != nullptr);
  std::vector<pid_t> now;
  REQUIRE(eventually([&] { return (now = children_named("credplug-zygote")).size() == 1; }));
  CHECK(now[0] != zygotes[0]);

  // Without it (HostOptions::runners_without_zygote), a runner is spawned:
  // a third load leaves the zygote with no request.
  o.plugin_dirs = {fresh_ainua_dir()};
  o.runners_without_zygote = true;
  ::kill(now[0], SIGKILL);
  CHECK(eventually([&] { return process_ended(now[0]); }));
  Host spawned(o);
  auto third = spawned.open("ainua", env.ainua_credential());
  CHECK(third->headers()->find("Authorization") != nullptr);
  CHECK(children_named("credplug-zygote").empty());
}

// Issue 23 (item 3): a plugin's runner is the spare runner the zygote keeps
// ready in its namespaces (docs/SANDBOX.md, "The spare runner"); once taken
// it names its plugin file as a spawned runner does, and another is asked
// for. A spare that died is not taken, and is replaced.
TEST_CASE("isolated: a runner is the spare kept ready, which then names its plugin; a dead spare is replaced") {
#if defined(__SANITIZE_THREAD__)
  return;  // no zygote in a ThreadSanitizer build (above), so no spare
#endif
  auto &env = E2E::get();
  env.reset();
  HostOptions o = env.host_options();
  o.isolation = Isolation::Process;
  // This process's spare: a child waiting with --spare in its command line.
  const auto spares = [] {
    std::vector<pid_t> out;
    for (pid_t p : children_named("credplug-plugin"))
      if (contains(command_line(p), " --spare")) out.push_back(p);
    return out;
  };
  {
    // One made for runners without namespaces is replaced by the next Host
    // asking with them: a spare has the setting asked for last.
    HostOptions without = o;
    without.runners_without_namespaces = true;
    Host other(without);
  }
  Host asking(o);  // a Host asks the zygote for one as it is made
  std::vector<pid_t> spare;
  REQUIRE(eventually([&] { return (spare = spares()).size() == 1; }));

  // A plugin directory made after the spare: files made since are in its view.
  o.plugin_dirs = {fresh_ainua_dir()};
  const std::string file = o.plugin_dirs[0] + "/credplug-ainua.so";
  Host loading(o);
  auto cred = loading.open("ainua", env.ainua_credential());
  CHECK(cred->headers()->find("Authorization") != nullptr);
  // The spare became the file's runner, and says so outside its namespaces too.
  CHECK(eventually([&] { return contains(command_line(spare[0]), file); }));
  CHECK_FALSE(contains(command_line(spare[0]), "--spare"));
  std::vector<pid_t> next;
  CHECK(eventually([&] { return (next = spares()).size() == 1 && next[0] != spare[0]; }));
  REQUIRE(next.size() == 1);

  // Killed while it waits: the next load starts a runner as before, and a
  // spare is asked for again.
  ::kill(next[0], SIGKILL);
  CHECK(eventually([&] { return process_ended(next[0]); }));
  o.plugin_dirs = {fresh_ainua_dir()};
  Host after(o);
  auto again = after.open("ainua", env.ainua_credential());
  CHECK(again->headers()->find("Authorization") != nullptr);
  CHECK(eventually([&] {
    const auto now = spares();
    return now.size() == 1 && now[0] != next[0];
  }));

  // Without it (HostOptions::runners_without_spare), the spare stays unused.
  const std::vector<pid_t> kept = spares();
  REQUIRE(kept.size() == 1);
  o.plugin_dirs = {fresh_ainua_dir()};
  o.runners_without_spare = true;
  Host copied(o);
  auto third = copied.open("ainua", env.ainua_credential());
  CHECK(third->headers()->find("Authorization") != nullptr);
  CHECK(spares() == kept);
}

#ifdef CREDPLUG_SANITIZER_REPORT_DIR
// Sanitizer builds only (scripts/sanitize.sh): a sandboxed runner's report
// is kept in a file, not lost with its stderr; sanitize.sh fails on any.
TEST_CASE("sanitizer builds: a report inside a sandboxed runner is kept in the build tree") {
  namespace fs = std::filesystem;
  auto reports_with = [](const std::string &part) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto &f : fs::directory_iterator(CREDPLUG_SANITIZER_REPORT_DIR, ec)) {
      std::ifstream in(f.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (contains(text, part)) out.push_back(f.path());
    }
    return out;
  };
  const auto before = reports_with("heap-buffer-overflow");
  auto r = E2E::get().trusted({"--isolation", "process", "--plugin-dir", CREDPLUG_CANARY_PLUGIN_DIR, "auth", "overflow",
                               E2E::get().write_new("canary", "{}")});
  CHECK(r.exit_code == 7);  // the sanitizer ended the runner mid-call
  std::vector<fs::path> planted;
  for (const auto &f : reports_with("heap-buffer-overflow"))
    if (std::find(before.begin(), before.end(), f) == before.end()) planted.push_back(f);
  CHECK(planted.size() == 1);
  for (const auto &f : planted) fs::remove(f);  // planted by this test: not a finding
}
#endif

TEST_CASE("isolated: a runner busy in a call that never returns ends when its host is killed") {
  const std::string file = hostile_file("loop", "authenticate");
  const std::string cli = CREDPLUG_CLI;
  std::vector<std::string> args{
      cli,    "--isolation", "process", "--timeout", "600000", "--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR,
      "auth", "hostile",     file};
  pid_t host = spawn_quiet(args);
  std::vector<pid_t> runners;
  // Into authenticate()'s loop: a quarter second of CPU, more than loading takes.
  CHECK(eventually(
      [&] {
        runners = descendants_named(host, "credplug-plugin");
        long ticks = 0;
        for (pid_t runner : runners) ticks += std::max(0L, cpu_ticks(runner));
        return ticks >= sysconf(_SC_CLK_TCK) / 4;
      },
      60000));
  REQUIRE_FALSE(runners.empty());
  ::kill(host, SIGKILL);
  ::waitpid(host, nullptr, 0);
  CHECK(eventually([&] { return std::all_of(runners.begin(), runners.end(), process_ended); }, 30000));
}

TEST_CASE(
    "secret hygiene: values known secret are masked whatever flags the plugin set; an undeclared secret field is "
    "warned about") {
  const std::string key = "CANARY-undeclared-api-key-31f0";
  for (const char *mode : {"process", "in-process"}) {
    CAPTURE(mode);
    auto r = E2E::get().trusted({"--isolation", mode, "--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR, "auth", "hostile",
                                 hostile_file("leaky", "x", R"(, "api_key": ")" + key + "\"")});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "X-Leak"));
    CHECK(contains(r.out, "X-Key"));
    CHECK_FALSE(contains(r.out + r.err, "leaky-token-value-7c1e"));
    CHECK_FALSE(contains(r.out + r.err, key));
    CHECK(contains(r.err,
                   "plugin 'hostile': schema property 'api_key' (/properties/api_key) looks like a secret but "
                   "lacks \"writeOnly\": true"));
  }
  // (Isolated: this directory also holds plugins that crash while loading.)
  auto r =
      E2E::get().trusted({"--isolation", "process", "--json", "--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR, "plugins"});
  const size_t at = r.out.find("\"warnings\": [", r.out.find("\"id\": \"hostile\""));
  REQUIRE(at != std::string::npos);
  CHECK(r.out.find("schema property 'api_key'", at) < r.out.find(']', at));
}

TEST_CASE("in-process: a plugin crash ends the CLI with exit 7, naming the plugin and the operation") {
  struct Case {
    std::string action, where, signal;
  };
  for (const Case &k : {Case{"crash", "authenticate", "SIGSEGV"}, Case{"abort", "create", "SIGABRT"},
                        Case{"crash", "test", "SIGSEGV"}}) {
    CAPTURE(k.where);
    auto r = E2E::get().trusted({"--isolation", "in-process", "--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR,
                                 k.where == "test" ? "test" : "auth", "hostile", hostile_file(k.action, k.where)});
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "credplug: error (plugin failure): plugin 'hostile' crashed (" + k.signal + ") during " +
                              k.where + ", in this process (--isolation in-process)"));
  }
  // While loading (a constructor, the entry point or init() crashes): the file is named.
  auto r = E2E::get().trusted({"--isolation", "in-process", "--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR, "plugins"});
  CHECK(r.exit_code == 7);
  CHECK(contains(
      r.err, "credplug: error (plugin failure): plugin '" + std::string(CREDPLUG_HOSTILE_PLUGIN_DIR) + "/credplug-"));
  CHECK(contains(r.err, ".so' crashed (SIG"));
  CHECK(contains(r.err, ") during load, in this process"));
}

// The runner's stderr kept for debugging (CREDPLUG_RUNNER_STDERR=1) while
// credplug's own goes to a file: the runner's no-file-writes limit applied to
// that file too and killed the plugin (SIGXFSZ) at its first line.
TEST_CASE("isolated: a kept runner stderr may be a file; without the switch the plugin's stderr goes nowhere") {
  auto &env = E2E::get();
  const std::string cred = hostile_file("stderr", "authenticate");
  const std::string log = env.dir + "/runner-stderr.log";
  auto with_stderr_in_a_file = [&](const std::string &keep) {
    std::remove(log.c_str());
    return run_process(
        {"/bin/sh", "-c", "exec \"$0\" --isolation process --plugin-dir \"$1\" auth hostile \"$2\" 2>\"$3\"",
         CREDPLUG_CLI, CREDPLUG_HOSTILE_PLUGIN_DIR, cred, log},
        {{"CREDPLUG_RUNNER_STDERR", keep}, {"CREDPLUG_CA_FILE", ""}, {"CREDPLUG_PLUGIN_PATH", ""}});
  };
  auto read_log = [&] {
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto kept = with_stderr_in_a_file("1");
  CHECK(kept.exit_code == 0);
  CHECK(contains(read_log(), "hostile plugin: a line on stderr"));
  auto dropped = with_stderr_in_a_file("");
  CHECK(dropped.exit_code == 0);
  CHECK_FALSE(contains(read_log(), "hostile plugin"));
}
