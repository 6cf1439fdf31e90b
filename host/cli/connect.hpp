// `credplug connect ID FILE`: a person connects their account (the
// authorization code grant with PKCE) and its refresh token lands in the
// credential file's "$state". `credplug disconnect ID FILE`: the grant is
// revoked at the provider and the file's "$state" emptied.
#pragma once

#include "output.hpp"

#include <credplug/credential_file.hpp>
#include <credplug/host.hpp>

#include <string>

namespace credplug::cli {

struct ConnectOptions {
  bool open_browser = true;  // `browser`, else xdg-open where there is a display
  std::string browser;       // --browser, $BROWSER (its first ':'-separated entry; "%s": the URL)
  bool display = false;      // $DISPLAY or $WAYLAND_DISPLAY is set
  int port = 0;              // the loopback redirect's port; 0: any free one
  int wait_s = 600;          // for the person to come back (the pending authorization's life)
};

// Prints the URL, opens it where it can, and waits on a loopback redirect
// (RFC 8252 §7.3: http://127.0.0.1:PORT/callback), or with !open_browser
// reads the address the browser was sent to from standard input. Then
// writes the state into `file`. Throws Error.
int connect_account(Host &host, const std::string &id, const std::string &file, const CredentialText &credential,
                    const ConnectOptions &options, const OutputOptions &out);

// Revokes the account's grant (Credential::revoke) on `credential`, opened
// with `file`'s state sink, which then writes "$state": {}. Throws Error.
int disconnect_account(Credential &credential, const std::string &id, const std::string &file,
                       const OutputOptions &out);

}  // namespace credplug::cli
