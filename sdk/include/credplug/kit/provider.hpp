// Provider: the C++ base class a plugin implements, and CREDPLUG_PLUGIN(),
// which turns it into the C ABI. The kit catches every exception at the
// boundary: a Failure becomes its code and message, anything else becomes
// CREDPLUG_ERR_PLUGIN.
//
//   class MyProvider : public credplug::kit::Provider {
//    public:
//     MyProvider(const credplug::kit::JsonDocument &credential, credplug::kit::Call &call);
//     void authenticate(credplug::kit::Call &call) override;
//     void test(credplug::kit::Call &call) override;
//     // Optional (ABI minor 1): the provider's own refresh operation.
//     void refresh(credplug::kit::Call &call) override;
//     // Optional (ABI minor 1): token lifetime when the provider does not say.
//     static constexpr uint32_t kDefaultTokenLifetimeSeconds = 3600;
//     // Optional (ABI minor 3): sign one request (call.header, call.query).
//     void sign(credplug::kit::Call &call, const credplug::kit::SignRequest &request) override;
//     // Optional (ABI minor 4): the authorization code grant (call.url, then
//     // call.set_state with the refresh token).
//     void authorize(credplug::kit::Call &call, const credplug_authorization &auth) override;
//   };
//   CREDPLUG_PLUGIN(MyProvider, "myid", "My Provider", "1.0.0", credplug_credential_schema, 0)
#pragma once

#include <credplug/plugin.h>
#include <credplug/kit/call.hpp>
#include <credplug/kit/failure.hpp>
#include <credplug/kit/json.hpp>

#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>

// The credential schema text that credplug_add_plugin() embeds from the
// plugin's SCHEMA file (a plugin built otherwise defines it itself).
extern "C" const char credplug_credential_schema[];

