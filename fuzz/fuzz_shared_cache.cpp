// What the shared cache reads from outside: a redis:// URL and a key file
// (configuration), and records from Redis, which a plaintext link or another
// tenant of the server can tamper with — opened under the fleet's key, then
// (as though the key had sealed them) parsed. The first byte picks which.
// Anything malformed must be an Error or nullopt, never a crash or a leak.
#include "fleet/shared_cache_keys.hpp"
#include "fleet/shared_token_store.hpp"

#include <credplug/host.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace credplug;
using namespace credplug::host;

namespace {
const KeyRing &ring() {
  static const KeyRing keys = KeyRing::from_text(
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
      "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n",
      "the fuzz key file");
  return keys;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        parse_redis_url(text);
        break;
      case 1:
        KeyRing::from_text(text, "the fuzz input");
        break;
      case 2: {
        std::string unknown;
        if (auto plain = ring().open(text, "credplug:v1:name", &unknown)) parse_shared_token(plain->view());
        break;
      }
      case 3:
        if (auto token = parse_shared_token(text)) {
          // What parses serialises and parses back to the same token.
          auto again = parse_shared_token(serialise_shared_token(*token));
          if (!again || again->fence != token->fence || again->headers.size() != token->headers.size())
            __builtin_trap();
        }
        break;
    }
  } catch (const Error &) {
  }
  return 0;
}
