// An out-of-tree plugin: a static API key sent in a header.
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

class StaticKey final : public Provider {
 public:
  StaticKey(const JsonDocument &credential, Call &)
      : header_(credential.string("header_name").value_or("X-Api-Key")),
        key_(credential.string("api_key").value_or("")) {}
  void authenticate(Call &call) override { call.header(header_, key_.view(), /*secret=*/true); }
  void test(Call &call) override { call.output("key_length", std::to_string(key_.size())); }

 private:
  std::string header_;
  SecretString key_;
};

}  // namespace

CREDPLUG_PLUGIN(StaticKey, "static-key", "Static API key", "0.1.0", credplug_credential_schema, 0)
