// The C embedding API (credplug/host.h) over the C++ one. Every entry point
// catches everything: no exception reaches a C, JVM or Python caller.
#include <credplug/host.h>
#include <credplug/plugin.h>
#include <credplug/host.hpp>

#include <credplug/host_json.hpp>

#include "api/credential.hpp"
#include "cache/headers_handle.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <optional>
#include <utility>

struct credplug_host {
  std::unique_ptr<credplug::Host> host;
};

struct credplug_credential {
  // The opened credential, held inline: an allocation less per handle.
  explicit credplug_credential(std::unique_ptr<credplug::Credential> opened) : credential(std::move(opened->impl_)) {}
  std::atomic<long> references{1};  // credplug_credential_ref(); closed with the last
  credplug::Credential credential;

  // The calling thread's handle in its reader of the token cache (a friend
  // of Credential for this).
  const credplug_headers &borrow() { return credential.impl_->tokens().cache.borrow(); }
};

struct credplug_signed {
  credplug::SignedRequest result;
};

namespace {

using namespace credplug;

// A malloc'd copy, freed by credplug_free(); NULL when out of memory.
char *dup_string(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + sizeof(size_t) + 1));
  if (p == nullptr) return nullptr;
  // The length goes in front, so credplug_free() can wipe what it frees.
  const size_t n = s.size();
  std::memcpy(p, &n, sizeof n);
  std::memcpy(p + sizeof(size_t), s.c_str(), s.size() + 1);
  return p + sizeof(size_t);
}

void set_message(char **errmsg, const std::string &message) {
  if (errmsg) *errmsg = dup_string(message);
}

// Runs `body` (which returns a status) with errmsg cleared first, turning
// every exception into a status and a message.
template <class Body>
int32_t guarded(char **errmsg, Body &&body) noexcept {
  if (errmsg) *errmsg = nullptr;
  try {
    return body();
  } catch (const Error &e) {
    try {
      set_message(errmsg, e.what());
    } catch (...) {
    }
    return status_code(e.kind());
  } catch (const std::bad_alloc &) {
    return CREDPLUG_HOST_ERR_INTERNAL;
  } catch (const std::exception &e) {
    try {
      set_message(errmsg, std::string("internal error: ") + e.what());
    } catch (...) {
    }
    return CREDPLUG_HOST_ERR_INTERNAL;
  } catch (...) {
    return CREDPLUG_HOST_ERR_INTERNAL;
  }
}

int32_t misuse(char **errmsg, const char *what) {
  set_message(errmsg, what);
  return CREDPLUG_HOST_ERR_MISUSE;
}

int32_t give(char **out, const std::string &s) {
  if (out == nullptr) return CREDPLUG_HOST_OK;
  *out = dup_string(s);
  return *out ? CREDPLUG_HOST_OK : CREDPLUG_HOST_ERR_INTERNAL;
}

// A C option of a few named values into `out`: 0 leaves it unset (the
// default); false for a value none of `named` has.
template <class T>
bool c_choice(int32_t value, std::initializer_list<std::pair<int32_t, T>> named, std::optional<T> &out) {
  if (value == 0) return true;
  for (const auto &[number, choice] : named)
    if (number == value) return out = choice, true;
  return false;
}

}  // namespace

