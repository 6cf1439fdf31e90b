#include "api/credential.hpp"
#include "api/error_kinds.hpp"
#include "secrets/credential_state.hpp"
#include "secrets/output_rules.hpp"

#include <credplug/host_json.hpp>

#include <credplug/kit/jwt.hpp>
#include <credplug/kit/oauth2.hpp>

#include <strings.h>

#include <chrono>
#include <optional>

namespace credplug {
namespace {

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

// The credentials of an Authorization-style value, "<scheme> <credentials>"
// (RFC 9110 §11.4: the scheme a token of tchars), or nullopt: a bearer
// token is masked bare too, as the plugin's add_secret() had it masked
// where the token was fetched.
std::optional<std::string_view> auth_scheme_credentials(std::string_view value) {
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || space + 1 >= value.size() || !host::is_http_token(value.substr(0, space)))
    return std::nullopt;
  return value.substr(space + 1);
}

// "42 s", or "more than 10 years" (without overflowing on a hostile `then`).
std::string ago(int64_t now_s, int64_t then_s) {
  if (then_s < now_s - kit::oauth2::kMaxTokenLifetimeSeconds) return "more than 10 years";
  return std::to_string(now_s - then_s) + " s";
}

}  // namespace

Credential::Impl::Live::~Live() {
  if (Tokens *t = tokens.load(std::memory_order_acquire)) {
    t->cache.close();  // a background refresh may be using the instance; destroy() comes after
    delete t;
  }
}

credplug_call Credential::Impl::make_call() {
  credplug_call call;
  call.redactor = &redactor;
  // What a call declares lives as long as the newest token's secrets do
  // (create() and token requests set their own).
  call.secret_epoch = token_epoch.load(std::memory_order_relaxed);
  call.http = &shared->here().http;
  call.logger = &shared->logger;
  call.about = about();
  call.deadline_ms = shared->plugin_deadline_ms;
  call.egress = &egress;
  return call;
}

void Credential::Impl::raise(const credplug_call &call, int32_t rc, const char *what) {
  if (!call.refused_output.empty())
    throw host::FetchFailure(ErrorKind::Provider,
                             call.redactor->apply("the plugin's " + std::string(what) + "() " + call.refused_output),
                             std::nullopt);
  int32_t code = call.error_set && call.error_code != CREDPLUG_OK ? call.error_code : rc;
  std::string message =
      call.error_set && !call.error_message.empty()
          ? call.error_message
          : "the plugin's " + std::string(what) + "() failed with status " + std::to_string(rc) + " and gave no reason";
  throw host::FetchFailure(kind_of_plugin_status(code), call.redactor->apply(message), call.retry_after_ms);
}

int32_t Credential::Impl::invoke(host::PluginOp op, credplug_call &call) {
  Live &live_here = here();
  if (plugin->description().concurrent_instance) return plugin->invoke(op, *live_here.instance, call);
  std::lock_guard<std::mutex> lock(tokens().call_mutex);
  return plugin->invoke(op, *live_here.instance, call);
}

host::Fetched Credential::Impl::request_token(host::PluginOp op, std::vector<Info> *info) {
  const auto started = std::chrono::steady_clock::now();
  auto record = [&](const char *outcome) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    shared->here().metrics.token_request(id(), outcome, ms);
  };
  try {
    host::Fetched out = request_token_once(op, info);
    record("ok");
    return out;
  } catch (const Error &e) {
    record(json::kind_slug(e.kind()));
    throw;
  }
}

