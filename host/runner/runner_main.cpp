// credplug-plugin-runner: loads one plugin file and serves it to the host
// that started it, over the socketpair on descriptor 3, inside a sandbox.
//
//   credplug-plugin-runner --protocol 1 [--no-namespaces] PLUGIN.so
//   credplug-plugin-runner --protocol 1 --zygote ROOM   (zygote.hpp)
//
// The host starts it with an empty environment and /dev/null as 0-2; it
// ends when the host closes the channel (or the host ends it). Plugins are
// not rebuilt for it: they get the same C ABI, whose services travel as
// frames (runner_protocol.hpp).
#include "activity_watch.hpp"
#include "namespaces.hpp"
#include "plugin_open.hpp"
#include "runner_dispatch.hpp"
#include "runner_protocol.hpp"
#include "runner_services.hpp"
#include "sandbox.hpp"
#include "sanitizer_reports.hpp"
#include "zygote.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace credplug::runner {
namespace {

host::OpenedPlugin g_plugin;
// create() and destroy() never run at once (plugin.h, "Thread contract").
std::mutex g_lifecycle;

// Instances by the handle the host knows them by, with the calls running on
// each: destroy() waits until none is, so plugin code never sees its
// instance freed under a running call, whatever order frames arrive in.
// (The host sends Destroy only after a credential's calls are answered, but
// that order passes through another process: this makes it the runner's
// own, and visible to ThreadSanitizer, which reported the call's reads and
// destroy()'s writes as a race while it was not.)
struct Instance {
  credplug_instance *plugin_instance = nullptr;
  int running = 0;
};
std::mutex g_instances_mutex;
std::condition_variable g_instance_idle;
std::map<uint64_t, Instance> g_instances;
uint64_t g_next_handle = 1;

// An instance held for one call; nullptr inside when there is no such handle.
class InstanceHold {
 public:
  explicit InstanceHold(uint64_t handle) : handle_(handle) {
    std::lock_guard<std::mutex> lock(g_instances_mutex);
    if (auto it = g_instances.find(handle); it != g_instances.end()) {
      ++it->second.running;
      held_ = it->second.plugin_instance;
    }
  }
  ~InstanceHold() {
    if (held_ == nullptr) return;
    std::lock_guard<std::mutex> lock(g_instances_mutex);
    if (auto it = g_instances.find(handle_); it != g_instances.end() && --it->second.running == 0)
      g_instance_idle.notify_all();
  }
  InstanceHold(const InstanceHold &) = delete;
  InstanceHold &operator=(const InstanceHold &) = delete;
  credplug_instance *get() const { return held_; }

 private:
  uint64_t handle_;
  credplug_instance *held_ = nullptr;
};

// Takes the instance out of the map once no call runs on it; nullptr when
// there is no such handle.
credplug_instance *take_for_destroy(uint64_t handle) {
  std::unique_lock<std::mutex> lock(g_instances_mutex);
  auto it = g_instances.end();
  g_instance_idle.wait(lock, [&] {  // found again each time: a second Destroy may have taken it
    it = g_instances.find(handle);
    return it == g_instances.end() || it->second.running == 0;
  });
  if (it == g_instances.end()) return nullptr;
  credplug_instance *gone = it->second.plugin_instance;
  g_instances.erase(it);
  return gone;
}

// The host does not wait for destroy() (a credential's close costs no round
// trip), so the runner bounds it itself: one that runs past 5 s ends the
// runner, saying why; the host starts another for the next call. (destroy()
// calls run one at a time, under g_lifecycle.)
class DestroyWatchdog {
 public:
  void begin() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_started_) {
      std::thread([this] { watch(); }).detach();
      thread_started_ = true;
    }
    since_ = std::chrono::steady_clock::now();
    changed_.notify_one();
  }
  void end() {
    std::lock_guard<std::mutex> lock(mutex_);
    since_.reset();
  }

 private:
  static constexpr std::chrono::seconds kLimit{5};
  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (!since_) {
        changed_.wait(lock);
      } else if (std::chrono::steady_clock::now() >= *since_ + kLimit) {
        end_runner("destroy() ran past 5 s: the plugin's runner ends (a new one serves the next call)", 70);
      } else {
        changed_.wait_until(lock, *since_ + kLimit);
      }
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::chrono::steady_clock::time_point> since_;
  bool thread_started_ = false;
};

