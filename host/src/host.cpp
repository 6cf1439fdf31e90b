#include <credplug/host.hpp>

#include "host_services.hpp"
#include "https_client.hpp"
#include "core_dumps.hpp"
#include "plugin_loader.hpp"
#include "plugin_paths.hpp"
#include "plugin_pins.hpp"
#include "redactor.hpp"
#include "refresh_pool.hpp"
#include "token_cache.hpp"
#include "unix_time.hpp"

#include <credplug/kit/jwt.hpp>
#include <credplug/kit/oauth2.hpp>

#include <boost/dll/runtime_symbol_info.hpp>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <strings.h>

namespace fs = std::filesystem;

namespace credplug {

std::string plugin_file_sha256(const std::string &path) {
  try {
    return host::file_sha256(path);
  } catch (const std::exception &e) {
    throw Error(ErrorKind::InvalidInput, e.what());
  }
}

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

// The exp claim of the first secret header whose value (after a scheme such
// as "Bearer ") is a JWT.
std::optional<int64_t> jwt_expiry(const std::vector<Header> &headers) {
  for (const auto &h : headers) {
    if (!h.secret) continue;
    std::string_view v = h.value.view();
    if (size_t space = v.rfind(' '); space != std::string_view::npos) v.remove_prefix(space + 1);
    if (auto jwt = kit::decode_jwt(v); jwt && jwt->exp()) return jwt->exp();
  }
  return std::nullopt;
}

long ms_since(std::chrono::steady_clock::time_point start) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
}

// "42 s", or "more than 10 years" (without overflowing on a hostile `then`).
std::string ago(int64_t now_s, int64_t then_s) {
  if (then_s < now_s - kit::oauth2::kMaxTokenLifetimeSeconds) return "more than 10 years";
  return std::to_string(now_s - then_s) + " s";
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
  return PluginInfo{d->id,          d->display_name,          d->version,          p.path,
                    p.abi_major,    p.abi_minor,              p.test != nullptr,  p.refresh != nullptr,
                    p.default_token_lifetime_s};
}

// The schema's verdict, with `also_secret` masked in its messages.
Validation validate_schema_only(const host::LoadedPlugin &plugin, std::string_view credential_json,
                                const std::vector<SecretString> &also_secret) {
  if (also_secret.empty()) return plugin.schema->validate(credential_json);
  host::Redactor redactor;
  for (const auto &secret : also_secret) redactor.add(secret.view());
  Validation v = plugin.schema->validate(credential_json, &redactor);
  for (auto &e : v.errors) e.message = redactor.apply(e.message);
  return v;
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
  CachePolicy cache;
  host::RefreshPool refreshers;
  Shared(host::HttpOptions options, const CachePolicy &policy)
      : http(std::move(options)), cache(policy), refreshers(policy.refresh_threads) {}
};

struct Host::Impl {
  std::vector<std::string> dirs;
  std::shared_ptr<Shared> shared;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<host::LoadedPlugin>> by_id;
  std::map<std::string, std::string> by_path;  // path -> id, for loaded files
  std::map<std::string, std::string> problems;  // path -> why it could not be used
  bool scanned = false;
  // Open credentials by HMAC-SHA-256(key, id NUL json): one instance and one
  // token cache per credential, and no secret in the key.
  unsigned char cache_key[32];
  std::map<std::string, std::weak_ptr<Credential::Impl>> open_credentials;
  size_t sweep_at = 64;  // drop closed entries when the map reaches this size
  std::string credential_key(const std::string &id, std::string_view json) const;

  bool allow_unsafe_paths = false;
  std::optional<host::PinFile> pins;

