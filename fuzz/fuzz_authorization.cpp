// What a person's browser and a plugin hand the host in the authorization
// code grant, and what a plugin hands it as state: a redirect URL (the
// input up to its first NUL) checked against a pending authorization, a
// sealed pending text (the rest) opened, a redirect URI judged, and the
// whole input as a credential's state. Each either refuses with an Error
// or holds its promise: a code comes back only from a redirect to the
// pending redirect URI whose state is the pending state, and a state passes
// only as a JSON object within the limits.
#include "api/pending_authorization.hpp"
#include "secrets/credential_state.hpp"

#include <credplug/plugin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace credplug;
using namespace credplug::host;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const KeyRing keys = KeyRing::from_text(std::string(64, '7'), "fuzz key");
  static const Pending pending = [] {
    Pending p = new_pending("oauth2", "{}", "http://127.0.0.1:5000/callback", 0);
    p.state = "fuzz-state";
    return p;
  }();
  const std::string input(reinterpret_cast<const char *>(data), size);
  const size_t nul = input.find('\0');
  const std::string url = input.substr(0, nul);
  const std::string rest = nul == std::string::npos ? "" : input.substr(nul + 1);

  try {
    SecretString code = code_from_redirect(pending, url);
    auto params = query_parameters(url);
    if (params["state"] != pending.state || code.empty()) std::abort();  // a code for another request
    if (url.compare(0, pending.redirect_uri.size(), pending.redirect_uri) != 0) std::abort();
  } catch (const Error &) {
  }
  try {
    open_pending(keys, rest, 0);
  } catch (const Error &) {
  }
  (void)redirect_uri_problem(url);
  (void)authorization_url_problem(url, pending.state, "challenge");
  if (!state_problem(input)) {
    if (input.size() > CREDPLUG_MAX_STATE_BYTES || input.find_first_not_of(" \t\r\n") == std::string::npos ||
        input[input.find_first_not_of(" \t\r\n")] != '{')
      std::abort();  // passed as state, yet no object within the limits
    (void)state_secrets(input);
  }
  return 0;
}
