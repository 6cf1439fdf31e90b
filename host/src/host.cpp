#include <credplug/host.hpp>

#include "host_services.hpp"
#include "https_client.hpp"
#include "plugin_loader.hpp"
#include "redactor.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace fs = std::filesystem;

namespace credplug {

const char *to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidInput: return "invalid input";
    case ErrorKind::Rejected: return "credentials rejected";
    case ErrorKind::Network: return "network or TLS failure";
    case ErrorKind::Provider: return "provider error";
    case ErrorKind::Plugin: return "plugin failure";
  }
  return "error";
}

namespace {

ErrorKind kind_of(int32_t code) {
  switch (code) {
    case CREDPLUG_ERR_INVALID_CONFIG: return ErrorKind::InvalidInput;
    case CREDPLUG_ERR_REJECTED: return ErrorKind::Rejected;
    case CREDPLUG_ERR_NETWORK: return ErrorKind::Network;
    case CREDPLUG_ERR_PROVIDER: return ErrorKind::Provider;
    default: return ErrorKind::Plugin;
  }
}

long ms_since(std::chrono::steady_clock::time_point start) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
}

// <prefix>/lib/credplug/plugins, found from where this code lives: the
// executable in <prefix>/bin, or a shared host library in <prefix>/lib.
std::string default_plugin_dir() {
  std::error_code ec;
  fs::path here = fs::weakly_canonical(boost::dll::this_line_location(ec), ec).parent_path();
  if (ec) return "";
  fs::path beside_lib = here / "credplug" / "plugins";
  if (fs::is_directory(beside_lib, ec)) return beside_lib.string();
  return (here.parent_path() / "lib" / "credplug" / "plugins").lexically_normal().string();
}

std::vector<std::string> split_path_list(const char *text) {
  std::vector<std::string> out;
  if (text == nullptr) return out;
  std::string s(text);
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::vector<std::string> plugin_files(const std::string &dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".so" && it->is_regular_file(ec)) files.push_back(it->path().string());
  std::sort(files.begin(), files.end());
  return files;
}

PluginInfo info_of(const host::LoadedPlugin &p) {
  const auto *d = p.descriptor;
  return PluginInfo{d->id, d->display_name, d->version, p.path, p.abi_major, p.abi_minor, p.test != nullptr};
}

std::string join_errors(const Validation &v) {
  std::string out;
  for (const auto &e : v.errors) out += (out.empty() ? "" : "\n") + e.message;
  return out;
}

}  // namespace

// What a Host and its Credentials share (Credentials may outlive the Host).
struct Shared {
  host::HttpsClient http;
  host::Logger logger;
  explicit Shared(host::HttpOptions options) : http(std::move(options)) {}
};

struct Host::Impl {
  std::vector<std::string> dirs;
  std::shared_ptr<Shared> shared;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<host::LoadedPlugin>> by_id;
  std::map<std::string, std::string> by_path;  // path -> id, for loaded files
  std::map<std::string, std::string> problems;  // path -> why it could not be used
  bool scanned = false;

  // Loads one file (once); records a problem rather than throwing.
  void try_load(const std::string &path) {
    if (by_path.count(path) || problems.count(path)) return;
    try {
      auto plugin = host::load_plugin(path);
      std::string id = plugin->descriptor->id;
      if (auto it = by_id.find(id); it != by_id.end() && it->second != plugin) {
        problems[path] = "plugin '" + id + "' is shadowed by " + it->second->path + " (earlier in the search path)";
        return;
      }
      by_id[id] = plugin;
      by_path[path] = id;
    } catch (const std::exception &e) {
      problems[path] = e.what();
    }
  }

  void scan_all() {
    if (scanned) return;
    for (const auto &dir : dirs)
      for (const auto &file : plugin_files(dir)) try_load(file);
    scanned = true;
  }

  // A plugin instance for a credential that already passed the schema.
  std::unique_ptr<Credential> create(const std::shared_ptr<host::LoadedPlugin> &plugin, const std::string &id,
                                     std::string_view credential_json);