host::Fetched Credential::Impl::request_token_once(host::PluginOp op, std::vector<Info> *info) {
  const char *what = host::op_name(op);
  host::Fetched out;
  Live::Tokens &live_tokens = tokens();
  std::lock_guard<std::mutex> one_at_a_time(live_tokens.token_mutex);
  save_state();  // a state the sink refused before: the plugin must never see the one before it
  const host::CacheClock &clock = live_tokens.cache.clock();
  // The wall clock reads whole milliseconds (truncated): the request leaves
  // up to 1 ms after sent_ms, so the token may expire up to 1 ms sooner
  // than (expiry - sent_ms) after now. Counted from 1 ms earlier, the cache
  // never serves it past its expiry, however short its life (a 1-second
  // token the plugin rounded down to the second can have a few ms).
  out.sent_ns = clock.now_ns() - 1000000;
  const int64_t sent_ms = clock.unix_ms();
  credplug_call call = make_call();
  call.secret_epoch = ++token_epoch;  // the token, and a rotated refresh token, are this request's
  const std::shared_ptr<const SecretString> state_before = state_now();
  call.state = state_before.get();
  call.may_set_state = true;
  int32_t rc = invoke(op, call);
  // New state first, whatever else the call did: it may hold a refresh
  // token that replaced the one just presented.
  if (call.new_state) adopt_state(std::move(*call.new_state));
  if (rc != CREDPLUG_OK || !call.refused_output.empty()) raise(call, rc, what);
  // A plugin that signs each request may need no header of its own (AWS).
  if (call.headers.empty() && !plugin->description().has_sign)
    throw host::FetchFailure(ErrorKind::Plugin,
                             "the plugin's " + std::string(what) + "() succeeded but produced no header to attach",
                             std::nullopt);
  out.set = std::make_shared<HeaderSet>();
  int64_t expires_ms;
  if (call.expires_at == CREDPLUG_EXPIRES_NEVER) {  // no expires_at; the numbers say 10 years (token_cache.hpp)
    out.never_expires = out.set->never_expires = true;
    out.expiry_source = "never";
    expires_ms = sent_ms + host::kNeverExpiresLifetimeMs;
  } else {
    expires_ms = expiry_ms(call, sent_ms, &out.expiry_source);
    out.set->expires_at = expires_ms / 1000;
  }
  out.expires_unix_ms = expires_ms;
  out.set->headers = std::move(call.headers);
  out.lifetime_ms = long(expires_ms - sent_ms);
  if (info) *info = std::move(call.info);
  retire_old_token_secrets(call.secret_epoch);
  return out;
}

void Credential::Impl::retire_old_token_secrets(uint64_t newest_epoch) {
  if (newest_epoch <= kTokenEpochsKept) return;
  if (const auto state = state_now())
    for (auto &secret : host::state_secrets(state->view())) redactor.add(secret.view(), newest_epoch);
  redactor.retire_before(newest_epoch - kTokenEpochsKept + 1);
}

