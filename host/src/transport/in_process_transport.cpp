#include "transport/in_process_transport.hpp"

#include "base/fork_guarded_mutex.hpp"
#include "base/fork_local.hpp"
#include "plugin/plugin_paths.hpp"
#include "transport/plugin_call_marker.hpp"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>

namespace credplug::host {

const char *op_name(PluginOp op) {
  switch (op) {
    case PluginOp::Authenticate:
      return "authenticate";
    case PluginOp::Test:
      return "test";
    case PluginOp::Refresh:
      return "refresh";
    case PluginOp::Sign:
      return "sign";
    case PluginOp::Authorize:
      return "authorize";
    case PluginOp::Revoke:
      return "revoke";
  }
  return "call";
}

namespace {

class InProcessTransport;

class InProcessInstance final : public PluginInstance {
 public:
  InProcessInstance(std::shared_ptr<InProcessTransport> plugin, credplug_instance *instance);
  ~InProcessInstance() override;
  credplug_instance *const instance;

 private:
  std::shared_ptr<InProcessTransport> plugin_;
};

class InProcessTransport final : public PluginTransport, public std::enable_shared_from_this<InProcessTransport> {
 public:
  InProcessTransport(std::string path, OpenedPlugin opened, std::unique_ptr<CompiledSchema> schema,
                     const FileIdentity &file)
      : opened_(opened), schema_(std::move(schema)) {
    const credplug_plugin *d = opened.descriptor;
    description_ = {d->id,
                    d->display_name,
                    d->version,
                    std::move(path),
                    opened.abi_major,
                    opened.abi_minor,
                    opened.test != nullptr,
                    opened.refresh != nullptr,
                    opened.concurrent_instance,
                    opened.sign != nullptr,
                    opened.authorize != nullptr,
                    opened.revoke != nullptr,
                    opened.default_token_lifetime_s,
                    false,
                    "in-process isolation runs plugin code in this process, behind no wall",
                    file};
  }

  const PluginDescription &description() const override { return description_; }
  const CompiledSchema &schema() const override { return *schema_; }
  const char *isolation() const override { return "in-process"; }

  int32_t create(credplug_call &call, const SecretString &credential_json,
                 std::unique_ptr<PluginInstance> &out) override {
    credplug_instance *made = nullptr;
    int32_t rc;
    {
      std::lock_guard<std::mutex> lock(lifecycle_.get());
      PluginCallMarker marker(description_.id.c_str(), "create");
      rc = opened_.descriptor->create(&call, credential_json.c_str(), credential_json.size(), &made);
      if (made != nullptr) ++live_instances_;
    }
    // An instance made by a create() that failed is still the plugin's to free.
    if (made != nullptr) out = std::make_unique<InProcessInstance>(shared_from_this(), made);
    if (rc == CREDPLUG_OK && made == nullptr) rc = CREDPLUG_ERR_PLUGIN;
    if (rc != CREDPLUG_OK) out.reset();
    return rc;
  }

  int32_t invoke(PluginOp op, PluginInstance &instance, credplug_call &call) override {
    auto *inst = static_cast<InProcessInstance &>(instance).instance;
    PluginCallMarker marker(description_.id.c_str(), op_name(op));
    switch (op) {
      case PluginOp::Authenticate:
        return opened_.descriptor->authenticate(inst, &call);
      case PluginOp::Test:
        return opened_.test ? opened_.test(inst, &call) : CREDPLUG_ERR_PLUGIN;
      case PluginOp::Refresh:
        return opened_.refresh ? opened_.refresh(inst, &call) : CREDPLUG_ERR_PLUGIN;
      case PluginOp::Sign:
        return opened_.sign && call.signing ? opened_.sign(inst, &call, call.signing) : CREDPLUG_ERR_PLUGIN;
      case PluginOp::Authorize:
        return opened_.authorize && call.authorization ? opened_.authorize(inst, &call, call.authorization)
                                                       : CREDPLUG_ERR_PLUGIN;
      case PluginOp::Revoke:
        return opened_.revoke ? opened_.revoke(inst, &call) : CREDPLUG_ERR_PLUGIN;
    }
    return CREDPLUG_ERR_PLUGIN;
  }

