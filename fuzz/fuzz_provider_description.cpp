// A described provider's file (credplug-<id>.provider.json) as anyone could
// write it: any bytes at all, but for the last line, which is a credential.
// Parsed as the host parses it at load; a description that parses has each
// template rendered against that credential. No crash, no hang; a refusal is a
// std::runtime_error (or kit::Failure while rendering), nothing else.
#include "described/provider_description.hpp"

#include <credplug/kit/failure.hpp>
#include <credplug/kit/json.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The description, then on the last line the credential.
  const std::string text(reinterpret_cast<const char *>(data), size);
  const size_t nl = text.rfind('\n');
  credplug::host::ProviderDescription d;
  try {
    d = credplug::host::parse_provider_description(nl == std::string::npos ? text : text.substr(0, nl));
  } catch (const std::runtime_error &) {
    return 0;
  }
  auto credential = credplug::kit::JsonDocument::parse_object(nl == std::string::npos ? "{}" : text.substr(nl + 1));
  if (!credential) return 0;
  for (const auto &use : d.auth.templates()) {
    try {
      std::string missing;
      auto rendered = use.text->render(*credential, &missing);
      if (!rendered && missing.empty()) __builtin_trap();  // absent, but which field?
    } catch (const credplug::kit::Failure &) {
    }
  }
  return 0;
}