DestroyWatchdog &destroy_watchdog() {
  static auto *w = new DestroyWatchdog();  // its thread outlives main()'s frames
  return *w;
}

// The host gone while every thread is busy in plugin code (a call that never
// returns, the host killed before its deadline): nobody would read the end of
// the channel. This thread sees the hang-up without reading, leaves the
// others a grace period to finish (what the host sent last, shutdown()), then
// ends the runner.
void watch_for_hangup() {
  std::thread([] {
    pollfd p{kChannelFd, 0, 0};  // no events asked: only POLLHUP and POLLERR come back
    while (::poll(&p, 1, -1) < 0 || (p.revents & (POLLHUP | POLLERR)) == 0) {
    }
    std::this_thread::sleep_for(std::chrono::seconds(5));
    _exit(0);
  }).detach();
}

void fail(credplug_call &call, const char *why) { runner_services()->set_error(&call, CREDPLUG_ERR_PLUGIN, why); }

// Runs one Call frame to its Done frame.
void run_call(Frame &frame) {
  credplug_call call;
  call.id = frame.call;
  call_begins();
  int32_t rc = CREDPLUG_ERR_PLUGIN;
  uint64_t created = 0;
  try {
    Decoder d(frame.payload);
    auto op = Op(d.u8());
    uint64_t handle = d.u64();
    std::string_view json = d.str();
    const bool has_state = d.u8() != 0;
    std::string_view state = d.str();
    d.end();
    if (has_state) call.state = std::string(state);
    if (op == Op::Create) {
      // create() reads a NUL-terminated copy (plugin.h), wiped afterwards.
      std::string text(json);
      credplug_instance *made = nullptr;
      {
        std::lock_guard<std::mutex> lifecycle(g_lifecycle);
        rc = g_plugin.descriptor->create(&call, text.c_str(), text.size(), &made);
      }
      wipe(text);
      if (rc == CREDPLUG_OK && made != nullptr) {
        std::lock_guard<std::mutex> lock(g_instances_mutex);
        created = g_next_handle++;
        g_instances[created] = Instance{made, 0};
      }
    } else if (op == Op::Destroy) {
      credplug_instance *gone = take_for_destroy(handle);
      if (gone && g_plugin.destroy) {
        std::lock_guard<std::mutex> lifecycle(g_lifecycle);
        destroy_watchdog().begin();
        g_plugin.destroy(gone);
        destroy_watchdog().end();
      }
      rc = CREDPLUG_OK;
    } else if (op == Op::Sign) {
      const InstanceHold held(handle);
      credplug_instance *inst = held.get();
      const DecodedSignRequest request(json);
      if (inst == nullptr)
        fail(call, "the runner has no such instance");
      else if (g_plugin.sign == nullptr)
        fail(call, "the plugin has no such function");
      else
        rc = g_plugin.sign(inst, &call, &request.get());
    } else if (op == Op::Authorize) {
      const InstanceHold held(handle);
      credplug_instance *inst = held.get();
      const DecodedAuthorization authorization(json);
      if (inst == nullptr)
        fail(call, "the runner has no such instance");
      else if (g_plugin.authorize == nullptr)
        fail(call, "the plugin has no such function");
      else
        rc = g_plugin.authorize(inst, &call, &authorization.get());
    } else {
      const InstanceHold held(handle);
      credplug_instance *inst = held.get();
      decltype(credplug_plugin::authenticate) fn = op == Op::Authenticate ? g_plugin.descriptor->authenticate
                                                   : op == Op::Test       ? g_plugin.test
                                                   : op == Op::Refresh    ? g_plugin.refresh
                                                   : op == Op::Revoke     ? g_plugin.revoke
                                                                          : nullptr;
      if (inst == nullptr)
        fail(call, "the runner has no such instance");
      else if (fn == nullptr)
        fail(call, "the plugin has no such function");
      else
        rc = fn(inst, &call);
    }
  } catch (const std::exception &) {
    fail(call, "the runner could not read the host's request");
  }
  wipe(frame.payload);
  if (call.state) wipe(*call.state);
  call_ends();
  Encoder e;
  e.u32(uint32_t(rc)).u64(created);
  send_with_queued(call, Msg::Done, e.bytes());
}

