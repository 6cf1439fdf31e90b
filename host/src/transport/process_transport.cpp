#include "transport/process_transport.hpp"

#include "transport/runner_zygote.hpp"

#include "base/backoff.hpp"
#include "base/fork_guarded_mutex.hpp"
#include "base/fork_local.hpp"

#include "plugin/errno_text.hpp"
#include "plugin/plugin_paths.hpp"
#include "plugin/runner_protocol.hpp"
#include "secrets/logger.hpp"
#include "secrets/output_rules.hpp"
#include "transport/file_identity.hpp"
#include "transport/runner_frames.hpp"
#include "transport/runner_process.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

namespace credplug::host {

using runner::Decoder;
using runner::Msg;
using runner::ProtocolError;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Said once per process (every runner would say the same), to the first
// Host with a log: where the second wall is missing, and what that leaves.
void warn_without_namespaces(const std::string &why) {
  static std::atomic<bool> said{false};
  const Logger *log = process_logger();
  if (log == nullptr || said.exchange(true)) return;
  log->write(CREDPLUG_LOG_WARN, "plugin runners start without namespaces: " + why +
                                    "; plugin code may read, while it loads, any file its user can "
                                    "(docs/SANDBOX.md, \"Namespaces\")");
}

// A runner that ended is started again at once for the next call; if it
// ends again before a call succeeds, after 100 ms, doubling up to 30 s.
constexpr long kFirstBackoffMs = 100, kMaxBackoffMs = 30000;

long restart_backoff_ms(int ends_in_a_row) { return backoff_ms(ends_in_a_row - 1, kFirstBackoffMs, kMaxBackoffMs); }

int32_t fail(credplug_call &call, const std::string &message) {
  call.refused_output.clear();  // a crash is the news, not what came before it
  host_services()->set_error(&call, CREDPLUG_ERR_PLUGIN, message.c_str());
  return CREDPLUG_ERR_PLUGIN;
}

// "crashed (SIGABRT)" -> "crashed while loading (SIGABRT)".
std::string while_loading(const std::string &reason) {
  const std::string crashed = "crashed (";
  if (reason.compare(0, crashed.size(), crashed) == 0) return "crashed while loading (" + reason.substr(crashed.size());
  return reason + " while loading";
}

// Runs one call in the runner, to its Done frame, the runner's end or the
// call's deadline (which stops the runner).
int32_t exchange(RunnerProcess &r, const std::string &id, runner::Op op, uint64_t handle, std::string_view payload,
                 credplug_call &call, const char *what, uint64_t *created = nullptr) {
  uint32_t call_id = 0;
  auto inbox = r.open_call(call_id);
  struct Closer {
    RunnerProcess &r;
    uint32_t id;
    ~Closer() { r.close_call(id); }
  } closer{r, call_id};
  {
    std::string request = runner::encode_call(op, handle, payload,
                                              call.state && op != runner::Op::Create ? &call.state->reveal() : nullptr);
    if (!r.send(Msg::Call, call_id, request)) r.stop("");  // it is gone: say how it ended
    runner::wipe(request);
  }
  const auto budget =
      call.deadline_ms > 0 ? Clock::duration(milliseconds(call.deadline_ms)) : Clock::duration::max() / 2;
  // The call's time: the plugin's, and the host's on its frames (a flood
  // of add_secret frames costs the host, and counts); not the host's HTTPS.
  Clock::duration spent{0};
  auto since = Clock::now();
  CallFrames state;
  for (;;) {
    bool timed_out = spent >= budget;  // frames kept coming: queued ones do not wait for the deadline
    std::optional<runner::Frame> next;
    if (!timed_out) next = r.next(inbox, since + (budget - spent), &timed_out);
    if (timed_out) {
      const std::string limit = std::to_string(call.deadline_ms) + " ms";
      r.stop(std::string("was stopped (") + what + " ran past its deadline of " + limit + ")");
      return fail(call, "plugin '" + id + "' did not finish " + what + " within " + limit + "; its runner was stopped");
    }
    if (!next) return fail(call, "plugin '" + id + "' " + r.end_reason() + " during " + what + r.end_detail());
    runner::Frame &frame = *next;
    const auto https_before = state.https_time;
    bool done;
    try {
      std::string answer;
      done = apply_call_frame(frame, call, state, &answer);
      if (!answer.empty()) {
        r.send(Msg::HttpResult, call_id, answer);
        runner::wipe(answer);
      }
    } catch (const ProtocolError &e) {
      runner::wipe(frame.payload);
      r.stop(std::string("was stopped (it broke the runner protocol: ") + e.what() + ")");
      return fail(call, "plugin '" + id + "' broke the runner protocol during " + what + " (" + e.what() +
                            "); its runner was stopped");
    }
    runner::wipe(frame.payload);
    const auto now = Clock::now();
    spent += (now - since) - (state.https_time - https_before);
    since = now;
    if (done) {
      if (created) *created = state.created;
      return state.status;
    }
  }
}

// A runner that has loaded the plugin, and what it said of it.
struct Started {
  std::shared_ptr<RunnerProcess> runner;
  PluginDescription description;
  std::string schema;
};

Started start(const std::string &path, const RunnerProgram &program, long deadline_ms) {
  // The next runner's spare, asked for once this one has loaded (or not):
  // its start would take the CPU from this load.
  struct KeepSpare {
    const RunnerProgram &program;
    ~KeepSpare() { keep_spare_runner(program); }
  } keep_spare{program};
  Started s;
  try {
    s.runner = RunnerProcess::start(program, path);
  } catch (const std::exception &e) {
    throw LoadError(e.what());
  }
  auto inbox = s.runner->loading();
  const auto deadline = Clock::now() + milliseconds(deadline_ms);
  bool greeted = false;
  for (;;) {
    bool timed_out = false;
    std::optional<runner::Frame> next = s.runner->next(inbox, deadline, &timed_out);
    if (timed_out) {
      s.runner->stop("did not finish loading within " + std::to_string(deadline_ms) + " ms");
      throw LoadError("its runner did not finish loading it within " + std::to_string(deadline_ms) +
                      " ms and was stopped");
    }
    if (!next) throw LoadError(while_loading(s.runner->end_reason()) + s.runner->end_detail());
    runner::Frame &frame = *next;
    try {
      Decoder d(frame.payload);
      if (frame.type == Msg::Hello && !greeted) {
        std::string_view magic = d.str();
        uint32_t version = d.u32();
        d.end();
        if (magic != runner::kMagic || version != runner::kProtocolVersion)
          throw ProtocolError("it speaks protocol version " + std::to_string(version) + ", this host " +
                              std::to_string(runner::kProtocolVersion) + " (reinstall credplug)");
        greeted = true;
      } else if (frame.type == Msg::LoadFailed && greeted) {
        std::string why = displayable(d.str(), kMaxMessageBytes);
        s.runner->stop(why);
        throw LoadError(why);
      } else if (frame.type == Msg::Loaded && greeted) {
        s.description = parse_loaded(frame, path, s.schema);
        if (!s.description.namespaces) warn_without_namespaces(s.description.no_namespaces);
        s.runner->set_label(s.description.id);
        return s;
      } else {
        throw ProtocolError("it sent a frame of type " + std::to_string(int(frame.type)) + " while loading");
      }
    } catch (const ProtocolError &e) {
      s.runner->stop(std::string("broke the runner protocol (") + e.what() + ")");
      throw LoadError(std::string("its runner broke the protocol while loading it (") + e.what() + ")");
    }
  }
}

class ProcessTransport;

class ProcessInstance final : public PluginInstance {
 public:
  ProcessInstance(ProcessTransport &plugin, const SecretString &credential, std::shared_ptr<RunnerProcess> runner,
                  uint64_t handle)
      : plugin(plugin), credential(credential), runner(std::move(runner)), handle(handle) {}
  ~ProcessInstance() override;

