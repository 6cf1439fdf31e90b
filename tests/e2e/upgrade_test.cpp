// Plugin upgrades while running, in runners: a replaced file serves the
// credentials opened after it at once; a credential already open keeps its
// runner, and runs the new file when that runner starts again; a pin file
// still decides which file may run; runners end with the last Host and
// credential using them. (In this process a plugin loads once: see
// PluginRegistry::replaced().)
#include "fixture.hpp"

#include <credplug/host.hpp>

#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace credplug;
using namespace credplug::testing;

namespace {

const std::string kRelease1 = std::string(CREDPLUG_HOSTILE_PLUGIN_DIR) + "/credplug-hostile.so";
const std::string kRelease2 = CREDPLUG_HOSTILE_UPGRADE;  // version 2.0.0

HostOptions in_runners(const std::string &dir, const std::string &pin_file = "") {
  HostOptions o = E2E::get().host_options();
  o.plugin_dirs = {dir};
  o.isolation = Isolation::Process;
  o.pin_file = pin_file;
  return o;
}

// As a package manager upgrades: the new file written beside, then renamed
// over the old one (which a runner may still have mapped).
void install(const std::string &from, const std::string &to) {
  std::filesystem::copy_file(from, to + ".new", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

std::string credential(const std::string &name) {
  return R"({"action": "ok", "where": "authenticate", "path": ")" + name + "\"}";
}

// A new token, from the plugin's code as it runs now.
std::string fresh_token(Credential &cred) {
  cred.invalidate();
  auto set = cred.headers();
  const Header *h = set->find("Authorization");
  return h ? std::string(h->value.view()) : "";
}

// Ends every runner of `file` as a crash would, and waits until each has
// ended (a zombie at least: its files, the channel too, are closed by then;
// an empty command line comes earlier, while it is still exiting).
void crash_runners(const std::string &file) {
  auto pids = processes_with(file);
  REQUIRE_FALSE(pids.empty());
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  REQUIRE(eventually([&] { return std::all_of(pids.begin(), pids.end(), process_ended); }));
}

}  // namespace

TEST_CASE(
    "upgrade: a replaced plugin file serves credentials opened after it, and open ones once their runner "
    "starts again; runners end with the last Host") {
  auto &env = E2E::get();
  const std::string dir = env.dir + "/" + env.new_dir("upgrade");
  const std::string file = dir + "/credplug-hostile.so";
  install(kRelease1, file);
  {
    Host host(in_runners(dir));
    auto before = host.open("hostile", credential("before"));
    CHECK(fresh_token(*before) == "Bearer hostile-token");
    CHECK(host.plugin("hostile").version == "1.0.0");

    install(kRelease2, file);
    auto after = host.open("hostile", credential("after"));  // the new file, at once
    CHECK(fresh_token(*after) == "Bearer hostile-token-2");
    CHECK(host.plugin("hostile").version == "2.0.0");
    CHECK(fresh_token(*before) == "Bearer hostile-token");  // its runner runs the old code still

    crash_runners(file);
    CHECK(fresh_token(*before) == "Bearer hostile-token-2");  // started again, from the new file
    CHECK(fresh_token(*after) == "Bearer hostile-token-2");

    Host other(in_runners(dir));  // a Host made now finds the new file
    CHECK(other.plugin("hostile").version == "2.0.0");
    CHECK_FALSE(processes_with(file).empty());
  }
  // The credentials and the Hosts are gone: so are their runners.
  CHECK(eventually([&] { return processes_with(file).empty(); }));
}

TEST_CASE(
    "upgrade: with a pin file, a replaced file that is not pinned serves nobody, and the open credential "
    "says why") {
  auto &env = E2E::get();
  const std::string dir = env.dir + "/" + env.new_dir("pinned-upgrade");
  const std::string file = dir + "/credplug-hostile.so";
  install(kRelease1, file);
  const std::string pins = env.write_new("pins", "hostile " + plugin_file_sha256(kRelease1) + "\n");
  Host host(in_runners(dir, pins));
  auto open_before = host.open("hostile", credential("before"));
  CHECK(fresh_token(*open_before) == "Bearer hostile-token");

  install(kRelease2, file);
  try {
    host.open("hostile", credential("after"));
    FAIL("a file that is not pinned was loaded");
  } catch (const Error &e) {
    CHECK(contains(e.what(), plugin_file_sha256(kRelease2)));
  }
  crash_runners(file);
  try {
    fresh_token(*open_before);
    FAIL("a file that is not pinned ran");
  } catch (const Error &e) {
    INFO(std::string(e.what()));
    CHECK(contains(e.what(), "its replaced file may not load"));
    CHECK(contains(e.what(), plugin_file_sha256(kRelease2)));
  }
  install(kRelease1, file);  // back to the pinned file (a new inode): it runs again
  CHECK(eventually([&] {
    try {
      return fresh_token(*open_before) == "Bearer hostile-token";
    } catch (const Error &) {
      return false;  // the restart backoff
    }
  }));
}

TEST_CASE("upgrade: reload_plugins() finds a plugin file added while running") {
  auto &env = E2E::get();
  const std::string dir = env.dir + "/" + env.new_dir("reload");
  install(kRelease1, dir + "/credplug-hostile.so");
  Host host(in_runners(dir));
  CHECK(host.plugins().size() == 1);
  install(std::string(CREDPLUG_PLUGIN_DIR) + "/credplug-ainua.so", dir + "/credplug-ainua.so");
  CHECK(host.plugins().size() == 1);  // discovery ran once
  host.reload_plugins();
  auto found = host.plugins();
  REQUIRE(found.size() == 2);
  CHECK(found[0].id == "ainua");
  CHECK(found[1].id == "hostile");
}
