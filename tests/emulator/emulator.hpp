// A local HTTPS server that plays the providers' identity and API servers
// by their documented contracts, for the tests and the demo. Each provider
// lives in its own routes file (ainua_routes.cpp, ...); this is the shared
// part: TLS, switches to make a provider misbehave, request counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::emulator {

// How a provider misbehaves; changeable while the server runs.
struct Switches {
  std::atomic<int> delay_ms{0};          // answer every request this much later
  std::atomic<int> fail_status{0};       // answer every request with this status (500, 503, 429)
  std::atomic<int> retry_after_s{0};     // with fail_status: a Retry-After header
  std::atomic<bool> malformed{false};    // token responses are not JSON
  std::atomic<bool> truncated{false};    // token responses are cut-off JSON
  std::atomic<int> token_lifetime_s{0};  // 0: the provider's own default
  // A rotating refresh: a refresh endpoint (Nexla's) revokes the token it renews.
  std::atomic<bool> refresh_revokes{false};
  // The authorization endpoint (authorization_routes.cpp): the user says no.
  std::atomic<bool> deny_authorization{false};
  std::atomic<int> refresh_lifetime_s{0};       // 0: 30 days
  std::atomic<bool> keep_refresh_token{false};  // answer a refresh with the same refresh token (no rotation)
  void clear() {                                // every switch off
    delay_ms = fail_status = retry_after_s = token_lifetime_s = refresh_lifetime_s = 0;
    malformed = truncated = refresh_revokes = deny_authorization = keep_refresh_token = false;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// A provider described in JSON (docs/EMULATOR.md): its token endpoint and
// the API endpoint that checks the token.
struct ProviderDescription {
  std::string id;
  // How the API takes a client: "oauth2" (a token from the token endpoint),
  // "api_key" (a --client's secret, as is) or "basic" (RFC 7617 user:password
  // of a --client). Only "oauth2" has a token endpoint.
  std::string auth = "oauth2";
  std::string token_path;            // default /<id>/token
  std::string authorize_path;        // default /<id>/authorize (the authorization code grant)
  std::string revoke_path;           // default /<id>/revoke (token revocation, RFC 7009)
  std::string token_style = "form";  // "form" (RFC 6749) or "json" (a JSON body)
  std::string client_auth = "any";   // "basic", "post" or "any"
  int lifetime_s = 3600;
  std::string api_path;  // default /<id>/me
  std::string api_header = "Authorization";
  std::string api_scheme = "Bearer";  // "": the header is the bare token
  std::string api_query;              // api_key: the query parameter with the key instead of a header
};
// Throws std::runtime_error naming the field that is wrong.
ProviderDescription parse_description(std::string_view json);

class Emulator {
 public:
  struct Options {
    std::string cert_file, key_file;  // PEM
    std::string bind_address = "127.0.0.1";
    int port = 0;                                // 0: any free port
    std::vector<ProviderDescription> providers;  // besides the built-in ones
    // Set: a second port that takes only clients with a certificate this CA
    // signed (mTLS); GET /mtls/me there answers {"subject": "<its CN>"}.
    std::string client_ca_file;
  };
  explicit Emulator(const Options &options);
  ~Emulator();  // stops the server
  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  int port() const;
  // Returns once the RS256 key (made on a thread of its own when the
  // emulator starts: RSA-2048 takes 0.3-1.5 s here) exists, so that no
  // token request waits for it. The program calls it before it says it
  // listens; tests that never use RS256 need not.
  void wait_until_ready() const;
  std::string origin() const;  // "https://localhost:<port>"
  // The client-certificate port's origin; "" without Options::client_ca_file.
  std::string mtls_origin() const;

  // Provider state.
  // Throws std::invalid_argument for a provider it does not play.
  void add_client(const std::string &provider, const std::string &client_id, const std::string &secret);
  // A client that authenticates with a signed JWT (private_key_jwt, the
  // JWT-bearer grant): its public key, PEM. Also --client-key.
  void add_client_key(const std::string &provider, const std::string &client_id, const std::string &public_key_pem);
  Switches &switches(const std::string &provider);
  // One switch by name (fail_status, retry_after_s, delay_ms, malformed,
  // truncated, token_lifetime_s; "reset" = 1 sets them all back, "revoke" =
  // 1 revokes every token): "" when done, else what is wrong. Also
  // POST /_emulator/switches with provider=...&NAME=VALUE.
  std::string set_switch(const std::string &provider, const std::string &name, const std::string &value);
  // Provider-specific settings ("avonhealth", "staging_account" -> "acct-1").
  // For every provider, "hostile_body" (with "hostile_status", default 200)
  // makes its token endpoint answer that body, with "{client_secret}" and
  // "{basic}" replaced by the secret and the Basic credentials it was sent.
  void set_option(const std::string &provider, const std::string &key, const std::string &value);
  void revoke_all(const std::string &provider);  // every token issued so far stops working
  // Every token ever issued (to check none leaks into output).
  std::vector<std::string> issued_tokens() const;

  // Requests served per endpoint ("ainua.token", "ainua.api", ...), and
  // "<provider>.expired_token": expired tokens presented to its APIs.
  int count(const std::string &endpoint) const;
  Headers last_headers(const std::string &endpoint) const;
  // The last request's target (path and query) and body at an endpoint.
  std::pair<std::string, std::string> last_request(const std::string &endpoint) const;
  // Moves the emulator's clock on (tokens it issued expire sooner), so a test
  // sees expiry without sleeping; also POST /_emulator/clock advance_s=N.
  // reset() puts it back.
  void advance_clock(int64_t seconds);
  void reset();  // counters, switches and the clock back to defaults

  struct State;

 private:
  void start_mtls(const Options &options);
  std::unique_ptr<State> state_;
};

}  // namespace credplug::emulator
