// Connecting and disconnecting a person's account on a credential's
// instance: authorize() (plugin.h, minor 4), one call of either step of the
// authorization code grant; revoke() (minor 5). Each is serialised with the
// credential's token requests.
#include "api/credential.hpp"

namespace credplug {

Credential::Impl::Authorized Credential::Impl::authorize(const credplug_authorization &auth) {
  if (!plugin->description().has_authorize)
    throw Error(ErrorKind::InvalidInput, "plugin '" + id() + "' connects no person's account (it has no authorize())");
  std::lock_guard<std::mutex> one_at_a_time(tokens().token_mutex);
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

void Credential::revoke() {
  if (!impl_->plugin->description().has_revoke)
    throw Error(ErrorKind::InvalidInput,
                "plugin '" + impl_->id() + "' has no grant to revoke (it has no revoke(), plugin.h minor 5)");
  {
    std::lock_guard<std::mutex> one_at_a_time(impl_->tokens().token_mutex);
    impl_->save_state();  // a state the sink refused before is the one revoked, and never lost
    credplug_call call = impl_->make_call();
    const std::shared_ptr<const SecretString> revoked = impl_->state_now();
    call.state = revoked.get();
    const int32_t rc = impl_->invoke(host::PluginOp::Revoke, call);
    if (rc != CREDPLUG_OK || !call.refused_output.empty()) impl_->raise(call, rc, "revoke");
    std::lock_guard<host::ForkGuardedMutex> lock(impl_->state_mutex);
    impl_->state = std::make_shared<const SecretString>(std::string_view("{}"));
    impl_->state_unsaved = static_cast<bool>(impl_->on_state);
  }
  invalidate();  // its tokens came from the grant just revoked
  impl_->raise_event(CredentialEvent::Type::Revoked, CredentialState::NeedsReauthorization, std::nullopt,
                     "disconnected: its grant was revoked at the provider; connect the account again to use it");
  impl_->save_state();
}

}  // namespace credplug
