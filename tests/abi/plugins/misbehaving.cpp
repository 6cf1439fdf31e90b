// A kit-based plugin that misbehaves in each way the host must contain:
// exceptions of every kind, secrets in error messages and in logs.
#include <credplug/kit.hpp>

#include <stdexcept>

using namespace credplug::kit;

namespace {

class Misbehaving final : public Provider {
 public:
  Misbehaving(const JsonDocument &credential, Call &)
      : mode_(credential.string("mode").value_or("")), secret_(credential.string("secret").value_or("")) {}

  void authenticate(Call &call) override {
    if (mode_ == "throw_std") throw std::runtime_error("boom");
    if (mode_ == "throw_unknown") throw 42;
    if (mode_ == "fail_with_secret") fail(CREDPLUG_ERR_REJECTED, "the server did not like " + secret_.reveal());
    if (mode_ == "log_secret") call.warn("about to use " + secret_.reveal());
    if (mode_ == "no_headers") return;
    call.header("X-Key", secret_.view(), true);
    call.header("X-Plain", "visible", false);
    call.expires_at(call.now_seconds() + 60);
  }

  void test(Call &call) override {
    if (mode_ == "test_rejects") fail(CREDPLUG_ERR_REJECTED, "the API refused the key");
    call.output("mode", mode_);
  }

 private:
  std::string mode_;
  SecretString secret_;
};

}  // namespace

CREDPLUG_PLUGIN(Misbehaving, "misbehaving", "Misbehaving", "1.0.0", credplug_credential_schema, 0)