extern "C" {

void credplug_host_options_init_sized(credplug_host_options *out, size_t size) {
  if (out == nullptr || size < sizeof out->struct_size) return;
  credplug_host_options full;
  credplug_host_options *o = &full;
  const HostOptions d;
  std::memset(o, 0, sizeof *o);
  o->use_environment = d.use_environment;
  o->use_default_dir = d.use_default_dir;
  o->connect_timeout_ms = d.connect_timeout_ms;
  o->total_timeout_ms = d.total_timeout_ms;
  o->log_level = d.log_level;
  o->cache_skew_ms = d.cache.skew_ms;
  o->cache_refresh_fraction = d.cache.refresh_fraction;
  o->cache_max_refresh_window_ms = d.cache.max_refresh_window_ms;
  o->cache_default_lifetime_ms = d.cache.default_lifetime_ms;
  o->cache_max_attempts = d.cache.max_attempts;
  o->cache_backoff_initial_ms = d.cache.backoff_initial_ms;
  o->cache_backoff_max_ms = d.cache.backoff_max_ms;
  o->cache_max_wait_ms = d.cache.max_wait_ms;
  o->cache_rejection_hold_ms = d.cache.rejection_hold_ms;
  o->cache_refresh_threads = d.cache.refresh_threads;
  o->allow_unsafe_plugin_paths = d.allow_unsafe_plugin_paths;
  o->disable_core_dumps = d.disable_core_dumps;
  o->max_response_bytes = int64_t(d.max_response_bytes);
  o->shared_cache_timeout_ms = d.shared_cache_timeout_ms;
  o->keep_dumpable_with_runners = d.keep_dumpable_with_runners;
  o->runners_without_namespaces = d.runners_without_namespaces;
  o->runners_without_zygote = d.runners_without_zygote;
  o->runners_without_spare = d.runners_without_spare;
  const size_t filled = std::min(size, sizeof full);
  full.struct_size = uint32_t(filled);
  std::memcpy(out, &full, filled);
}

// credplug_host_options_init, exported twice (host.map). A program built
// against 0.1 called it when the header had no macro: its reference is bound
// to CREDPLUG_HOST_0, and it gets the fields 0.1 had, all its struct holds.
void options_init_for_0_1_programs(credplug_host_options *options) {
  credplug_host_options_init_sized(options, offsetof(credplug_host_options, allow_unsafe_plugin_paths));
}
__asm__(".symver options_init_for_0_1_programs, credplug_host_options_init@CREDPLUG_HOST_0");

// What the name finds now (dlsym, ctypes, a call around the header's macro)
// cannot know how large the caller's struct is: it fills nothing and marks
// the struct unusable, and credplug_host_new() refuses it saying what to
// call instead. (Filling the 0.1 fields made later ones silently ignored.)
void options_init_without_size(credplug_host_options *options) {
  if (options != nullptr) options->struct_size = 0;
}
__asm__(".symver options_init_without_size, credplug_host_options_init@@CREDPLUG_HOST_0_7");

int32_t credplug_host_version_number(void) { return CREDPLUG_HOST_VERSION_NUMBER; }

const char *credplug_host_version(void) {
#define CREDPLUG_STR2(x) #x
#define CREDPLUG_STR(x) CREDPLUG_STR2(x)
  return CREDPLUG_VERSION_STRING
      " (plugin ABI " CREDPLUG_STR(CREDPLUG_ABI_MAJOR) "." CREDPLUG_STR(CREDPLUG_ABI_MINOR) ")";
}

int32_t credplug_host_new(const credplug_host_options *options, credplug_host **out, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (out == nullptr) return misuse(errmsg, "credplug_host_new: `out` is NULL");
    *out = nullptr;
    credplug_host_options o;
    credplug_host_options_init_sized(&o, sizeof o);
    // 0.4 and later: 0 is the default everywhere; before, 0 meant off or zero
    // in a few fields (host.h). NULL options are all defaults either way.
    bool zero_is_default = true;
    if (options != nullptr) {
      if (options->struct_size < offsetof(credplug_host_options, cache_skew_ms))
        return misuse(errmsg, ("credplug_host_new: options.struct_size is " + std::to_string(options->struct_size) +
                               ", too small: fill the options with credplug_host_options_init(&o) from C (the "
                               "header's macro passes the size), or credplug_host_options_init_sized(&o, sizeof o) "
                               "through an FFI")
                                  .c_str());
      std::memcpy(&o, options, std::min<size_t>(options->struct_size, sizeof o));
      zero_is_default = CREDPLUG_HAS_FIELD(options, credplug_host_options, max_response_bytes);
    }
    const HostOptions defaults;
    // A switch: 0 the default, CREDPLUG_OFF (or 0 in an older struct) off.
    auto flag = [&](int32_t v, bool fallback) { return zero_is_default && v == 0 ? fallback : v > 0; };
    // A duration where zero is a setting: 0 the default, CREDPLUG_OFF zero.
    auto duration = [&](int64_t v, long fallback) -> long {
      if (v == 0) return zero_is_default ? fallback : 0;
      return v < 0 ? 0 : long(v);
    };
    HostOptions h;
    if (o.plugin_dirs)
      for (const char *const *d = o.plugin_dirs; *d; ++d) h.plugin_dirs.emplace_back(*d);
    h.use_environment = flag(o.use_environment, defaults.use_environment);
    h.use_default_dir = flag(o.use_default_dir, defaults.use_default_dir);
    if (o.ca_file) h.ca_file = o.ca_file;
    if (o.connect_timeout_ms > 0) h.connect_timeout_ms = long(o.connect_timeout_ms);
    if (o.total_timeout_ms > 0) h.total_timeout_ms = long(o.total_timeout_ms);
    h.log_level = o.log_level < 0                       ? CREDPLUG_LOG_ERROR
                  : o.log_level == 0 && zero_is_default ? defaults.log_level
                                                        : o.log_level;
    if (o.max_response_bytes > 0) h.max_response_bytes = size_t(o.max_response_bytes);
    if (o.shared_cache_url) h.shared_cache_url = o.shared_cache_url;
    if (o.shared_cache_key_file) h.shared_cache_key_file = o.shared_cache_key_file;
    if (o.shared_cache_timeout_ms > 0) h.shared_cache_timeout_ms = long(o.shared_cache_timeout_ms);
    if (o.log) h.log = [fn = o.log, user = o.log_user](int level, const std::string &m) { fn(user, level, m.c_str()); };
    auto &c = h.cache;
    c.skew_ms = duration(o.cache_skew_ms, defaults.cache.skew_ms);
    if (o.cache_refresh_fraction > 0 && o.cache_refresh_fraction <= 1) c.refresh_fraction = o.cache_refresh_fraction;
    c.max_refresh_window_ms = duration(o.cache_max_refresh_window_ms, defaults.cache.max_refresh_window_ms);
    if (o.cache_default_lifetime_ms > 0) c.default_lifetime_ms = long(o.cache_default_lifetime_ms);
    if (o.cache_max_attempts > 0) c.max_attempts = o.cache_max_attempts;
    if (o.cache_backoff_initial_ms > 0) c.backoff_initial_ms = long(o.cache_backoff_initial_ms);
    if (o.cache_backoff_max_ms > 0) c.backoff_max_ms = long(o.cache_backoff_max_ms);
    c.max_wait_ms = duration(o.cache_max_wait_ms, defaults.cache.max_wait_ms);
    c.rejection_hold_ms = duration(o.cache_rejection_hold_ms, defaults.cache.rejection_hold_ms);
    if (o.cache_refresh_threads > 0) c.refresh_threads = o.cache_refresh_threads;
    h.allow_unsafe_plugin_paths = o.allow_unsafe_plugin_paths != 0;
    h.disable_core_dumps = o.disable_core_dumps != 0;
    if (o.pin_file) h.pin_file = o.pin_file;
    if (!c_choice(
            o.isolation,
            {{CREDPLUG_ISOLATION_PROCESS, Isolation::Process}, {CREDPLUG_ISOLATION_IN_PROCESS, Isolation::InProcess}},
            h.isolation))
      return misuse(errmsg, ("credplug_host_new: options.isolation is " + std::to_string(o.isolation) +
                             "; use a CREDPLUG_ISOLATION_* value")
                                .c_str());
    if (o.runner_path) h.runner_path = o.runner_path;
    if (o.authorization_key_file) h.authorization_key_file = o.authorization_key_file;
    if (auto *sink = o.on_event)
      h.on_event = [sink, data = o.on_event_data](const CredentialEvent &e) {
        sink(data, json::event_json(e, json::JsonStyle::Line).c_str());
      };
    h.keep_dumpable_with_runners = o.keep_dumpable_with_runners != 0;  // older structs: the default, 0
    h.runners_without_namespaces = o.runners_without_namespaces != 0;
    h.runners_without_zygote = o.runners_without_zygote != 0;
    h.runners_without_spare = o.runners_without_spare != 0;
    if (!c_choice(o.log_format,
                  {{CREDPLUG_LOG_FORMAT_TEXT, LogFormat::Text}, {CREDPLUG_LOG_FORMAT_JSON, LogFormat::JsonLines}},
                  h.log_format))
      return misuse(errmsg, ("credplug_host_new: options.log_format is " + std::to_string(o.log_format) +
                             "; use a CREDPLUG_LOG_FORMAT_* value")
                                .c_str());
    auto host = std::make_unique<credplug_host>();
    host->host = std::make_unique<Host>(std::move(h));
    *out = host.release();
    return CREDPLUG_HOST_OK;
  });
}