  void destroy(credplug_instance *instance) {
    std::lock_guard<std::mutex> lock(lifecycle_.get());
    PluginCallMarker marker(description_.id.c_str(), "destroy");
    if (opened_.destroy) opened_.destroy(instance);
    --live_instances_;
  }

  // At exit, for a plugin with no instance left (plugin.h, "Lifetime").
  void shut_down() {
    std::lock_guard<std::mutex> lock(lifecycle_.get());
    PluginCallMarker marker(description_.id.c_str(), "shutdown");
    if (initialised_ && opened_.shutdown != nullptr && live_instances_.load() == 0) opened_.shutdown();
    initialised_ = false;
  }

  bool initialised_ = true;

 private:
  OpenedPlugin opened_;
  std::unique_ptr<CompiledSchema> schema_;
  PluginDescription description_;
  // Serialises create() and destroy(); per process (a child of fork() does
  // not wait for a create() its parent's thread was in).
  ForkLocal<std::mutex> lifecycle_{[] { return std::make_unique<std::mutex>(); }};
  std::atomic<long> live_instances_{0};
};

InProcessInstance::InProcessInstance(std::shared_ptr<InProcessTransport> plugin, credplug_instance *instance)
    : instance(instance), plugin_(std::move(plugin)) {}

InProcessInstance::~InProcessInstance() { plugin_->destroy(instance); }

std::shared_ptr<InProcessTransport> load_fresh(const std::string &path) {
  PluginCallMarker marker(path.c_str(), "load");  // constructors, credplug_get_interface(), init()
  const FileIdentity file = identity_of(path);
  OpenedPlugin opened = open_plugin(path);
  const std::string id = opened.descriptor->id;
  std::unique_ptr<CompiledSchema> schema;
  try {
    schema = std::make_unique<CompiledSchema>(opened.descriptor->credential_schema);
  } catch (const std::exception &e) {
    throw LoadError("plugin '" + id + "': " + e.what());
  }
  if (opened.init != nullptr) {
    int32_t rc = opened.init(host_services());
    if (rc != CREDPLUG_OK)
      throw LoadError("plugin '" + id + "' refused to initialise (status " + std::to_string(rc) + ")");
  }
  return std::make_shared<InProcessTransport>(path, opened, std::move(schema), file);
}

// Every plugin loaded in this process, by canonical path. Kept for the life
// of the process, so init() runs once however many Hosts come and go, and
// shutdown() runs last, at exit (plugin.h, "Lifetime").
// fork() waits for a load under way: a child keeps the plugins (its code is
// mapped, init() has run), so a plugin that forks while it loads hangs.
struct Registry {
  ForkGuardedMutex mutex{ForkGuardedMutex::kInProcessPlugins};
  std::map<std::string, std::shared_ptr<InProcessTransport>> loaded;
};

Registry &registry() {
  static auto *r = new Registry();  // never destroyed: plugins outlive every static
  return *r;
}

// A plugin whose instances are still alive (an embedder that never destroyed
// its Host) is not shut down under them.
void shut_down_plugins() {
  Registry &r = registry();
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  for (auto &[path, plugin] : r.loaded) plugin->shut_down();
}

}  // namespace

std::shared_ptr<PluginTransport> load_in_process(const std::string &path) {
  const std::string key = canonical_path(path);
  Registry &r = registry();
  std::lock_guard<ForkGuardedMutex> lock(r.mutex);
  if (auto existing = r.loaded.find(key); existing != r.loaded.end()) return existing->second;
  auto plugin = load_fresh(path);
  static const bool registered = std::atexit(shut_down_plugins) == 0;
  (void)registered;
  r.loaded[key] = plugin;
  return plugin;
}

}  // namespace credplug::host