  ProcessTransport &plugin;  // outlives it (PluginTransport::create())
  // To create the instance again in a runner started after a crash: the
  // credential's own copy, which outlives it (PluginTransport::create()).
  const SecretString &credential;
  std::mutex mutex;  // guards runner and handle
  std::shared_ptr<RunnerProcess> runner;
  uint64_t handle;
};

class ProcessTransport final : public PluginTransport {
 public:
  ProcessTransport(Started started, RunnerProgram program, long load_deadline_ms, LoadCheck check)
      : description_(std::move(started.description)),
        schema_(std::make_unique<CompiledSchema>(started.schema)),
        program_(std::move(program)),
        load_deadline_ms_(load_deadline_ms),
        check_(std::move(check)),
        runners_([this] { return std::make_unique<Runners>(description_); },
                 std::make_unique<Runners>(description_, std::move(started.runner))) {}

  const PluginDescription &description() const override { return description_; }
  const CompiledSchema &schema() const override { return *schema_; }
  const char *isolation() const override { return "process"; }

  int32_t create(credplug_call &call, const SecretString &credential_json,
                 std::unique_ptr<PluginInstance> &out) override {
    auto r = running(call, "create");
    if (!r) return CREDPLUG_ERR_PLUGIN;
    uint64_t handle = 0;
    int32_t rc = create_in(*r, credential_json.view(), call, handle);
    if (rc == CREDPLUG_OK) out = std::make_unique<ProcessInstance>(*this, credential_json, r, handle);
    return rc;
  }