  std::shared_ptr<host::LoadedPlugin> find(const std::string &id) {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = by_id.find(id); it != by_id.end()) return it->second;
    // The conventional file name first, so one command loads one plugin.
    for (const auto &dir : dirs) {
      std::string path = (fs::path(dir) / ("credplug-" + id + ".so")).string();
      std::error_code ec;
      if (!fs::exists(path, ec)) continue;
      try_load(path);
      if (auto it = by_id.find(id); it != by_id.end()) return it->second;
      if (auto p = problems.find(path); p != problems.end())
        throw Error(ErrorKind::Plugin, "the plugin file for '" + id + "' (" + path + ") cannot be used: " + p->second);
    }
    scan_all();
    if (auto it = by_id.find(id); it != by_id.end()) return it->second;
    std::string known;
    for (const auto &[known_id, p] : by_id) known += (known.empty() ? "" : ", ") + known_id;
    std::string searched;
    for (const auto &d : dirs) searched += (searched.empty() ? "" : ", ") + d;
    throw Error(ErrorKind::InvalidInput, "no plugin with id '" + id + "'; available: " + (known.empty() ? "none" : known) +
                                             " (searched: " + (searched.empty() ? "no directories" : searched) + ")");
  }
};

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>()) {
  host::HttpOptions http;
  http.ca_file = options.ca_file;
  if (http.ca_file.empty() && options.use_environment)
    if (const char *ca = std::getenv("CREDPLUG_CA_FILE")) http.ca_file = ca;
  http.connect_timeout_ms = options.connect_timeout_ms;
  http.total_timeout_ms = options.total_timeout_ms;
  http.max_response_bytes = options.max_response_bytes;
  impl_->shared = std::make_shared<Shared>(std::move(http));
  impl_->shared->logger.sink = std::move(options.log);
  impl_->shared->logger.level = options.log_level;
  host::set_process_logger(&impl_->shared->logger);

  std::set<std::string> seen;
  auto add_dir = [&](const std::string &d) {
    if (!d.empty() && seen.insert(d).second) impl_->dirs.push_back(d);
  };
  for (const auto &d : options.plugin_dirs) add_dir(d);
  if (options.use_environment)
    for (const auto &d : split_path_list(std::getenv("CREDPLUG_PLUGIN_PATH"))) add_dir(d);
  if (options.use_default_dir) add_dir(default_plugin_dir());
}

Host::~Host() { host::clear_process_logger(&impl_->shared->logger); }

std::vector<std::string> Host::search_path() const { return impl_->dirs; }

std::vector<PluginInfo> Host::plugins() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->scan_all();
  std::vector<PluginInfo> out;
  for (const auto &[id, p] : impl_->by_id) out.push_back(info_of(*p));
  return out;
}

std::vector<PluginProblem> Host::problems() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->scan_all();
  std::vector<PluginProblem> out;
  for (const auto &[path, why] : impl_->problems) out.push_back({path, why});
  return out;
}

PluginInfo Host::plugin(const std::string &id) { return info_of(*impl_->find(id)); }

std::string Host::schema(const std::string &id) { return impl_->find(id)->schema->text(); }

Validation Host::validate(const std::string &id, std::string_view credential_json) {
  auto plugin = impl_->find(id);
  Validation v = plugin->schema->validate(credential_json);
  if (!v.ok()) return v;
  // Then the plugin's own configuration checks: create() runs them and makes
  // no network calls (plugin.h), so a rule a schema cannot express — with the
  // corrected value in its message — is caught here too.
  try {
    impl_->create(plugin, id, credential_json);
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::InvalidInput) throw;
    v.errors.push_back({"", "plugin", e.what()});
  }
  return v;
}

// ---------------------------------------------------------------------------

struct Credential::Impl {
  std::shared_ptr<host::LoadedPlugin> plugin;
  std::shared_ptr<Shared> shared;
  host::Redactor redactor;
  credplug_instance *instance = nullptr;
  std::mutex call_mutex;  // used unless the plugin allows concurrent calls
  std::string id;

