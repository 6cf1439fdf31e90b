// The host's side of the authorization code grant (RFC 6749 §4.1) with PKCE
// (RFC 7636): the verifier, challenge and state it makes, the redirect URIs
// it accepts (RFC 8252 §7.3), the pending authorization sealed between the
// two steps (possibly in two processes), and the redirect it checks before
// a plugin sees a code.
#pragma once

#include "fleet/shared_cache_keys.hpp"

#include <credplug/types.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace credplug::host {

// How long a person has to come back: what OAuth servers give their codes'
// whole flow (Google, Okta: 10 minutes).
constexpr int64_t kPendingAuthorizationSeconds = 600;

// Why `uri` cannot be a redirect URI, or nullopt: https://, or http:// on
// 127.0.0.1 or [::1] (a loopback redirect, any port); no fragment, no
// user information, at most 2 KiB.
std::optional<std::string> redirect_uri_problem(const std::string &uri);

// What begin_authorization() keeps for complete_authorization().
struct Pending {
  std::string plugin, label, redirect_uri, state;
  SecretString credential, verifier;
  int64_t expires_at = 0;  // Unix seconds
};

// A new pending authorization: a fresh verifier (32 random bytes) and state
// (16), expiring kPendingAuthorizationSeconds from `now_s`.
Pending new_pending(const std::string &plugin, std::string_view credential_json, const std::string &redirect_uri,
                    int64_t now_s);
// The S256 challenge of a verifier (base64url of its SHA-256).
std::string code_challenge(std::string_view verifier);

// Sealed with the ring's current key (AES-256-GCM), as base64url text.
SecretString seal_pending(const KeyRing &keys, const Pending &pending);
// Throws Error(InvalidInput): not one of ours, sealed by a key the ring
// lacks, tampered with, or expired at `now_s`.
Pending open_pending(const KeyRing &keys, std::string_view sealed, int64_t now_s);

// The query of a redirect URL, percent-decoded (first value of each name).
std::map<std::string, std::string> query_parameters(std::string_view url);

// The code a redirect carries for `pending`, once it is checked: the same
// redirect URI, the same state, no error. Throws Error: InvalidInput for a
// redirect that is not the answer to this authorization, Rejected when the
// person refused (access_denied), Provider for another error.
SecretString code_from_redirect(const Pending &pending, std::string_view redirect_url);

// Why the plugin's authorization URL is unfit to send a person to (not
// https://, or without this state and challenge), or nullopt.
std::optional<std::string> authorization_url_problem(const std::string &url, const std::string &state,
                                                     const std::string &challenge);

}  // namespace credplug::host