  int32_t invoke(PluginOp op, PluginInstance &instance, credplug_call &call) override {
    auto &inst = static_cast<ProcessInstance &>(instance);
    auto r = running(call, op_name(op));
    if (!r) return CREDPLUG_ERR_PLUGIN;
    uint64_t handle;
    {
      std::lock_guard<std::mutex> lock(inst.mutex);
      if (inst.runner != r) {  // its runner ended: make the instance again in this one
        uint64_t made = 0;
        if (int32_t rc = create_in(*r, inst.credential.view(), call, made); rc != CREDPLUG_OK) return rc;
        inst.runner = r;
        inst.handle = made;
      }
      handle = inst.handle;
    }
    runner::Op wire = op == PluginOp::Authenticate ? runner::Op::Authenticate
                      : op == PluginOp::Test       ? runner::Op::Test
                      : op == PluginOp::Refresh    ? runner::Op::Refresh
                      : op == PluginOp::Authorize  ? runner::Op::Authorize
                      : op == PluginOp::Revoke     ? runner::Op::Revoke
                                                   : runner::Op::Sign;
    std::string request;
    if (op == PluginOp::Sign) {
      if (call.signing == nullptr) return CREDPLUG_ERR_PLUGIN;
      request = runner::encode_sign_request(*call.signing);
    } else if (op == PluginOp::Authorize) {
      if (call.authorization == nullptr) return CREDPLUG_ERR_PLUGIN;
      request = runner::encode_authorization(*call.authorization);
    }
    int32_t rc = exchange(*r, description_.id, wire, handle, request, call, op_name(op));
    runner::wipe(request);
    if (rc == CREDPLUG_OK) {
      std::atomic<int> &ends = runners_.get().ends_in_a_row;
      if (ends.load(std::memory_order_relaxed) != 0) ends.store(0);
    }
    return rc;
  }

  // Not waited for: nothing comes back from destroy(), and a credential's
  // close should not cost a round trip. The runner bounds it (runner_main.cpp).
  void destroy(ProcessInstance &inst) {
    std::lock_guard<std::mutex> lock(inst.mutex);
    if (!inst.runner || inst.runner->ended()) return;
    inst.runner->post(runner::encode_call(runner::Op::Destroy, inst.handle));
  }

 private:
  // create() in runner `r`: CREDPLUG_OK with `handle` set, or an error (an
  // instance a failed create() made is destroyed). The runner serialises
  // create() and destroy() itself (plugin.h): no lock here is held across a
  // round trip.
  int32_t create_in(RunnerProcess &r, std::string_view credential_json, credplug_call &call, uint64_t &handle) {
    handle = 0;
    int32_t rc = exchange(r, description_.id, runner::Op::Create, 0, credential_json, call, "create", &handle);
    if (rc == CREDPLUG_OK && handle == 0) rc = CREDPLUG_ERR_PLUGIN;
    if (rc != CREDPLUG_OK && handle != 0) {
      r.post(runner::encode_call(runner::Op::Destroy, handle));
      handle = 0;
    }
    return rc;
  }

  // The live runner, started again if it ended and its backoff has passed;
  // nullptr, with the reason on `call`, when there is none.
  std::shared_ptr<RunnerProcess> running(credplug_call &call, const char *what) {
    Runners &here = runners_.get();
    std::lock_guard<std::mutex> lock(here.mutex);
    if (here.runner && !here.runner->ended()) return here.runner;
    const auto now = Clock::now();
    const std::string plugin = "plugin '" + description_.id + "'";
    if (here.runner) {
      here.last_end = here.runner->end_reason() + here.runner->end_detail();
      here.restart_at = now + milliseconds(restart_backoff_ms(++here.ends_in_a_row));
      here.runner.reset();
    }
    if (now < here.restart_at) {
      auto wait = std::chrono::duration_cast<milliseconds>(here.restart_at - now).count() + 1;
      fail(call, plugin + " is not running (its runner " + here.last_end + "); it is started again in " +
                     std::to_string(wait) + " ms, for the next " + what);
      return nullptr;
    }
    try {
      // A replaced file (an upgrade) is started only if it may be loaded:
      // a safe path and, with a pin file, a pinned hash. The instances are
      // created again in it from their credentials.
      const FileIdentity now_file = identity_of(description_.path);
      const bool replaced = now_file != here.file;
      if (replaced) check_(description_.path);
      Started s = start(description_.path, program_, load_deadline_ms_);
      if (s.description.id != description_.id) throw LoadError("its file now holds plugin '" + s.description.id + "'");
      if (replaced) {
        here.file = now_file;
        if (const Logger *log = process_logger())
          log->write(CREDPLUG_LOG_INFO, plugin + " started again from its replaced file " + description_.path +
                                            " (version " + displayable(s.description.version, 64) + ", was " +
                                            displayable(here.version, 64) + ")");
        here.version = s.description.version;
      }
      here.runner = std::move(s.runner);
      return here.runner;
    } catch (const std::exception &e) {
      here.last_end = std::string("could not be started again: ") + e.what();
      here.restart_at = Clock::now() + milliseconds(restart_backoff_ms(++here.ends_in_a_row + 1));
      fail(call, plugin + " " + here.last_end);
      return nullptr;
    }
  }