namespace credplug::kit {

class Provider {
 public:
  virtual ~Provider() = default;
  // Emit the headers to attach (call.header) and the expiry (call.expires_at).
  virtual void authenticate(Call &call) = 0;
  // The provider's connection test; runs after authenticate() on this object.
  virtual void test(Call &call) = 0;
  // The provider's refresh operation (plugin.h, refresh()). The hook is
  // exported only when a provider overrides this; the host then calls it to
  // renew, and authenticate() when it fails.
  virtual void refresh(Call &call) { authenticate(call); }
  // Per-request signing (plugin.h, sign()). The hook is exported only when a
  // provider overrides this; authenticate() may then output no header.
  virtual void sign(Call &, const SignRequest &) { fail(CREDPLUG_ERR_PLUGIN, "this provider does not sign requests"); }
  // The authorization code grant (plugin.h, authorize()): with auth.code
  // NULL, output the authorization URL (call.url); with it set, redeem the
  // code and output the state (call.set_state). Exported only when a
  // provider overrides this; require minor 4 (CREDPLUG_PLUGIN_REQUIRING).
  virtual void authorize(Call &, const credplug_authorization &) {
    fail(CREDPLUG_ERR_PLUGIN, "this provider connects no person's account");
  }
  // Disconnecting the account (plugin.h, revoke()): revoke at the provider
  // the grant call.state() holds; the host empties the state after.
  // Exported only when a provider overrides this; require minor 5.
  virtual void revoke(Call &) { fail(CREDPLUG_ERR_PLUGIN, "this provider has nothing to revoke"); }
};

namespace detail {

// The host's service table, set by init() (one per plugin library: the kit
// is linked statically with hidden visibility into each plugin).
const credplug_host_api *host_api() noexcept;
int32_t init(const credplug_host_api *host) noexcept;
void shutdown() noexcept;
// Hands a failure to the host's set_error(); returns the code to return.
int32_t report_failure(credplug_call *call, int32_t code, const char *message) noexcept;

// Runs `body(Call&)`; any exception becomes set_error() and a status code.
// A template (not std::function) so that nothing can throw outside the try.
template <class Body>
int32_t guarded(credplug_call *call, Body &&body) noexcept {
  const credplug_host_api *api = host_api();
  if (api == nullptr) return CREDPLUG_ERR_PLUGIN;  // init() was not called
  try {
    Call c(api, call);
    body(c);
    return CREDPLUG_OK;
  } catch (const Failure &f) {
    return report_failure(call, f.code() == CREDPLUG_OK ? CREDPLUG_ERR_PLUGIN : f.code(), f.what());
  } catch (const std::bad_alloc &) {
    return report_failure(call, CREDPLUG_ERR_PLUGIN, "the plugin ran out of memory");
  } catch (const std::exception &e) {
    try {
      return report_failure(call, CREDPLUG_ERR_PLUGIN,
                            (std::string("internal error in the plugin: ") + e.what()).c_str());
    } catch (...) {
      return report_failure(call, CREDPLUG_ERR_PLUGIN, "internal error in the plugin");
    }
  } catch (...) {
    return report_failure(call, CREDPLUG_ERR_PLUGIN, "internal error in the plugin (unknown exception)");
  }
}
int32_t answer_interface(const credplug_plugin *descriptor, uint32_t required_minor, const char *name, uint32_t major,
                         uint32_t host_minor_max, credplug_interface_answer *answer) noexcept;

template <class P>
int32_t create(credplug_call *call, const char *json, size_t len, credplug_instance **out) noexcept {
  if (out == nullptr) return CREDPLUG_ERR_PLUGIN;
  *out = nullptr;
  return guarded(call, [&](Call &c) {
    auto credential = JsonDocument::parse_object(std::string_view(json ? json : "", json ? len : 0));
    if (!credential) fail(CREDPLUG_ERR_INVALID_CONFIG, "the credential is not a JSON object");
    *out = reinterpret_cast<credplug_instance *>(static_cast<Provider *>(new P(*credential, c)));
  });
}

inline Provider *provider(credplug_instance *inst) { return reinterpret_cast<Provider *>(inst); }

inline int32_t authenticate(credplug_instance *inst, credplug_call *call) noexcept {
  if (inst == nullptr) return CREDPLUG_ERR_PLUGIN;
  return guarded(call, [&](Call &c) { provider(inst)->authenticate(c); });
}

inline int32_t test(credplug_instance *inst, credplug_call *call) noexcept {
  if (inst == nullptr) return CREDPLUG_ERR_PLUGIN;
  return guarded(call, [&](Call &c) { provider(inst)->test(c); });
}

inline int32_t refresh(credplug_instance *inst, credplug_call *call) noexcept {
  if (inst == nullptr) return CREDPLUG_ERR_PLUGIN;
  return guarded(call, [&](Call &c) { provider(inst)->refresh(c); });
}

inline int32_t sign(credplug_instance *inst, credplug_call *call, const credplug_sign_request *req) noexcept {
  if (inst == nullptr || req == nullptr) return CREDPLUG_ERR_PLUGIN;
  return guarded(call, [&](Call &c) { provider(inst)->sign(c, SignRequest(*req)); });
}

inline int32_t authorize(credplug_instance *inst, credplug_call *call, const credplug_authorization *auth) noexcept {
  if (inst == nullptr || auth == nullptr) return CREDPLUG_ERR_PLUGIN;
  return guarded(call, [&](Call &c) { provider(inst)->authorize(c, *auth); });
}

inline int32_t revoke(credplug_instance *inst, credplug_call *call) noexcept {
  if (inst == nullptr) return CREDPLUG_ERR_PLUGIN;
  return guarded(call, [&](Call &c) { provider(inst)->revoke(c); });
}

inline void destroy(credplug_instance *inst) noexcept { delete provider(inst); }

// The refresh hook when P overrides Provider::refresh, else NULL.
template <class P>
constexpr decltype(credplug_plugin::refresh) refresh_hook() {
  return std::is_same_v<decltype(&P::refresh), void (Provider::*)(Call &)> ? nullptr : &refresh;
}

// The sign hook when P overrides Provider::sign, else NULL.
template <class P>
constexpr decltype(credplug_plugin::sign) sign_hook() {
  return std::is_same_v<decltype(&P::sign), void (Provider::*)(Call &, const SignRequest &)> ? nullptr : &sign;
}

// The authorize hook when P overrides Provider::authorize, else NULL.
template <class P>
constexpr decltype(credplug_plugin::authorize) authorize_hook() {
  return std::is_same_v<decltype(&P::authorize), void (Provider::*)(Call &, const credplug_authorization &)>
             ? nullptr
             : &authorize;
}

// The revoke hook when P overrides Provider::revoke, else NULL.
template <class P>
constexpr decltype(credplug_plugin::revoke) revoke_hook() {
  return std::is_same_v<decltype(&P::revoke), void (Provider::*)(Call &)> ? nullptr : &revoke;
}

// P::kDefaultTokenLifetimeSeconds when P declares it, else 0 (unknown).
template <class P, class = void>
struct default_lifetime : std::integral_constant<uint32_t, 0> {};
template <class P>
struct default_lifetime<P, std::void_t<decltype(P::kDefaultTokenLifetimeSeconds)>>
    : std::integral_constant<uint32_t, P::kDefaultTokenLifetimeSeconds> {};

template <class P>
constexpr credplug_plugin make_descriptor(const char *id, const char *display_name, const char *version,
                                          const char *schema, uint64_t capabilities) {
  return credplug_plugin{sizeof(credplug_plugin),
                         CREDPLUG_ABI_MAJOR,
                         CREDPLUG_ABI_MINOR,
                         id,
                         display_name,
                         version,
                         schema,
                         capabilities,
                         &init,
                         &shutdown,
                         &create<P>,
                         &authenticate,
                         &test,
                         &destroy,
                         refresh_hook<P>(),
                         default_lifetime<P>::value,
                         sign_hook<P>(),
                         authorize_hook<P>(),
                         revoke_hook<P>()};
}

}  // namespace detail
}  // namespace credplug::kit

// Defines the plugin's one exported symbol. The descriptor is constant-
// initialised: no code runs at load time. The plugin needs no newer host
// minor than 0 (later additions are optional); use CREDPLUG_PLUGIN_REQUIRING
// when it does.
#define CREDPLUG_PLUGIN_REQUIRING(REQUIRED_MINOR, PROVIDER, ID, NAME, VERSION, SCHEMA, CAPS)                           \
  namespace {                                                                                                          \
  constexpr credplug_plugin credplug_descriptor_ =                                                                     \
      ::credplug::kit::detail::make_descriptor<PROVIDER>(ID, NAME, VERSION, SCHEMA, CAPS);                             \
  }                                                                                                                    \
  extern "C" CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max, \
                                                            credplug_interface_answer *answer) {                       \
    return ::credplug::kit::detail::answer_interface(&credplug_descriptor_, REQUIRED_MINOR, name, major,               \
                                                     host_minor_max, answer);                                          \
  }

#define CREDPLUG_PLUGIN(PROVIDER, ID, NAME, VERSION, SCHEMA, CAPS) \
  CREDPLUG_PLUGIN_REQUIRING(0, PROVIDER, ID, NAME, VERSION, SCHEMA, CAPS)