void credplug_host_free(credplug_host *host) {
  try {
    delete host;
  } catch (...) {
  }
}

int32_t credplug_host_metrics(credplug_host *host, char **json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (host == nullptr || json == nullptr) return misuse(errmsg, "credplug_host_metrics: `host` or `json` is NULL");
    *json = nullptr;
    return give(json, json::metrics_json(host->host->metrics(), json::JsonStyle::Line));
  });
}

int32_t credplug_host_metrics_prometheus(credplug_host *host, char **text, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (host == nullptr || text == nullptr)
      return misuse(errmsg, "credplug_host_metrics_prometheus: `host` or `text` is NULL");
    *text = nullptr;
    return give(text, json::metrics_prometheus(host->host->metrics()));
  });
}

int32_t credplug_host_plugins(credplug_host *host, char **json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (host == nullptr || json == nullptr) return misuse(errmsg, "credplug_host_plugins: `host` or `json` is NULL");
    *json = nullptr;
    auto &h = *host->host;
    return give(json, json::plugins_json(h.plugins(), h.problems(), h.search_path(), json::JsonStyle::Line));
  });
}

int32_t credplug_host_reload_plugins(credplug_host *host, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (host == nullptr) return misuse(errmsg, "credplug_host_reload_plugins: `host` is NULL");
    host->host->reload_plugins();
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_validate(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                          char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (host == nullptr || plugin_id == nullptr || credential_json == nullptr)
      return misuse(errmsg, "credplug_validate: `host`, `plugin_id` or `credential_json` is NULL");
    Validation v = host->host->validate(plugin_id, std::string_view(credential_json, len));
    if (v.ok()) return CREDPLUG_HOST_OK;
    std::string all;
    for (const auto &e : v.errors) all += (all.empty() ? "" : "\n") + e.message;
    set_message(errmsg, all);
    return CREDPLUG_HOST_ERR_INVALID_INPUT;
  });
}