  // This process's runner of the plugin: a child of fork() starts its own
  // (it never writes to its parent's, nor reads what it answers).
  struct Runners {
    std::mutex mutex;  // guards what follows
    std::shared_ptr<RunnerProcess> runner;
    std::string last_end;
    std::atomic<int> ends_in_a_row{0};  // runners ended (or not started) since a call last succeeded
    Clock::time_point restart_at{};
    FileIdentity file;    // the file its runners run
    std::string version;  // of the plugin in it, for the log line of an upgrade
    explicit Runners(const PluginDescription &loaded, std::shared_ptr<RunnerProcess> first = nullptr)
        : runner(std::move(first)), file(loaded.file), version(loaded.version) {}
  };

  const PluginDescription description_;
  const std::unique_ptr<CompiledSchema> schema_;
  const RunnerProgram program_;
  const long load_deadline_ms_;
  const LoadCheck check_;  // for a replaced file
  ForkLocal<Runners> runners_;
};

ProcessInstance::~ProcessInstance() {
  try {
    plugin.destroy(*this);
  } catch (...) {  // out of memory: the runner frees it when it ends
  }
}

// The plugins loaded in runners, by file (and its identity: a changed file
// is loaded afresh) and how they run; held by the Hosts and credentials
// using them, and ended (their runners too) with the last. Kept by a child
// of fork(): its credentials hold these plugins, and it starts runners of
// its own for them.
struct Registry {
  ForkGuardedMutex mutex{ForkGuardedMutex::kRunnerPlugins};
  std::map<std::string, std::weak_ptr<ProcessTransport>> loaded;
};

Registry &registry() {
  static auto *r = new Registry();  // never destroyed: runners are ended by the channel closing at exit
  return *r;
}

}  // namespace

std::shared_ptr<PluginTransport> load_in_runner(const std::string &path, const RunnerProgram &program,
                                                long load_deadline_ms, const LoadCheck &check,
                                                const std::string &check_key) {
  const FileIdentity file = identity_of(path);
  // A Host with a runner of its own, or other rules for a replaced file, gets its own.
  const std::string key = canonical_path(path) + '\0' + file.key() + '\0' + program.path + '\0' +
                          (program.keep_stderr ? '1' : '0') + (program.keep_host_dumpable ? '1' : '0') +
                          (program.namespaces ? '1' : '0') + '\0' + check_key;
  Registry &r = registry();
  {
    std::lock_guard<ForkGuardedMutex> lock(r.mutex);
    if (auto existing = r.loaded.find(key); existing != r.loaded.end())
      if (auto alive = existing->second.lock()) return alive;
  }
  // Started unlocked: discovery starts the runners of many files at once.
  Started s = start(path, program, load_deadline_ms);
  s.description.file = file;
  const std::string id = s.description.id;
  auto runner = s.runner;
  std::shared_ptr<ProcessTransport> plugin;
  try {
    plugin = std::make_shared<ProcessTransport>(std::move(s), program, load_deadline_ms, check);
  } catch (const std::exception &e) {  // the schema does not compile
    runner->stop("was stopped (its plugin's schema does not compile)");
    throw LoadError("plugin '" + id + "': " + e.what());
  }
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  for (auto it = r.loaded.begin(); it != r.loaded.end();)
    it = it->second.expired() ? r.loaded.erase(it) : std::next(it);
  auto &slot = r.loaded[key];
  if (auto alive = slot.lock()) {
    runner->stop("was not needed (the plugin was loaded by another thread meanwhile)");
    return alive;
  }
  slot = plugin;
  return plugin;
}

}  // namespace credplug::host
