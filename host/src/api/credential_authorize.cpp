// authorize() on a credential's instance (plugin.h, minor 4): one call of
// either step of the authorization code grant, serialised with the
// credential's token requests.
#include "api/credential.hpp"

namespace credplug {

Credential::Impl::Authorized Credential::Impl::authorize(const credplug_authorization &auth) {
  if (!plugin->description().has_authorize)
    throw Error(ErrorKind::InvalidInput, "plugin '" + id + "' connects no person's account (it has no authorize())");
  Live &live_here = here();
  std::lock_guard<std::mutex> one_at_a_time(live_here.token_mutex);
  credplug_call call = make_call();
  call.authorization = &auth;
  call.may_set_state = auth.code != nullptr;  // the second step: the code redeemed
  const std::shared_ptr<const SecretString> state_before = state_now();
  call.state = state_before.get();
  const int32_t rc = invoke(host::PluginOp::Authorize, call);
  Authorized out;
  if (call.new_state) out.state = std::move(*call.new_state);
  if (rc != CREDPLUG_OK || !call.refused_output.empty()) raise(call, rc, "authorize");
  out.url = std::move(call.url);
  return out;
}

}  // namespace credplug