[[noreturn]] void load_failed(const std::string &why) {
  Encoder e;
  e.str(why);
  send_frame(Msg::LoadFailed, 0, e.bytes());
  _exit(0);
}

// Whatever the host's process had open and did not mark close-on-exec.
void close_other_descriptors() { closefrom(kChannelFd + 1); }

// The plugin file's path from /, as the file view keeps it (the host may
// name it relative to its working directory).
std::string absolute(const char *path) {
  if (path[0] == '/') return path;
  char here[4096];
  if (getcwd(here, sizeof here) == nullptr) return path;
  return std::string(here) + "/" + path;
}

// Reads exactly `n` bytes from the channel; false when the host is gone.
bool read_exactly(char *into, size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(kChannelFd, into, n, MSG_WAITALL);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    into += got;
    n -= size_t(got);
  }
  return true;
}

// A spare runner's plugin: the Load frame the host sends it, read exactly
// (nothing follows it before Loaded) and bounded. Ends the runner when the
// host goes without sending one (it had no plugin for it).
std::string wait_for_plugin() {
  char header[9];  // u32 length, u8 type, u32 call
  if (!read_exactly(header, sizeof header)) _exit(0);
  uint32_t length, call;
  std::memcpy(&length, header, sizeof length);
  std::memcpy(&call, header + 5, sizeof call);
  if (Msg(header[4]) != Msg::Load || call != 0 || length < 5 + 4 || length - 5 > 4 + PATH_MAX)
    load_failed("the host sent a spare runner something other than its plugin file");
  std::string payload(length - 5, '\0');
  if (!read_exactly(payload.data(), payload.size())) _exit(0);
  std::string path;
  try {
    Decoder d(payload);
    path = std::string(d.str());
    d.end();
  } catch (const std::exception &) {
  }
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos)
    load_failed("the host sent a spare runner a plugin path that is not absolute");
  return path;
}