int32_t credplug_validate_json(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                               char **result_json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (result_json == nullptr) return misuse(errmsg, "credplug_validate_json: `result_json` is NULL");
    *result_json = nullptr;
    if (host == nullptr || plugin_id == nullptr || credential_json == nullptr)
      return misuse(errmsg, "credplug_validate_json: `host`, `plugin_id` or `credential_json` is NULL");
    Validation v = host->host->validate(plugin_id, std::string_view(credential_json, len));
    return give(result_json, json::validation_json(plugin_id, v, json::JsonStyle::Line));
  });
}

int32_t credplug_host_schema(credplug_host *host, const char *plugin_id, char **schema_json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (schema_json == nullptr) return misuse(errmsg, "credplug_host_schema: `schema_json` is NULL");
    *schema_json = nullptr;
    if (host == nullptr || plugin_id == nullptr)
      return misuse(errmsg, "credplug_host_schema: `host` or `plugin_id` is NULL");
    return give(schema_json, host->host->schema(plugin_id));
  });
}

int32_t credplug_host_schema_form(credplug_host *host, const char *plugin_id, char **form_json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (form_json == nullptr) return misuse(errmsg, "credplug_host_schema_form: `form_json` is NULL");
    *form_json = nullptr;
    if (host == nullptr || plugin_id == nullptr)
      return misuse(errmsg, "credplug_host_schema_form: `host` or `plugin_id` is NULL");
    return give(form_json, host->host->form_schema(plugin_id));
  });
}

