// A person's consent to an OAuth client of the emulator, played over HTTPS:
// the authorization code grant with PKCE (S256), approved at once, the code
// redeemed. Shared by the e2e suite and benchmark 10.
#pragma once

#include <string>

namespace credplug::testing {

struct EmulatorAccount {
  int port = 0;         // the emulator's, on localhost
  std::string ca_file;  // the test CA that signed its certificate
  std::string client_id, client_secret;
  std::string redirect_uri = "http://127.0.0.1:5555/callback";
};

// The first refresh token of a new grant (a new family) at the built-in
// oauth2 provider. Throws std::runtime_error saying which step failed.
std::string connect_emulator_account(const EmulatorAccount &account);

}  // namespace credplug::testing
