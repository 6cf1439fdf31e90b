// The public C++ API's Host: options, the search path, validation and
// open(). Discovery is plugin_registry.cpp, the calls into a plugin
// credential.cpp, and where plugin code runs — a runner process or
// this one — the transports behind plugin_transport.hpp.
#include <credplug/host.hpp>

#include "api/credential.hpp"
#include "api/environment.hpp"
#include "api/install_layout.hpp"
#include "api/pending_authorization.hpp"
#include "base/fork_gate.hpp"
#include "fleet/shared_token_store.hpp"
#include "schema/form_schema.hpp"
#include "secrets/core_dumps.hpp"
#include "secrets/output_rules.hpp"
#include "secrets/redactor.hpp"
#include "transport/plugin_pins.hpp"
#include "transport/plugin_registry.hpp"
#include "transport/runner_zygote.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <credplug/kit/encoding.hpp>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <mutex>
#include <set>

namespace credplug {

std::string plugin_file_sha256(const std::string &path) {
  try {
    return host::file_sha256(path);
  } catch (const std::exception &e) {
    throw Error(ErrorKind::InvalidInput, e.what());
  }
}

const char *to_string(Isolation isolation) { return isolation == Isolation::InProcess ? "in-process" : "process"; }

std::optional<Isolation> parse_isolation(std::string_view text) {
  if (text == "process") return Isolation::Process;
  if (text == "in-process") return Isolation::InProcess;
  return std::nullopt;
}

const char *to_string(LogFormat format) { return format == LogFormat::JsonLines ? "json" : "text"; }

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::Text;
  if (text == "json") return LogFormat::JsonLines;
  return std::nullopt;
}

const char *to_string(CredentialState state) {
  switch (state) {
    case CredentialState::Idle:
      return "idle";
    case CredentialState::Ok:
      return "ok";
    case CredentialState::Refreshing:
      return "refreshing";
    case CredentialState::Failing:
      return "failing";
    case CredentialState::Rejected:
      return "rejected";
    case CredentialState::NeedsReauthorization:
      return "needs_reauthorization";
  }
  return "unknown";
}

const char *to_string(CredentialEvent::Type type) {
  switch (type) {
    case CredentialEvent::Type::Failing:
      return "failing";
    case CredentialEvent::Type::Rejected:
      return "rejected";
    case CredentialEvent::Type::NeedsReauthorization:
      return "needs_reauthorization";
    case CredentialEvent::Type::Recovered:
      return "recovered";
    case CredentialEvent::Type::StateRotated:
      return "state_rotated";
    case CredentialEvent::Type::Revoked:
      return "revoked";
  }
  return "unknown";
}

namespace {

PluginInfo info_of(const host::PluginTransport &p) {
  const auto &d = p.description();
  const auto &fields = p.schema().address_fields();
  return PluginInfo{
      d.id,          d.display_name,        d.version,           d.path,
      d.abi_major,   d.abi_minor,           d.has_test,          d.has_refresh,
      d.has_sign,    d.has_authorize,       d.has_revoke,        d.default_token_lifetime_s,
      p.isolation(), p.schema().warnings(), p.schema().egress(), std::vector<std::string>(fields.begin(), fields.end()),
      d.namespaces,  d.no_namespaces};
}

// The schema's verdict, with `also_secret` masked in its messages.
Validation validate_schema_only(const host::PluginTransport &plugin, std::string_view credential_json,
                                const std::vector<SecretString> &also_secret) {
  if (also_secret.empty()) return plugin.schema().validate(credential_json);
  host::Redactor redactor;
  for (const auto &secret : also_secret) redactor.add(secret.view());
  Validation v = plugin.schema().validate(credential_json, &redactor);
  for (auto &e : v.errors) e.message = redactor.apply(e.message);
  return v;
}

std::string join_errors(const Validation &v) {
  std::string out;
  for (const auto &e : v.errors) out += (out.empty() ? "" : "\n") + e.message;
  return out;
}

// A margin over the HTTPS timeout for the plugin's own work in one call.
constexpr long kPluginDeadlineMarginMs = 2000;

// An open credential's key: HMAC-SHA-256, kept inline (a std::string of 32
// bytes is an allocation more per open credential).
using CredentialKey = std::array<unsigned char, 32>;

}  // namespace