// When a token expires, Unix milliseconds: the plugin's word (expires_in), else
// the token's JWT exp, else the plugin's declared default, else the
// policy's. A time already past or more than 10 years away is refused:
// the provider is broken, and it would overflow arithmetic in ms.
int64_t Credential::Impl::expiry_ms(const credplug_call &call, int64_t sent_ms, const char **from) const {
  const int64_t now_s = sent_ms / 1000;
  int64_t at;
  std::string source;
  if (call.expires_at) {
    at = *call.expires_at, source = "the expiry the plugin reported", *from = "plugin";
  } else if (auto exp = jwt_expiry(call.headers)) {
    at = *exp, source = "the token's exp claim", *from = "token";
  } else {
    const uint32_t declared = plugin->description().default_token_lifetime_s;
    *from = declared ? "plugin_default" : "host_default";
    int64_t lifetime_ms = declared ? int64_t(declared) * 1000 : int64_t(shared->cache.default_lifetime_ms);
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

host::Fetched Credential::Impl::fetch(host::FetchKind kind) {
  Live &live_here = here();
  if (!live_here.fleet) return fetch_here(kind);
  // Shared, every renewal is a new authenticate(), never the plugin's
  // refresh hook: the session a hook renews lives in the one process that
  // opened it, and a rotating refresh (Nexla's) would revoke the token the
  // rest of the fleet is still presenting. The old token then lives out its
  // lifetime, and no process ever holds one a newer token has revoked.
  // Under the lease, the fleet's newest state first: a refresh token
  // another process rotated is the one to redeem, never the one before it.
  std::shared_ptr<const HeaderSet> fetched_here;
  host::Fetched out = host::fetch_shared(*live_here.fleet, kind, shared->cache, shared->lease_ms,
                                         tokens().cache.clock(), [&](host::FetchKind) {
                                           adopt_fleet_state(*live_here.fleet);
                                           host::Fetched mine = fetch_here(host::FetchKind::Authenticate);
                                           fetched_here = mine.set;
                                           return mine;
                                         });
  // Another process's token: this redactor never saw it. One fetched here
  // is known already, under its request's epoch (a second epoch for it
  // would halve the token requests whose secrets are kept).
  if (out.set != fetched_here) learn_token_secrets(*out.set);
  return out;
}

void Credential::Impl::learn_token_secrets(const HeaderSet &set) {
  const uint64_t epoch = ++token_epoch;
  for (const auto &h : set.headers) {
    if (!h.secret) continue;
    redactor.add(h.value.view(), epoch);
    if (auto credentials = auth_scheme_credentials(h.value.view())) redactor.add(*credentials, epoch);
  }
  retire_old_token_secrets(epoch);
}

host::Fetched Credential::Impl::authenticate_now(std::vector<Info> *info) {
  Live &live_here = here();
  host::SharedCredential *fleet = live_here.fleet.get();
  if (fleet == nullptr || !fleet->exclusive || !fleet->exclusive())
    return request_token(host::PluginOp::Authenticate, info);
  return host::fetch_shared(
      *fleet, host::FetchKind::Authenticate, shared->cache, shared->lease_ms, tokens().cache.clock(),
      [this, fleet, info](host::FetchKind) {
        adopt_fleet_state(*fleet);
        return request_token(host::PluginOp::Authenticate, info);
      },
      host::SharedFetch::Fresh);
}

// A refresh goes through the plugin's hook when it has one, and through
// authenticate() when it has none or the hook fails.
host::Fetched Credential::Impl::fetch_here(host::FetchKind kind) {
  if (kind == host::FetchKind::Refresh && plugin->description().has_refresh) {
    try {
      return request_token(host::PluginOp::Refresh);
    } catch (const Error &e) {
      shared->logger.write(CREDPLUG_LOG_INFO, about(),
                           std::string("the plugin's refresh() failed (") + e.what() + "); authenticating instead",
                           "refresh_fallback");
    }
  }
  return request_token(host::PluginOp::Authenticate);
}

std::shared_ptr<const SecretString> Credential::Impl::state_now() const {
  std::lock_guard<host::ForkGuardedMutex> lock(state_mutex);
  return state;
}

void Credential::Impl::adopt_state(SecretString json) {
  replace_state(std::make_shared<const SecretString>(std::move(json)), Publish::ToFleet,
                on_state ? "its state changed (a rotated refresh token) and was saved"
                         : "its state changed (a rotated refresh token); kept in memory only (no state sink)");
}

void Credential::Impl::adopt_fleet_state(host::SharedCredential &fleet) {
  auto newest = fleet.store->read_state(fleet.names);
  {
    std::lock_guard<std::mutex> lock(fleet.mutex);
    if (!newest || newest->fence <= fleet.state_fence) return;
    fleet.state_fence = newest->fence;
  }
  const uint64_t epoch = ++token_epoch;
  for (auto &secret : host::state_secrets(newest->state.view())) redactor.add(secret.view(), epoch);
  retire_old_token_secrets(epoch);
  replace_state(std::make_shared<const SecretString>(std::move(newest->state)), Publish::No,
                "another process of the fleet rotated its state; taken from the shared cache");
}

void Credential::Impl::replace_state(const std::shared_ptr<const SecretString> &newer, Publish publish,
                                     const char *why) {
  {
    std::lock_guard<host::ForkGuardedMutex> lock(state_mutex);
    state = newer;
    state_unsaved = static_cast<bool>(on_state);  // this process's embedder keeps every state it runs on
  }
  // The fleet's record before the sink: a process killed before its sink
  // returns leaves the state where the next process redeeming will find it.
  host::SharedCredential *fleet = here().fleet.get();
  if (publish == Publish::ToFleet && fleet != nullptr) {
    uint64_t fence;
    {
      std::lock_guard<std::mutex> lock(fleet->mutex);
      fence = fleet->lease_fence;
    }
    if (fence != 0 && fleet->store->publish_state(fleet->names[0], fence, *newer)) {
      std::lock_guard<std::mutex> lock(fleet->mutex);
      fleet->state_fence = std::max(fleet->state_fence, fence);
    }
  }
  save_state();
  raise_event(CredentialEvent::Type::StateRotated, CredentialState::Ok, std::nullopt, why);
}

void Credential::Impl::save_state() {
  if (!on_state) return;
  std::lock_guard<std::mutex> in_order(tokens().save_mutex);
  std::shared_ptr<const SecretString> unsaved;
  {
    std::lock_guard<host::ForkGuardedMutex> lock(state_mutex);
    if (!state_unsaved) return;
    unsaved = state;
  }
  std::string why;
  try {
    (*on_state)(*unsaved);
  } catch (const std::exception &e) {
    why = e.what();
  } catch (...) {
    why = "it threw something other than a std::exception";
  }
  if (why.empty()) {
    std::lock_guard<host::ForkGuardedMutex> lock(state_mutex);
    if (state == unsaved) state_unsaved = false;  // else newer state came meanwhile, unsaved yet
    shared->logger.write(CREDPLUG_LOG_INFO, about(), "new credential state saved", "state_saved");
    return;
  }
  throw host::FetchFailure(ErrorKind::StateNotSaved,
                           redactor.apply("the credential's new state could not be saved (" + why +
                                          "); it is kept in memory and saved again before the next token request"),
                           std::nullopt);
}

Credential::Credential(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Credential::~Credential() = default;

const Header *HeaderSet::find(std::string_view name) const {
  for (const auto &h : headers)
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0) return &h;
  return nullptr;
}

HeadersPtr Credential::headers() { return impl_->tokens().cache.get(); }

HeadersPtr Credential::cached_headers() { return impl_->tokens().cache.get_cached(); }

const HeaderSet &Credential::headers_view() { return *impl_->tokens().cache.borrow().set; }

void Credential::invalidate(const HeaderSet &rejected) {
  Impl::Live &live = impl_->here();
  impl_->shared->here().metrics.count<&MetricsSnapshot::invalidations>();
  if (auto *tokens = live.tokens.load(std::memory_order_acquire))  // none made: no token to drop here
    tokens->cache.invalidate(rejected.generation == 0 ? ~uint64_t(0) : rejected.generation);
  if (auto *fleet = live.fleet.get())
    if (uint64_t fence = fleet->fence_of(rejected)) fleet->invalidate(fence);
}

void Credential::invalidate() {
  Impl::Live &live = impl_->here();
  impl_->shared->here().metrics.count<&MetricsSnapshot::invalidations>();
  if (auto *tokens = live.tokens.load(std::memory_order_acquire)) tokens->cache.invalidate(0);
  if (auto *fleet = live.fleet.get())
    if (uint64_t fence = fleet->newest()) fleet->invalidate(fence);
}

CacheStatus Credential::cache_status() const { return impl_->tokens().cache.status(); }

CredentialStatus Credential::status() const {
  const CacheStatus cache = impl_->tokens().cache.status();
  CredentialStatus s;
  s.plugin_id = impl_->id();
  s.label = impl_->label();
  s.state = host::state_of(cache);
  s.has_token = cache.has_token;
  s.expires_at = cache.expires_at;
  s.never_expires = cache.never_expires;
  s.last_success_ms = cache.last_success_ms;
  s.failing_since_ms = cache.failing_since_ms;
  s.consecutive_failures = cache.consecutive_failures;
  s.last_error_kind = cache.last_error_kind;
  s.last_error = cache.last_error;
  s.next_attempt_ms = cache.next_attempt_ms;
  return s;
}

SecretString Credential::state() const {
  auto now = impl_->state_now();
  return now ? *now : SecretString();
}

void Credential::set_state(const SecretString &state) {
  if (auto problem = host::accept_state(impl_->redactor, state.view()))
    throw Error(ErrorKind::InvalidInput, "the credential's state: " + *problem);
  {
    std::lock_guard<std::mutex> one_at_a_time(impl_->tokens().token_mutex);  // not beside a token request
    std::lock_guard<host::ForkGuardedMutex> lock(impl_->state_mutex);
    impl_->state = std::make_shared<const SecretString>(state);
    impl_->state_unsaved = false;
  }
  invalidate();  // the token came from the state before
}

const std::string &Credential::plugin_id() const { return impl_->id(); }

const std::string &Credential::label() const { return impl_->label(); }

std::string Credential::redact(std::string_view text) const { return impl_->redactor.apply(text); }

AuthResult Credential::authenticate() {
  auto start = std::chrono::steady_clock::now();
  AuthResult result;
  host::Fetched fetched = impl_->authenticate_now(&result.info);
  result.headers = fetched.set->headers;
  result.expires_at = fetched.set->expires_at;
  result.never_expires = fetched.set->never_expires;
  result.expiry_source = fetched.expiry_source;
  impl_->tokens().cache.publish(std::move(fetched));
  result.elapsed_ms = ms_since(start);
  return result;
}

TestResult Credential::test() {
  auto start = std::chrono::steady_clock::now();
  TestResult result;
  Impl::collect_events(&result.events);
  struct StopCollecting {
    ~StopCollecting() { Impl::collect_events(nullptr); }
  } stop;
  result.auth = authenticate();
  if (!impl_->plugin->description().has_test) {
    result.has_test = false;
  } else {
    credplug_call call = impl_->make_call();
    const std::shared_ptr<const SecretString> state = impl_->state_now();
    call.state = state.get();
    int32_t rc = impl_->invoke(host::PluginOp::Test, call);
    if (rc != CREDPLUG_OK || !call.refused_output.empty()) impl_->raise(call, rc, "test");
    result.info = std::move(call.info);
  }
  result.elapsed_ms = ms_since(start);
  return result;
}

}  // namespace credplug

namespace credplug::host {

CredentialState state_of(const CacheStatus &s) {
  if (s.last_error_kind == ErrorKind::Reauthorize) return CredentialState::NeedsReauthorization;
  if (s.last_error_kind) return s.retryable ? CredentialState::Failing : CredentialState::Rejected;
  if (s.refreshing) return CredentialState::Refreshing;
  return s.generation > 0 ? CredentialState::Ok : CredentialState::Idle;
}

std::unique_ptr<Credential> create_credential(const std::shared_ptr<Shared> &shared,
                                              const std::shared_ptr<PluginTransport> &plugin,
                                              std::string_view credential_json, const OpenOptions &options) {
  const std::vector<SecretString> &also_secret = options.also_secret;
  auto impl = std::make_shared<Credential::Impl>();
  impl->plugin = plugin;
  impl->shared = shared;
  impl->label_ = options.label;
  for (auto &secret : plugin->schema().secret_values(credential_json)) impl->redactor.add(secret.view());
  for (const auto &secret : also_secret) impl->redactor.add(secret.view());
  impl->egress = EgressPolicy(plugin->schema().egress(), plugin->schema().secret_fields(), also_secret, credential_json,
                              plugin->schema().address_fields());
  impl->credential_json = SecretString(credential_json);  // NUL-terminated, wiped when closed
  if (options.on_state)
    impl->on_state = std::make_unique<const std::function<void(const SecretString &)>>(options.on_state);
  if (!options.state.empty()) {
    if (auto problem = accept_state(impl->redactor, options.state.view()))
      throw Error(ErrorKind::InvalidInput, "the credential's state: " + *problem);
    impl->state = std::make_shared<const SecretString>(options.state);
  }
  impl->here();  // create() in this process, now
  return std::make_unique<Credential>(std::move(impl));
}

}  // namespace credplug::host

namespace credplug {

Credential::Impl::Live Credential::Impl::make_live() {
  std::unique_ptr<host::PluginInstance> instance;
  std::unique_ptr<host::SharedCredential> fleet;
  credplug_call call = make_call();
  call.secret_epoch = 0;  // what create() declares is the credential's for its life
  int32_t rc = plugin->create(call, credential_json, instance);
  if (rc != CREDPLUG_OK) raise(call, rc, "create");
  for (auto &i : call.info)
    if (i.secret) redactor.add(i.value.view());
  host::Shared::Here &process = shared->here();
  if (process.store) {
    fleet = std::make_unique<host::SharedCredential>();
    fleet->store = process.store;
    fleet->metrics = &process.metrics;
    // A plugin that connects people's accounts serves many with one JSON
    // (the client's): each account is its label in the fleet, never a
    // token or a refresh token of another person's.
    fleet->names = process.store->names(id(), credential_json.view(),
                                        plugin->description().has_authorize ? label() : std::string());
    fleet->exclusive = [this] { return plugin->description().has_authorize || state_now() != nullptr; };
  }
  return Live(std::move(instance), std::move(fleet));
}

Credential::Impl::Live::Tokens &Credential::Impl::make_tokens(Live &l) {
  std::call_once(l.tokens_made, [&] {
    host::Shared::Here &process = shared->here();
    l.tokens.store(new Live::Tokens(
                       shared->cache, [this](host::FetchKind kind) { return fetch(kind); }, process.refreshers,
                       host::system_cache_clock(), &process.metrics,
                       [this](const host::CacheEvent &event) { log_cache_event(event); }),
                   std::memory_order_release);
  });
  return *l.tokens.load(std::memory_order_acquire);
}

}  // namespace credplug

namespace credplug::host {

Shared::Here::Here(const Shared &shared)
    : http(shared.http_options),
      refreshers(shared.cache.refresh_threads),
      store(shared.open_store ? shared.open_store() : nullptr) {}

}  // namespace credplug::host