  credplug_call make_call() {
    credplug_call call;
    call.redactor = &redactor;
    call.http = &shared->http;
    call.logger = &shared->logger;
    call.log_prefix = "[" + id + "] ";
    return call;
  }

  // Turns a failed plugin call into an Error with a redacted message.
  [[noreturn]] void raise(const credplug_call &call, int32_t rc, const char *what) {
    int32_t code = call.error_set && call.error_code != CREDPLUG_OK ? call.error_code : rc;
    std::string message = call.error_set && !call.error_message.empty()
                              ? call.error_message
                              : "the plugin's " + std::string(what) + "() failed with status " + std::to_string(rc) +
                                    " and gave no reason";
    throw Error(kind_of(code), redactor.apply(message));
  }

  template <class F>
  int32_t run(F &&f) {
    if (plugin->concurrent_instance) return f();
    std::lock_guard<std::mutex> lock(call_mutex);
    return f();
  }
};

std::unique_ptr<Credential> Host::Impl::create(const std::shared_ptr<host::LoadedPlugin> &plugin, const std::string &id,
                                               std::string_view credential_json) {
  auto impl = std::make_unique<Credential::Impl>();
  impl->plugin = plugin;
  impl->shared = shared;
  impl->id = id;
  for (auto &secret : plugin->schema->secret_values(credential_json)) impl->redactor.add(secret.view());

  SecretString text(credential_json);  // NUL-terminated copy, wiped when done
  credplug_call call = impl->make_call();
  int32_t rc;
  {
    std::lock_guard<std::mutex> lock(plugin->lifecycle);
    rc = plugin->descriptor->create(&call, text.c_str(), text.size(), &impl->instance);
  }
  if (rc != CREDPLUG_OK || impl->instance == nullptr) {
    if (rc == CREDPLUG_OK) rc = CREDPLUG_ERR_PLUGIN;
    impl->raise(call, rc, "create");
  }
  for (auto &i : call.info)
    if (i.secret) impl->redactor.add(i.value.view());
  return std::make_unique<Credential>(std::move(impl));
}

std::unique_ptr<Credential> Host::open(const std::string &id, std::string_view credential_json) {
  auto plugin = impl_->find(id);
  Validation v = plugin->schema->validate(credential_json);
  if (!v.ok()) throw Error(ErrorKind::InvalidInput, join_errors(v));
  return impl_->create(plugin, id, credential_json);
}

Credential::Credential(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Credential::~Credential() {
  if (impl_ && impl_->instance && impl_->plugin->destroy) {
    std::lock_guard<std::mutex> lock(impl_->plugin->lifecycle);
    impl_->plugin->destroy(impl_->instance);
  }
}

const std::string &Credential::plugin_id() const { return impl_->id; }

std::string Credential::redact(std::string_view text) const { return impl_->redactor.apply(text); }

AuthResult Credential::authenticate() {
  auto start = std::chrono::steady_clock::now();
  credplug_call call = impl_->make_call();
  int32_t rc = impl_->run([&] { return impl_->plugin->descriptor->authenticate(impl_->instance, &call); });
  if (rc != CREDPLUG_OK) impl_->raise(call, rc, "authenticate");
  if (call.headers.empty())
    throw Error(ErrorKind::Plugin, "the plugin's authenticate() succeeded but produced no header to attach");
  AuthResult result;
  result.headers = std::move(call.headers);
  result.expires_at = call.expires_at;
  result.info = std::move(call.info);
  result.elapsed_ms = ms_since(start);
  return result;
}

TestResult Credential::test() {
  auto start = std::chrono::steady_clock::now();
  TestResult result;
  result.auth = authenticate();
  if (impl_->plugin->test == nullptr) {
    result.has_test = false;
  } else {
    credplug_call call = impl_->make_call();
    int32_t rc = impl_->run([&] { return impl_->plugin->test(impl_->instance, &call); });
    if (rc != CREDPLUG_OK) impl_->raise(call, rc, "test");
    result.info = std::move(call.info);
  }
  result.elapsed_ms = ms_since(start);
  return result;
}

}  // namespace credplug