struct Host::Impl {
  std::shared_ptr<host::Shared> shared;
  // Seals pending authorizations (HostOptions::authorization_key_file).
  std::optional<host::KeyRing> authorization_keys;
  unsigned char cache_key[32];  // for open credentials' keys
  // Where plugins are found and how they load; each process discovers
  // them itself (a child of fork() does not wait on its parent's loading).
  std::vector<std::string> dirs;
  host::LoadPolicy policy;
  std::map<std::string, std::string> ignored;  // search path entries, and why

  struct Here {
    host::PluginRegistry registry;
    std::mutex mutex;
    // Open credentials by HMAC-SHA-256(key, id NUL json): one instance and
    // one token cache per credential, and no secret in the key.
    std::map<CredentialKey, std::weak_ptr<Credential::Impl>> open_credentials;
    size_t sweep_at = 64;  // drop closed entries when the map reaches this size
    explicit Here(const Impl &impl) : registry(impl.dirs, impl.policy, impl.shared->logger) {
      for (const auto &[where, why] : impl.ignored) registry.add_problem(where, why);
    }
  };
  host::ForkLocal<Here> here{[this] { return std::make_unique<Here>(*this); }};
  host::PluginRegistry &registry() { return here.get().registry; }

  CredentialKey credential_key(const std::string &id, const std::string &label, std::string_view json) const {
    std::string data = id;
    data.push_back('\0');
    data.append(label);  // printable: no NUL in it
    data.push_back('\0');
    data.append(json);
    CredentialKey digest{};
    unsigned int len = 0;
    host::OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
    HMAC(EVP_sha256(), cache_key, int(sizeof cache_key), reinterpret_cast<const unsigned char *>(data.data()),
         data.size(), digest.data(), &len);
    kit::wipe(data);
    return digest;
  }
};