  // Loads one file (once); records a problem rather than throwing. Before
  // any of its code runs: the path must be safe and, with a pin file, the
  // file's hash pinned.
  void try_load(const std::string &path) {
    if (by_path.count(path) || problems.count(path)) return;
    const std::string named = host::conventional_plugin_id(path);
    std::string pinned_as;  // with a pin file: the id this file's hash is pinned as
    try {
      if (!allow_unsafe_paths)
        if (auto why = host::unsafe_plugin_path(path))
          throw std::runtime_error(*why +
                                   ", so anyone could have replaced its code (fix the permissions, or allow it with "
                                   "--allow-unsafe-plugin-paths / CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS=1)");
      if (pins) pinned_as = host::pinned_id(*pins, named, host::file_sha256(path));
    } catch (const std::exception &e) {
      problems[path] = std::string("not loaded: ") + e.what();
      shared->logger.write(CREDPLUG_LOG_WARN, "plugin " + path + " " + problems[path]);
      return;
    }
    try {
      auto plugin = host::load_plugin(path);
      std::string id = plugin->descriptor->id;
      if (pins && named.empty() && id != pinned_as) {
        problems[path] = "its hash is pinned for plugin '" + pinned_as + "', but it holds plugin '" + id + "'";
        return;
      }
      // A lookup by id loads credplug-<id>.so and never credplug-<other>.so,
      // so a file must hold the plugin its name says.
      if (!named.empty() && named != id) {
        problems[path] = "it is named for plugin '" + named + "' but holds plugin '" + id + "'; rename it credplug-" +
                         id + ".so";
        return;
      }
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
                                     std::string_view credential_json, const std::vector<SecretString> &also_secret);

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
    // Then files whose names do not say which plugin they hold; a file named
    // for another plugin is not loaded (its code is not run) for this lookup.
    std::set<std::string> known_ids;
    for (const auto &dir : dirs)
      for (const auto &file : plugin_files(dir)) {
        std::string named = host::conventional_plugin_id(file);
        if (named.empty()) try_load(file);
        else known_ids.insert(named);
      }
    if (auto it = by_id.find(id); it != by_id.end()) return it->second;
    for (const auto &[known_id, p] : by_id) known_ids.insert(known_id);
    std::string known;
    for (const auto &known_id : known_ids) known += (known.empty() ? "" : ", ") + known_id;
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
  impl_->shared = std::make_shared<Shared>(std::move(http), options.cache);
  if (RAND_bytes(impl_->cache_key, sizeof impl_->cache_key) != 1)
    throw Error(ErrorKind::Plugin, "the system random generator failed (needed for the token cache key)");
  impl_->shared->logger.sink = std::move(options.log);
  impl_->shared->logger.level = options.log_level;
  host::set_process_logger(&impl_->shared->logger);

  impl_->allow_unsafe_paths = options.allow_unsafe_plugin_paths;
  if (options.use_environment)
    if (const char *allow = std::getenv("CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS"); allow && std::string(allow) == "1")
      impl_->allow_unsafe_paths = true;
  if (options.disable_core_dumps) host::disable_core_dumps();
  std::string pin_file = options.pin_file;
  if (pin_file.empty() && options.use_environment)
    if (const char *env = std::getenv("CREDPLUG_PIN_FILE")) pin_file = env;
  if (!pin_file.empty()) {
    try {
      impl_->pins = host::read_pin_file(pin_file);
    } catch (const std::exception &e) {
      throw Error(ErrorKind::InvalidInput, e.what());
    }
  }

  std::set<std::string> seen;
  auto add_dir = [&](const std::string &d) {
    if (!d.empty() && seen.insert(d).second) impl_->dirs.push_back(d);
  };
  for (const auto &d : options.plugin_dirs) add_dir(d);
  if (options.use_environment)
    for (const auto &d : split_path_list(std::getenv("CREDPLUG_PLUGIN_PATH"))) {
      // A relative entry would load whatever the current directory holds.
      if (!d.empty() && d.front() != '/' && !impl_->allow_unsafe_paths) {
        impl_->problems["CREDPLUG_PLUGIN_PATH entry '" + d + "'"] =
            "ignored: a relative directory would load plugins from wherever credplug is started";
        impl_->shared->logger.write(CREDPLUG_LOG_WARN, "ignoring the relative directory '" + d +
                                                           "' in CREDPLUG_PLUGIN_PATH: plugins load only from absolute paths");
        continue;
      }
      add_dir(d);
    }
  if (options.use_default_dir) add_dir(default_plugin_dir());
}

Host::~Host() { host::clear_process_logger(&impl_->shared->logger); }

std::vector<std::string> Host::search_path() const { return impl_->dirs; }

HttpStats Host::http_stats() const { return impl_->shared->http.stats(); }

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
  return validate(id, credential_json, {});
}