// `given_path` nullptr: a spare runner (zygote.hpp), told its plugin by the
// host once it has done what it can without it.
int serve(const char *given_path, bool namespaces, const std::function<void(const char *)> &name_as) {
  signal(SIGPIPE, SIG_IGN);
  close_other_descriptors();
  clearenv();  // NOLINT(concurrency-mt-unsafe): before any thread of the plugin exists
  set_channel(kChannelFd);
  {
    Encoder hello;
    hello.str(kMagic).u32(kProtocolVersion);
    if (!send_frame(Msg::Hello, 0, hello.bytes())) return 1;
  }
  // The second wall first (it needs the host's file system and one thread),
  // then the first: no code of the plugin runs outside a filter, the first
  // stage is in force before the file is opened (constructors run in
  // dlopen()).
  std::string path = given_path != nullptr ? absolute(given_path) : std::string();
  // What the runner keeps open, opened in the process that loads the plugin
  // while the host's file system is in view (sanitizer builds: before the
  // sandbox forbids opening the report file).
  const auto open_kept_files = [id = long(getpid())] {
    open_own_stat();
    keep_sanitizer_reports(id);
  };
  NamespaceOutcome walls;
  try {
    if (namespaces)
      walls = enter_namespaces(open_kept_files, name_as);
    else
      walls.why_not = "the host asked for runners without namespaces (runners_without_namespaces)";
    if (!walls.entered) open_kept_files();
    prepare_sandbox();
  } catch (const std::exception &e) {
    load_failed(std::string("the sandbox could not be set up: ") + e.what());
  }
  if (given_path == nullptr) {
    path = wait_for_plugin();
    if (name_as) name_as(path.c_str());
    if (walls.entered) name_outside(path);
  }
  try {
    if (walls.entered) finish_view(path);
    enter_load_sandbox();
  } catch (const std::exception &e) {
    load_failed(std::string("the sandbox could not be set up: ") + e.what());
  }
  try {
    g_plugin = host::open_plugin(path);
  } catch (const std::exception &e) {
    load_failed(e.what());
  }
  if (g_plugin.init != nullptr) {
    int32_t rc = g_plugin.init(runner_services());
    if (rc != CREDPLUG_OK)
      load_failed(std::string("plugin '") + g_plugin.descriptor->id + "' refused to initialise (status " +
                  std::to_string(rc) + ")");
  }
  try {
    enter_call_sandbox();
  } catch (const std::exception &e) {
    load_failed(std::string("the sandbox could not be set up: ") + e.what());
  }
  const credplug_plugin *d = g_plugin.descriptor;
  Encoder loaded;
  loaded.str(d->id).str(d->display_name).str(d->version).str(d->credential_schema);
  loaded.u32(g_plugin.abi_major).u32(g_plugin.abi_minor);
  loaded.u32((g_plugin.test ? kHasTest : 0) | (g_plugin.refresh ? kHasRefresh : 0) |
             (g_plugin.destroy ? kHasDestroy : 0) | (g_plugin.concurrent_instance ? kConcurrentInstance : 0) |
             (g_plugin.sign ? kHasSign : 0) | (g_plugin.authorize ? kHasAuthorize : 0) |
             (g_plugin.revoke ? kHasRevoke : 0));
  loaded.u32(g_plugin.default_token_lifetime_s);
  loaded.u32(walls.entered ? 1 : 0).str(walls.why_not);
  if (!send_frame(Msg::Loaded, 0, loaded.bytes())) return 1;

  watch_for_hangup();
  start_activity_watch();
  const bool quiet = serve_calls(kChannelFd, [](Frame &frame) { run_call(frame); });
  // The host is gone or done: nothing more will be asked. shutdown() is the
  // last call, and only once every instance is destroyed with no call
  // running (plugin.h, "Lifetime"); otherwise the runner ends without it.
  bool none_left;
  {
    std::lock_guard<std::mutex> lock(g_instances_mutex);
    none_left = g_instances.empty();
  }
  if (quiet && none_left && g_plugin.shutdown) g_plugin.shutdown();
  _exit(0);
}

}  // namespace
}  // namespace credplug::runner

int main(int argc, char **argv) {
  if (argc == 5 && std::strcmp(argv[1], "--protocol") == 0 && std::strcmp(argv[3], "--zygote") == 0 &&
      std::strtoul(argv[2], nullptr, 10) == credplug::runner::kProtocolVersion) {
    closefrom(credplug::runner::kChannelFd + 1);
    clearenv();  // NOLINT(concurrency-mt-unsafe): one thread
    credplug::runner::serve_as_zygote(
        credplug::runner::kChannelFd, argc, argv,
        [](const char *path, bool walls, const std::function<void(const char *)> &name_as) {
          return credplug::runner::serve(path, walls, name_as);
        });
  }
  const bool namespaces = !(argc == 5 && std::strcmp(argv[3], "--no-namespaces") == 0);
  if (argc != (namespaces ? 4 : 5) || std::strcmp(argv[1], "--protocol") != 0) {
    static const char usage[] =
        "usage: credplug-plugin-runner --protocol N [--no-namespaces] PLUGIN.so | --protocol N --zygote ROOM (started "
        "by the credplug host)\n";
    (void)!write(2, usage, sizeof usage - 1);
    return 2;
  }
  if (std::strtoul(argv[2], nullptr, 10) != credplug::runner::kProtocolVersion) {
    static const char wrong[] = "credplug-plugin-runner: the host speaks another protocol version\n";
    (void)!write(2, wrong, sizeof wrong - 1);
    return 2;
  }
  return credplug::runner::serve(argv[argc - 1], namespaces, nullptr);
}

// Sanitizer builds (CI): a crash in plugin code must end the runner by its
// signal, as in a release build, not by the sanitizer's report and exit(1);
// and the runner ends with _exit(), so there is no leak check to make.
extern "C" const char *__asan_default_options() {
  return "handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0:detect_leaks=0";
}
extern "C" const char *__tsan_default_options() {
  return "handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0";
}