namespace {

// The options as given, with the environment filled in where the embedder
// left a field unset and allows it (use_environment).
struct ResolvedOptions {
  HostOptions given;
  host::EnvironmentOptions env;  // empty unless use_environment
  Isolation isolation = Isolation::Process;
  LogFormat log_format = LogFormat::Text;
  std::string shared_cache_url, shared_cache_key_file, pin_file;
  host::InstallLayout layout;
};

// An option of a few named values: as given, else as the environment's
// variable names it (a name it does not know is an error), else `fallback`.
template <class T>
T given_or_environment(const std::optional<T> &given, const std::optional<std::string> &variable_value,
                       std::optional<T> (*parse)(std::string_view), const char *variable, const char *expected,
                       T fallback) {
  if (given) return *given;
  if (!variable_value) return fallback;
  if (auto parsed = parse(*variable_value)) return *parsed;
  throw Error(ErrorKind::InvalidInput, std::string(variable) + " is '" + *variable_value + "'; expected " + expected);
}

ResolvedOptions resolve(HostOptions options) {
  ResolvedOptions r;
  if (options.use_environment) r.env = host::read_environment();
  auto either = [](const std::string &given, const std::optional<std::string> &env) {
    return given.empty() && env ? *env : given;
  };
  if (options.ca_file.empty() && r.env.ca_file) options.ca_file = *r.env.ca_file;
  r.shared_cache_url = either(options.shared_cache_url, r.env.shared_cache_url);
  r.shared_cache_key_file = either(options.shared_cache_key_file, r.env.shared_cache_key_file);
  r.pin_file = either(options.pin_file, r.env.pin_file);
  r.isolation = given_or_environment(options.isolation, r.env.isolation, parse_isolation, "CREDPLUG_ISOLATION",
                                     "'process' or 'in-process'", Isolation::Process);
  r.log_format = given_or_environment(options.log_format, r.env.log_format, parse_log_format, "CREDPLUG_LOG_FORMAT",
                                      "'text' or 'json'", LogFormat::Text);
  r.layout = host::install_layout();
  r.given = std::move(options);
  return r;
}

host::HttpOptions http_options(const HostOptions &o) {
  host::HttpOptions http;
  http.ca_file = o.ca_file;
  http.connect_timeout_ms = o.connect_timeout_ms;
  http.total_timeout_ms = o.total_timeout_ms;
  http.max_response_bytes = o.max_response_bytes;
  return http;
}

// The fleet's cache, when configured: a bad URL or key file, or records
// sealed by a key this file lacks, refuse the Host here.
void open_shared_cache(host::Shared &shared, const ResolvedOptions &r) {
  if (r.shared_cache_url.empty()) return;
  host::RedisAddress address = host::parse_redis_url(r.shared_cache_url);
  if (r.shared_cache_key_file.empty())
    throw Error(ErrorKind::InvalidInput, "a shared cache (" + address.shown +
                                             ") needs a key file to seal its tokens with "
                                             "(--shared-cache-key-file, CREDPLUG_SHARED_CACHE_KEY_FILE); make one "
                                             "with `openssl rand -hex 32 > FILE`");
  const host::Logger *logger = &shared.logger;
  auto log = [logger](int level, const std::string &line) { logger->write(level, line); };
  // Each process opens its own connections (a child of fork() too), with
  // the keys read once, here.
  shared.open_store = [address, keys = host::KeyRing::load(r.shared_cache_key_file), origin = r.shared_cache_key_file,
                       timeout_ms = r.given.shared_cache_timeout_ms, log] {
    return std::make_shared<host::SharedTokenStore>(address, keys, origin, timeout_ms, log);
  };
  shared.lease_ms = r.given.total_timeout_ms + 1000;  // a healthy token request ends by then
}

// authorize()'s values for `pending` (the first step's: no code yet).
credplug_authorization authorization_of(const host::Pending &pending, const std::string &challenge) {
  credplug_authorization auth{};
  auth.struct_size = sizeof auth;
  auth.redirect_uri = pending.redirect_uri.c_str();
  auth.state = pending.state.c_str();
  auth.code_challenge = challenge.c_str();
  auth.code_challenge_method = "S256";
  return auth;
}

// The key that seals pending authorizations: the given file, else the
// shared cache's, else one of this Host's own (only it can complete them).
host::KeyRing authorization_keys(const ResolvedOptions &r) {
  std::string file = r.given.authorization_key_file;
  if (file.empty() && r.env.authorization_key_file) file = *r.env.authorization_key_file;
  if (file.empty()) file = r.shared_cache_key_file;
  if (!file.empty()) return host::KeyRing::load(file);
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw Error(ErrorKind::Plugin, "the system's random generator failed to make an authorization key");
  std::string key = kit::hex_encode(std::string_view(reinterpret_cast<const char *>(bytes), sizeof bytes));
  OPENSSL_cleanse(bytes, sizeof bytes);
  auto keys = host::KeyRing::from_text(key, "this Host's own authorization key");
  kit::wipe(key);
  return keys;
}

// Which plugin files may load, and where their code runs.
host::LoadPolicy load_policy(const ResolvedOptions &r) {
  host::LoadPolicy policy;
  policy.allow_unsafe_paths = r.given.allow_unsafe_plugin_paths || r.env.allow_unsafe_plugin_paths;
  if (!r.pin_file.empty()) {
    try {
      policy.pins = host::read_pin_file(r.pin_file);
    } catch (const std::exception &e) {
      throw Error(ErrorKind::InvalidInput, e.what());
    }
  }
  policy.isolated = r.isolation == Isolation::Process;
  policy.runner.path = !r.given.runner_path.empty() ? r.given.runner_path
                       : r.env.runner               ? *r.env.runner
                                                    : r.layout.runner_path;
  policy.runner.keep_stderr = r.env.runner_stderr;
  policy.runner.keep_host_dumpable = r.given.keep_dumpable_with_runners;
  policy.runner.namespaces = !r.given.runners_without_namespaces;
  policy.runner.zygote = !r.given.runners_without_zygote;
  policy.runner.spare = !r.given.runners_without_spare;
  if (policy.isolated && policy.runner.path.empty())
    throw Error(ErrorKind::Plugin,
                "cannot tell where credplug is installed (the file of its code is unknown), so the plugin runner "
                "cannot be found; set HostOptions::runner_path, or run plugins you trust with --isolation in-process");
  return policy;
}

// The search path: the given directories, CREDPLUG_PLUGIN_PATH's absolute
// entries, the installation's own. Entries ignored land in `ignored`.
std::vector<std::string> plugin_search_path(const ResolvedOptions &r, bool allow_relative, const host::Logger &logger,
                                            std::map<std::string, std::string> &ignored) {
  std::vector<std::string> dirs;
  std::set<std::string> seen;
  auto add_dir = [&](const std::string &d) {
    if (!d.empty() && seen.insert(d).second) dirs.push_back(d);
  };
  for (const auto &d : r.given.plugin_dirs) add_dir(d);
  for (const auto &d : r.env.plugin_path) {
    // A relative entry would load whatever the current directory holds.
    if (d.front() != '/' && !allow_relative) {
      ignored["CREDPLUG_PLUGIN_PATH entry '" + d + "'"] =
          "ignored: a relative directory would load plugins from wherever credplug is started";
      logger.write(CREDPLUG_LOG_WARN, "ignoring the relative directory '" + d +
                                          "' in CREDPLUG_PLUGIN_PATH: plugins load only from absolute paths");
      continue;
    }
    add_dir(d);
  }
  if (r.given.use_default_dir) add_dir(r.layout.plugin_dir);
  return dirs;
}

}  // namespace

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>()) {
  ResolvedOptions r = resolve(std::move(options));
  impl_->shared = std::make_shared<host::Shared>(http_options(r.given), r.given.cache,
                                                 r.given.total_timeout_ms + kPluginDeadlineMarginMs);
  if (host::OpenSslSection openssl; RAND_bytes(impl_->cache_key, sizeof impl_->cache_key) != 1)
    throw Error(ErrorKind::Plugin, "the system random generator failed (needed for the token cache key)");
  host::Logger &logger = impl_->shared->logger;
  logger.sink = std::move(r.given.log);
  impl_->shared->on_event = std::move(r.given.on_event);
  logger.level = r.given.log_level;
  logger.format = r.log_format;
  host::set_process_logger(&logger);
  open_shared_cache(*impl_->shared, r);
  impl_->shared->here();  // the shared cache's keys are checked now, in this process
  impl_->policy = load_policy(r);
  if (impl_->policy.isolated) host::prestart_zygote(impl_->policy.runner);  // it loads while this goes on
  if (r.given.disable_core_dumps) host::disable_core_dumps();
  impl_->dirs = plugin_search_path(r, impl_->policy.allow_unsafe_paths, logger, impl_->ignored);
  impl_->authorization_keys = authorization_keys(r);
}