Validation Host::validate(const std::string &id, std::string_view credential_json,
                          const std::vector<SecretString> &also_secret) {
  auto plugin = impl_->find(id);
  Validation v = validate_schema_only(*plugin, credential_json, also_secret);
  if (!v.ok()) return v;
  // Then the plugin's own configuration checks: create() runs them and makes
  // no network calls (plugin.h), so a rule a schema cannot express — with the
  // corrected value in its message — is caught here too.
  try {
    impl_->create(plugin, id, credential_json, also_secret);
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
  std::unique_ptr<host::TokenCache> cache;  // made once the instance exists

  ~Impl() {
    if (cache) cache->close();  // a background refresh may be using the instance
    if (instance == nullptr) return;
    if (plugin->destroy) {
      std::lock_guard<std::mutex> lock(plugin->lifecycle);
      plugin->destroy(instance);
    }
    --plugin->live_instances;
  }

  credplug_call make_call() {
    credplug_call call;
    call.redactor = &redactor;
    call.http = &shared->http;
    call.logger = &shared->logger;
    call.log_prefix = "[" + id + "] ";
    return call;
  }

  // Turns a failed plugin call into a FetchFailure (an Error) with a
  // redacted message and the server's Retry-After, if any.
  [[noreturn]] void raise(const credplug_call &call, int32_t rc, const char *what) {
    if (!call.refused_output.empty())
      throw host::FetchFailure(ErrorKind::Provider,
                               redactor.apply("the plugin's " + std::string(what) + "() " + call.refused_output),
                               std::nullopt);
    int32_t code = call.error_set && call.error_code != CREDPLUG_OK ? call.error_code : rc;
    std::string message = call.error_set && !call.error_message.empty()
                              ? call.error_message
                              : "the plugin's " + std::string(what) + "() failed with status " + std::to_string(rc) +
                                    " and gave no reason";
    throw host::FetchFailure(kind_of(code), redactor.apply(message), call.retry_after_ms);
  }

  template <class F>
  int32_t run(F &&f) {
    if (plugin->concurrent_instance) return f();
    std::lock_guard<std::mutex> lock(call_mutex);
    return f();
  }

  // One token request through `fn` (authenticate or refresh). The expiry is
  // the plugin's (expires_in), else the token's JWT exp, else the plugin's
  // declared default, else the policy's.
  host::Fetched request_token(decltype(credplug_plugin::authenticate) fn, const char *what,
                              std::vector<Info> *info = nullptr) {
    host::Fetched out;
    out.sent_ns = cache->clock().now_ns();
    const int64_t sent_ms = cache->clock().unix_ms();
    credplug_call call = make_call();
    int32_t rc = run([&] { return fn(instance, &call); });
    if (rc != CREDPLUG_OK || !call.refused_output.empty()) raise(call, rc, what);
    if (call.headers.empty())
      throw host::FetchFailure(ErrorKind::Plugin,
                               "the plugin's " + std::string(what) + "() succeeded but produced no header to attach",
                               std::nullopt);
    out.set = std::make_shared<HeaderSet>();
    const int64_t expires_ms = expiry_ms(call, sent_ms);
    out.set->expires_at = expires_ms / 1000;
    out.set->headers = std::move(call.headers);
    out.lifetime_ms = long(expires_ms - sent_ms);
    if (info) *info = std::move(call.info);
    return out;
  }

  // When a token expires, Unix milliseconds: the plugin's word (expires_in), else
  // the token's JWT exp, else the plugin's declared default, else the
  // policy's. A time already past or more than 10 years away is refused:
  // the provider is broken, and it would overflow arithmetic in ms.
  int64_t expiry_ms(const credplug_call &call, int64_t sent_ms) const {
    const int64_t now_s = sent_ms / 1000;
    int64_t at;
    std::string source;
    if (call.expires_at) {
      at = *call.expires_at, source = "the expiry the plugin reported";
    } else if (auto exp = jwt_expiry(call.headers)) {
      at = *exp, source = "the token's exp claim";
    } else {
      int64_t lifetime_ms = plugin->default_token_lifetime_s ? int64_t(plugin->default_token_lifetime_s) * 1000
                                                             : int64_t(shared->cache.default_lifetime_ms);
      return sent_ms + lifetime_ms;
    }
    if (at > now_s + kit::oauth2::kMaxTokenLifetimeSeconds)
      throw host::FetchFailure(ErrorKind::Provider,
                               "the token's expiry (" + source + ", Unix time " + std::to_string(at) +
                                   ") is more than 10 years away; refusing an absurd value",
                               std::nullopt);
    if (at <= now_s)
      throw host::FetchFailure(ErrorKind::Provider,
                               "the token the provider issued had already expired when it arrived (" + source +
                                   ": Unix time " + std::to_string(at) + ", " + ago(now_s, at) +
                                   " before this machine's clock; is this machine's clock right?)",
                               std::nullopt);
    return at * 1000;
  }

  // The cache's fetcher: a refresh goes through the plugin's hook when it has
  // one, and through authenticate() when it has none or the hook fails.
  host::Fetched fetch(host::FetchKind kind) {
    if (kind == host::FetchKind::Refresh && plugin->refresh) {
      try {
        return request_token(plugin->refresh, "refresh");
      } catch (const Error &e) {
        shared->logger.write(CREDPLUG_LOG_INFO, "[" + id + "] refresh failed (" + e.what() + "); authenticating instead");
      }
    }
    return request_token(plugin->descriptor->authenticate, "authenticate");
  }
};

std::string Host::Impl::credential_key(const std::string &id, std::string_view json) const {
  std::string data = id;
  data.push_back('\0');
  data.append(json);
  unsigned char digest[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), cache_key, int(sizeof cache_key), reinterpret_cast<const unsigned char *>(data.data()), data.size(),
       digest, &len);
  kit::wipe(data);
  return std::string(reinterpret_cast<const char *>(digest), len);
}

