// A private key as a plugin hands it to key_load(): the text of a
// credential value, so anything at all (a PEM of any kind, damaged base64,
// an encrypted key with the wrong passphrase, megabytes of junk). The first
// byte picks the alg and whether a passphrase is given; a key that loads
// signs a JWT whose extra claims are the input's last line. No crash, no
// hang, no leak; a refusal says why in its own words, quoting nothing.
#include "transport/host_services.hpp"

#include <credplug/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const char *kAlgs[] = {"RS256", "PS256", "ES256", "EdDSA", "HS256", "none"};
  const credplug_host_api &api = *credplug::host::host_services();
  credplug::host::Redactor redactor;
  credplug_call call;
  call.redactor = &redactor;
  const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  const char *alg = kAlgs[data[0] % 6];
  credplug_key *key = nullptr;
  const int32_t rc =
      api.key_load(&call, alg, text.data(), text.size(), (data[0] & 0x80) ? "passphrase" : nullptr, &key);
  if (rc == CREDPLUG_OK) {
    if (key == nullptr) __builtin_trap();
    const std::string claims = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    credplug_jwt_claims c{};
    c.struct_size = sizeof c;
    c.iss = "fuzz";
    c.claims_json = claims.c_str();
    c.lifetime_s = (data[0] & 0x40) ? 86401 : 60;
    (void)api.jwt_sign(&call, key, &c);
    api.key_free(key);
  } else {
    if (key != nullptr || !call.error_set || call.error_message.empty()) __builtin_trap();
    // A refusal names the problem in its own words, never quoting the key:
    // short, and only printable ASCII (the input's other bytes never show).
    if (call.error_message.size() > 400) __builtin_trap();
    for (unsigned char c : call.error_message)
      if (c < 0x20 || c > 0x7e) __builtin_trap();
  }
  return 0;
}