PendingAuthorization Host::begin_authorization(const std::string &id, std::string_view credential_json,
                                               const std::string &redirect_uri) {
  if (auto problem = host::redirect_uri_problem(redirect_uri)) throw Error(ErrorKind::InvalidInput, *problem);
  auto credential = open(id, credential_json);
  host::Pending pending = host::new_pending(id, credential_json, redirect_uri, std::time(nullptr));
  const std::string challenge = host::code_challenge(pending.verifier.view());
  const credplug_authorization auth = authorization_of(pending, challenge);
  auto first = credential->impl_->authorize(auth);
  if (auto problem = host::authorization_url_problem(first.url, pending.state, challenge))
    throw Error(ErrorKind::Plugin, "plugin '" + id + "' gave an authorization URL that cannot be used: " + *problem);
  return PendingAuthorization{first.url, host::seal_pending(*impl_->authorization_keys, pending), pending.expires_at};
}

SecretString Host::complete_authorization(std::string_view pending_text, std::string_view redirect_url) {
  host::Pending pending = host::open_pending(*impl_->authorization_keys, pending_text, std::time(nullptr));
  const SecretString code = host::code_from_redirect(pending, redirect_url);
  OpenOptions options;
  options.label = pending.label;
  auto credential = open(pending.plugin, pending.credential.view(), options);
  const std::string challenge = host::code_challenge(pending.verifier.view());
  credplug_authorization auth = authorization_of(pending, challenge);
  auth.code = code.c_str();
  auth.code_verifier = pending.verifier.c_str();
  auto second = credential->impl_->authorize(auth);
  if (!second.state)
    throw Error(ErrorKind::Plugin, "plugin '" + pending.plugin + "' redeemed the code but output no state to keep");
  // The credential open in this Host, if it is, uses the new grant at once.
  credential->set_state(*second.state);
  return std::move(*second.state);
}

Host::~Host() { host::clear_process_logger(&impl_->shared->logger); }

std::vector<std::string> Host::search_path() const { return impl_->dirs; }

HttpStats Host::http_stats() const { return impl_->shared->here().http.stats(); }

MetricsSnapshot Host::metrics() const {
  auto &process = impl_->shared->here();
  MetricsSnapshot m =
      process.metrics.snapshot(process.store != nullptr, process.store ? process.store->redis().errors() : 0);
  // The gauge of credentials by state: each open one's state now. One not
  // used yet in this process (a child of fork()) is idle here.
  std::map<std::string, std::map<CredentialState, uint64_t>> by_plugin;
  {
    Impl::Here &here = impl_->here.get();
    std::lock_guard<std::mutex> lock(here.mutex);
    for (const auto &[key, weak] : here.open_credentials) {
      auto impl = weak.lock();
      if (!impl) continue;
      const Credential::Impl::Live *live = impl->live.made_here();
      const Credential::Impl::Live::Tokens *tokens = live ? live->tokens.load(std::memory_order_acquire) : nullptr;
      ++by_plugin[impl->id()][tokens ? host::state_of(tokens->cache.status()) : CredentialState::Idle];
    }
  }
  for (auto &[plugin, counts] : by_plugin) m.credentials.push_back({plugin, std::move(counts)});
  return m;
}