std::unique_ptr<Credential> Host::Impl::create(const std::shared_ptr<host::LoadedPlugin> &plugin, const std::string &id,
                                               std::string_view credential_json,
                                               const std::vector<SecretString> &also_secret) {
  auto impl = std::make_shared<Credential::Impl>();
  impl->plugin = plugin;
  impl->shared = shared;
  impl->id = id;
  for (auto &secret : plugin->schema->secret_values(credential_json)) impl->redactor.add(secret.view());
  for (const auto &secret : also_secret) impl->redactor.add(secret.view());

  SecretString text(credential_json);  // NUL-terminated copy, wiped when done
  credplug_call call = impl->make_call();
  int32_t rc;
  {
    std::lock_guard<std::mutex> lock(plugin->lifecycle);
    rc = plugin->descriptor->create(&call, text.c_str(), text.size(), &impl->instance);
    if (impl->instance != nullptr) ++plugin->live_instances;
  }
  if (rc != CREDPLUG_OK || impl->instance == nullptr) {
    if (rc == CREDPLUG_OK) rc = CREDPLUG_ERR_PLUGIN;
    impl->raise(call, rc, "create");
  }
  for (auto &i : call.info)
    if (i.secret) impl->redactor.add(i.value.view());
  Credential::Impl *raw = impl.get();
  impl->cache = std::make_unique<host::TokenCache>(
      shared->cache, [raw](host::FetchKind kind) { return raw->fetch(kind); }, shared->refreshers);
  return std::make_unique<Credential>(std::move(impl));
}

namespace {

// A handle to an instance already open; it learns the caller's extra secrets.
std::unique_ptr<Credential> reopened(std::shared_ptr<Credential::Impl> alive, const std::vector<SecretString> &also_secret) {
  for (const auto &secret : also_secret) alive->redactor.add(secret.view());
  return std::make_unique<Credential>(std::move(alive));
}

}  // namespace

std::unique_ptr<Credential> Host::open(const std::string &id, std::string_view credential_json) {
  return open(id, credential_json, {});
}

std::unique_ptr<Credential> Host::open(const std::string &id, std::string_view credential_json,
                                       const std::vector<SecretString> &also_secret) {
  auto plugin = impl_->find(id);
  Validation v = validate_schema_only(*plugin, credential_json, also_secret);
  if (!v.ok()) throw Error(ErrorKind::InvalidInput, join_errors(v));
  const std::string key = impl_->credential_key(id, credential_json);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    // Closed credentials leave expired entries; sweeping them only when the
    // map has doubled keeps open() O(log n) amortised with thousands open.
    auto &open = impl_->open_credentials;
    if (open.size() >= impl_->sweep_at) {
      for (auto it = open.begin(); it != open.end();) it = it->second.expired() ? open.erase(it) : std::next(it);
      impl_->sweep_at = std::max<size_t>(64, 2 * open.size());
    }
    if (auto it = open.find(key); it != open.end())
      if (auto alive = it->second.lock()) return reopened(std::move(alive), also_secret);
  }
  auto credential = impl_->create(plugin, id, credential_json, also_secret);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto &slot = impl_->open_credentials[key];
  if (auto alive = slot.lock()) return reopened(std::move(alive), also_secret);  // another thread won
  slot = credential->impl_;
  return credential;
}

Credential::Credential(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Credential::~Credential() = default;

const Header *HeaderSet::find(std::string_view name) const {
  for (const auto &h : headers)
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0) return &h;
  return nullptr;
}

HeadersPtr Credential::headers() { return impl_->cache->get(); }

void Credential::invalidate(const HeaderSet &rejected) { impl_->cache->invalidate(rejected.generation == 0 ? ~uint64_t(0) : rejected.generation); }

void Credential::invalidate() { impl_->cache->invalidate(0); }

CacheStatus Credential::cache_status() const { return impl_->cache->status(); }

const std::string &Credential::plugin_id() const { return impl_->id; }

std::string Credential::redact(std::string_view text) const { return impl_->redactor.apply(text); }

AuthResult Credential::authenticate() {
  auto start = std::chrono::steady_clock::now();
  AuthResult result;
  host::Fetched fetched = impl_->request_token(impl_->plugin->descriptor->authenticate, "authenticate", &result.info);
  result.headers = fetched.set->headers;
  result.expires_at = fetched.set->expires_at;
  impl_->cache->publish(std::move(fetched));
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