int32_t credplug_open_with(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                           const credplug_open_options *options, credplug_credential **out, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (out == nullptr) return misuse(errmsg, "credplug_open: `out` is NULL");
    *out = nullptr;
    if (host == nullptr || plugin_id == nullptr || credential_json == nullptr)
      return misuse(errmsg, "credplug_open: `host`, `plugin_id` or `credential_json` is NULL");
    OpenOptions open;
    if (options != nullptr) {
      if (!CREDPLUG_HAS_FIELD(options, credplug_open_options, label))
        return misuse(errmsg, ("credplug_open_with: options->struct_size is " + std::to_string(options->struct_size) +
                               "; set it to sizeof(credplug_open_options)")
                                  .c_str());
      if (options->label != nullptr) open.label = options->label;
      if (CREDPLUG_HAS_FIELD(options, credplug_open_options, on_state_data)) {
        if (options->state != nullptr) open.state = SecretString(options->state, options->state_len);
        if (auto *sink = options->on_state) {
          void *data = options->on_state_data;
          open.on_state = [sink, data](const SecretString &state) {
            if (sink(data, state.c_str(), state.size()) != 0)
              throw std::runtime_error("the embedder's on_state callback returned failure");
          };
        }
      }
    }
    *out = new credplug_credential(host->host->open(plugin_id, std::string_view(credential_json, len), open));
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_open(credplug_host *host, const char *plugin_id, const char *credential_json, size_t len,
                      credplug_credential **out, char **errmsg) {
  return credplug_open_with(host, plugin_id, credential_json, len, nullptr, out, errmsg);
}

credplug_credential *credplug_credential_ref(credplug_credential *credential) {
  if (credential != nullptr) credential->references.fetch_add(1, std::memory_order_relaxed);
  return credential;
}

void credplug_credential_free(credplug_credential *credential) {
  if (credential == nullptr || credential->references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  try {
    delete credential;
  } catch (...) {
  }
}

int32_t credplug_headers_get(credplug_credential *credential, credplug_headers **out, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (out == nullptr) return misuse(errmsg, "credplug_headers_get: `out` is NULL");
    *out = nullptr;
    if (credential == nullptr) return misuse(errmsg, "credplug_headers_get: `credential` is NULL");
    *out = new credplug_headers{credential->credential.headers()};
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_headers_borrow(credplug_credential *credential, const credplug_headers **out, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (out == nullptr) return misuse(errmsg, "credplug_headers_borrow: `out` is NULL");
    *out = nullptr;
    if (credential == nullptr) return misuse(errmsg, "credplug_headers_borrow: `credential` is NULL");
    *out = &credential->borrow();
    return CREDPLUG_HOST_OK;
  });
}

size_t credplug_headers_count(const credplug_headers *h) { return h ? h->set->headers.size() : 0; }

const char *credplug_headers_name(const credplug_headers *h, size_t i) {
  return h && i < h->set->headers.size() ? h->set->headers[i].name.c_str() : nullptr;
}

const char *credplug_headers_value(const credplug_headers *h, size_t i) {
  return h && i < h->set->headers.size() ? h->set->headers[i].value.c_str() : nullptr;
}

int32_t credplug_headers_secret(const credplug_headers *h, size_t i) {
  return h && i < h->set->headers.size() && h->set->headers[i].secret ? 1 : 0;
}

int64_t credplug_headers_expires_at(const credplug_headers *h) {
  if (h && h->set->never_expires) return INT64_MAX;
  return h && h->set->expires_at ? *h->set->expires_at : 0;
}

uint64_t credplug_headers_generation(const credplug_headers *h) { return h ? h->set->generation : 0; }

void credplug_headers_release(credplug_headers *h) { delete h; }

int32_t credplug_headers_get_cached(credplug_credential *credential, credplug_headers **out, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (out == nullptr) return misuse(errmsg, "credplug_headers_get_cached: `out` is NULL");
    *out = nullptr;
    if (credential == nullptr) return misuse(errmsg, "credplug_headers_get_cached: `credential` is NULL");
    HeadersPtr cached = credential->credential.cached_headers();
    if (!cached) return CREDPLUG_HOST_OK;
    *out = new credplug_headers{std::move(cached)};
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_invalidate(credplug_credential *credential, const credplug_headers *rejected, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (credential == nullptr) return misuse(errmsg, "credplug_invalidate: `credential` is NULL");
    if (rejected)
      credential->credential.invalidate(*rejected->set);
    else
      credential->credential.invalidate();
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_begin_authorization(credplug_host *host, const char *plugin_id, const char *credential_json,
                                     size_t len, const char *redirect_uri, char **url, char **pending,
                                     int64_t *expires_at, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (url == nullptr || pending == nullptr)
      return misuse(errmsg, "credplug_begin_authorization: `url` or `pending` is NULL");
    *url = *pending = nullptr;
    if (host == nullptr || plugin_id == nullptr || credential_json == nullptr || redirect_uri == nullptr)
      return misuse(errmsg,
                    "credplug_begin_authorization: `host`, `plugin_id`, `credential_json` or `redirect_uri` is NULL");
    PendingAuthorization begun =
        host->host->begin_authorization(plugin_id, std::string_view(credential_json, len), redirect_uri);
    *url = dup_string(begun.url);
    *pending = dup_string(begun.pending.reveal());
    if (expires_at) *expires_at = begun.expires_at;
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_complete_authorization(credplug_host *host, const char *pending, const char *redirect_url,
                                        char **state_json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (state_json == nullptr) return misuse(errmsg, "credplug_complete_authorization: `state_json` is NULL");
    *state_json = nullptr;
    if (host == nullptr || pending == nullptr || redirect_url == nullptr)
      return misuse(errmsg, "credplug_complete_authorization: `host`, `pending` or `redirect_url` is NULL");
    SecretString state = host->host->complete_authorization(pending, redirect_url);
    *state_json = dup_string(state.reveal());
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_credential_state(credplug_credential *credential, char **state_json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (state_json == nullptr) return misuse(errmsg, "credplug_credential_state: `state_json` is NULL");
    *state_json = nullptr;
    if (credential == nullptr) return misuse(errmsg, "credplug_credential_state: `credential` is NULL");
    SecretString state = credential->credential.state();
    if (!state.empty()) *state_json = dup_string(state.reveal());
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_credential_set_state(credplug_credential *credential, const char *state_json, size_t len,
                                      char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (credential == nullptr || state_json == nullptr)
      return misuse(errmsg, "credplug_credential_set_state: `credential` or `state_json` is NULL");
    credential->credential.set_state(SecretString(state_json, len));
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_credential_revoke(credplug_credential *credential, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (credential == nullptr) return misuse(errmsg, "credplug_credential_revoke: `credential` is NULL");
    credential->credential.revoke();
    return CREDPLUG_HOST_OK;
  });
}

int32_t credplug_credential_sign(credplug_credential *credential, const credplug_request *request,
                                 credplug_signed **out, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (out == nullptr) return misuse(errmsg, "credplug_credential_sign: `out` is NULL");
    *out = nullptr;
    if (credential == nullptr || !CREDPLUG_HAS_FIELD(request, credplug_request, time_ms) || request->url == nullptr)
      return misuse(errmsg, "credplug_credential_sign: `credential` is NULL, or `request` has no URL or struct_size");
    RequestToSign r;
    if (request->method) r.method = request->method;
    r.url = request->url;
    if (request->headers)
      for (const char *const *h = request->headers; h[0] != nullptr && h[1] != nullptr; h += 2)
        r.headers.emplace_back(h[0], h[1]);
    if (request->body) r.body = std::string_view(static_cast<const char *>(request->body), request->body_len);
    if (request->body_sha256) r.body_sha256 = request->body_sha256;
    if (request->time_ms != 0) r.time_ms = request->time_ms;
    *out = new credplug_signed{credential->credential.sign(r)};
    return CREDPLUG_HOST_OK;
  });
}

size_t credplug_signed_header_count(const credplug_signed *s) { return s ? s->result.headers.size() : 0; }

const char *credplug_signed_header_name(const credplug_signed *s, size_t i) {
  return s && i < s->result.headers.size() ? s->result.headers[i].name.c_str() : nullptr;
}

const char *credplug_signed_header_value(const credplug_signed *s, size_t i) {
  return s && i < s->result.headers.size() ? s->result.headers[i].value.c_str() : nullptr;
}

int32_t credplug_signed_header_secret(const credplug_signed *s, size_t i) {
  return s && i < s->result.headers.size() && s->result.headers[i].secret ? 1 : 0;
}

size_t credplug_signed_query_count(const credplug_signed *s) { return s ? s->result.query.size() : 0; }

const char *credplug_signed_query_name(const credplug_signed *s, size_t i) {
  return s && i < s->result.query.size() ? s->result.query[i].name.c_str() : nullptr;
}

const char *credplug_signed_query_value(const credplug_signed *s, size_t i) {
  return s && i < s->result.query.size() ? s->result.query[i].value.c_str() : nullptr;
}

const char *credplug_signed_url(const credplug_signed *s) { return s ? s->result.url.c_str() : nullptr; }

void credplug_signed_release(credplug_signed *s) {
  if (s != nullptr) kit::wipe(s->result.url);
  delete s;
}

int32_t credplug_test(credplug_credential *credential, char **result_json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (result_json) *result_json = nullptr;
    if (credential == nullptr) return misuse(errmsg, "credplug_test: `credential` is NULL");
    auto &c = credential->credential;
    TestResult r = c.test();
    return give(result_json, json::test_json(c.plugin_id(), r, "", json::JsonStyle::Line));
  });
}

int32_t credplug_cache_status(credplug_credential *credential, char **json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (credential == nullptr || json == nullptr)
      return misuse(errmsg, "credplug_cache_status: `credential` or `json` is NULL");
    *json = nullptr;
    return give(json, json::cache_status_json(credential->credential.cache_status()));
  });
}

int32_t credplug_credential_status(credplug_credential *credential, char **json, char **errmsg) {
  return guarded(errmsg, [&]() -> int32_t {
    if (credential == nullptr || json == nullptr)
      return misuse(errmsg, "credplug_credential_status: `credential` or `json` is NULL");
    *json = nullptr;
    return give(json, json::credential_status_json(credential->credential.status()));
  });
}

void credplug_free(void *p) {
  if (p == nullptr) return;
  char *start = static_cast<char *>(p) - sizeof(size_t);
  size_t len;
  std::memcpy(&len, start, sizeof len);
  OPENSSL_cleanse(start, sizeof(size_t) + len + 1);
  std::free(start);
}

}  // extern "C"