std::vector<PluginInfo> Host::plugins() {
  std::vector<PluginInfo> out;
  for (const auto &[id, p] : impl_->registry().all()) out.push_back(info_of(*p));
  return out;
}

void Host::reload_plugins() { impl_->registry().reload(); }

std::vector<PluginProblem> Host::problems() {
  std::vector<PluginProblem> out;
  for (const auto &[path, why] : impl_->registry().problems()) out.push_back({path, why});
  return out;
}

PluginInfo Host::plugin(const std::string &id) { return info_of(*impl_->registry().find(id)); }

std::string Host::schema(const std::string &id) { return impl_->registry().find(id)->schema().text(); }

std::string Host::form_schema(const std::string &id) { return host::form_schema_json(schema(id)); }

Validation Host::validate(const std::string &id, std::string_view credential_json) {
  return validate(id, credential_json, std::vector<SecretString>{});
}

Validation Host::validate(const std::string &id, std::string_view credential_json,
                          const std::vector<SecretString> &also_secret) {
  auto plugin = impl_->registry().find(id);
  Validation v = validate_schema_only(*plugin, credential_json, also_secret);
  if (!v.ok()) return v;
  // Then the plugin's own configuration checks: create() runs them and makes
  // no network calls (plugin.h), so a rule a schema cannot express — with the
  // corrected value in its message — is caught here too.
  try {
    host::create_credential(impl_->shared, plugin, credential_json, OpenOptions{"", also_secret, {}, {}});
  } catch (const Error &e) {
    if (e.kind() != ErrorKind::InvalidInput) throw;
    v.errors.push_back({"", "plugin", e.what(), "", ""});
  }
  return v;
}

namespace {

// A handle to an instance already open; it learns the caller's extra secrets.
std::unique_ptr<Credential> reopened(std::shared_ptr<Credential::Impl> alive,
                                     const std::vector<SecretString> &also_secret) {
  for (const auto &secret : also_secret) alive->redactor.add(secret.view());
  return std::make_unique<Credential>(std::move(alive));
}

}  // namespace

std::unique_ptr<Credential> Host::open(const std::string &id, std::string_view credential_json) {
  return open(id, credential_json, OpenOptions{});
}

std::unique_ptr<Credential> Host::open(const std::string &id, std::string_view credential_json,
                                       const std::vector<SecretString> &also_secret) {
  return open(id, credential_json, OpenOptions{"", also_secret, {}, {}});
}

std::unique_ptr<Credential> Host::open(const std::string &id, std::string_view credential_json,
                                       const OpenOptions &options) {
  if (auto problem = host::label_problem(options.label)) throw Error(ErrorKind::InvalidInput, *problem);
  auto plugin = impl_->registry().find(id);
  Validation v = validate_schema_only(*plugin, credential_json, options.also_secret);
  if (!v.ok()) throw Error(ErrorKind::InvalidInput, join_errors(v));
  const CredentialKey key = impl_->credential_key(id, options.label, credential_json);
  Impl::Here &here = impl_->here.get();
  {
    std::lock_guard<std::mutex> lock(here.mutex);
    // Closed credentials leave expired entries; sweeping them only when the
    // map has doubled keeps open() O(log n) amortised with thousands open.
    auto &open = here.open_credentials;
    if (open.size() >= here.sweep_at) {
      for (auto it = open.begin(); it != open.end();) it = it->second.expired() ? open.erase(it) : std::next(it);
      here.sweep_at = std::max<size_t>(64, 2 * open.size());
    }
    if (auto it = open.find(key); it != open.end())
      if (auto alive = it->second.lock()) return reopened(std::move(alive), options.also_secret);
  }
  auto credential = host::create_credential(impl_->shared, plugin, credential_json, options);
  std::lock_guard<std::mutex> lock(here.mutex);
  auto &slot = here.open_credentials[key];
  if (auto alive = slot.lock()) return reopened(std::move(alive), options.also_secret);  // another thread won
  slot = credential->impl_;
  impl_->shared->logger.write(CREDPLUG_LOG_DEBUG, credential->impl_->about(), "opened", "credential_opened");
  return credential;
}

}  // namespace credplug
