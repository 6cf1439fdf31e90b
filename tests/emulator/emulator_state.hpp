// Internal to the emulator: the state shared by every provider's routes.
#pragma once

#include "emulator.hpp"

#include <httplib.h>
#include <openssl/evp.h>

#include <future>
#include <mutex>
#include <thread>

namespace credplug::emulator {

enum class Alg { HS256, RS256 };
enum class TokenStatus { Valid, Expired, Invalid };

struct IssuedToken {
  std::string provider, client_id;
  int64_t expires_at = 0;
  int generation = 0;
  bool refreshed_away = false;  // renewed by a rotating refresh: refused
  std::string family;           // the authorization it came from (codes and refresh tokens), or ""
};

// An authorization code or a refresh token: what it grants, to whom.
struct Grant {
  std::string provider, client_id, scope;
  std::string family;                   // every token of one user's authorization: revoked together
  std::string redirect_uri, challenge;  // codes: bound to the authorization request
  int64_t expires_at = 0;
  bool used = false;  // a code redeemed, a refresh token rotated away
};

struct Emulator::State {
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int port = 0;
  std::unique_ptr<httplib::SSLServer> mtls_server;  // with Options::client_ca_file
  std::thread mtls_thread;
  int mtls_port = 0;

  mutable std::mutex mutex;
  std::map<std::string, std::unique_ptr<Switches>> switches;
  std::map<std::string, std::map<std::string, std::string>> clients;      // provider -> id -> secret
  std::map<std::string, std::map<std::string, std::string>> client_keys;  // provider -> id -> public key PEM
  std::set<std::string> assertion_ids;                                    // jti of every assertion taken
  std::map<std::string, Grant> codes, refresh_tokens;                     // authorization_routes.cpp
  std::set<std::string> revoked_families;                                 // a refresh token reused: all revoked
  // What a --client or a switch may name: a mistyped name is refused, not
  // kept where no route looks (set at start, then only read).
  std::set<std::string> providers;     // switches: built-in and described providers
  std::set<std::string> client_kinds;  // --client: those, and "avonhealth-user", "avni-user"
  // "unknown provider 'x' (a, b, ...)" when `name` is not in `known`, else "".
  static std::string unknown(const std::set<std::string> &known, const std::string &name);
  std::map<std::string, IssuedToken> tokens;
  std::map<std::string, int> generation;                              // provider -> revocation generation
  std::map<std::string, std::map<std::string, std::string>> options;  // provider -> key -> value
  // Per endpoint, and "<provider>.expired_token": expired tokens presented.
  mutable std::map<std::string, int> counts;
  std::map<std::string, Headers> last_headers;
  std::map<std::string, std::pair<std::string, std::string>> last_requests;  // target, body
  std::string signing_key;                                                   // HS256
  // RS256: made when the emulator starts, on a thread of its own (RSA-2048
  // takes from 50 ms to over a second), so no token request waits for it.
  struct RsaKey {
    EVP_PKEY *key = nullptr;
    std::string public_pem;
  };
  std::shared_future<RsaKey> rsa;
  ~State();

  std::string origin() const { return "https://localhost:" + std::to_string(port); }
  Switches &switches_for(const std::string &provider);
  std::string set_switch(const std::string &provider, const std::string &name, const std::string &value);
  std::string option(const std::string &provider, const std::string &key) const;
  std::string client_secret(const std::string &provider, const std::string &id) const;  // "" if unknown
  // Counts the request and applies the provider's switches; true when the
  // switches answered it (the route must return).
  bool enter(const std::string &provider, const std::string &endpoint, const httplib::Request &req,
             httplib::Response &res);
  // Seconds a new token lives: the switch when a test set one, else the
  // provider's own default.
  int token_lifetime(const std::string &provider, int provider_default);
  // Sends a token response, garbled as the provider's switches say
  // (malformed: an HTML error page; truncated: half the JSON).
  void answer_token(const std::string &provider, httplib::Response &res, const std::string &json);
  bool client_ok(const std::string &provider, const std::string &id, const std::string &secret) const;
  // Checks a client's signed JWT as RFC 7523 §3 says: signed by the key
  // registered for its issuer, for `audience`, unexpired, at most an hour
  // long, its jti never seen before (and sub = iss when `client_auth`).
  // "" with *client_id set, or the reason it was refused.
  std::string check_assertion(const std::string &provider, const std::string &jwt, const std::string &audience,
                              bool client_auth, std::string *client_id);
  bool client_known(const std::string &provider, const std::string &id) const;
  // The client id whose secret this is, or "" (for keys that identify alone).
  std::string client_for_secret(const std::string &provider, const std::string &secret) const;
  // A signed JWT with exp, iat, jti and these extra claims, remembered as issued.
  std::string issue_jwt(const std::string &provider, const std::string &client_id, int64_t lifetime_s,
                        const std::string &extra_claims_json, Alg alg = Alg::HS256);
  // The token's record if it was issued here, is unexpired and not revoked.
  // A rotating refresh renewed `token`: refused from now on (counted as
  // <provider>.revoked_token when presented).
  void refresh_away(const std::string &token);
  const IssuedToken *valid_token(const std::string &provider, const std::string &token) const;
  // Why a token is or is not accepted (revoked counts as invalid).
  TokenStatus token_status(const std::string &provider, const std::string &token) const;
  // The RS256 public key, PEM (OpenCRVS publishes it at /.well-known).
  std::string rsa_public_key_pem();
  // The emulator's clock: this machine's, moved on by advance_clock() so a
  // test sees a token expire without sleeping past it.
  int64_t now_seconds() const;
  std::atomic<int64_t> clock_offset_s{0};
};

std::string json_escape(const std::string &s);
std::map<std::string, std::string> parse_form(const std::string &text);
// application/x-www-form-urlencoded decoding: %XX and '+' as a space.
std::string url_decode(const std::string &s);
// "Bearer <x>" -> x (scheme case-insensitive); empty if not that shape.
std::string bearer_token(const httplib::Request &req);
// An RFC 6749 §5.2 error answer: {"error", "error_description"?}.
void oauth_error(httplib::Response &res, int status, const std::string &error, const std::string &description = "");
// Basic credentials, each form-url-decoded (RFC 6749 §2.3.1).
bool basic_credentials(const httplib::Request &req, std::string &id, std::string &secret);

void install_ainua(httplib::Server &server, Emulator::State &state);
void install_nexla(httplib::Server &server, Emulator::State &state);
void install_opencrvs(httplib::Server &server, Emulator::State &state);
void install_avonhealth(httplib::Server &server, Emulator::State &state);
void install_avni(httplib::Server &server, Emulator::State &state);
void install_aws(httplib::Server &server, Emulator::State &state);
void install_hmac(httplib::Server &server, Emulator::State &state);
void install_described(httplib::Server &server, Emulator::State &state, const ProviderDescription &provider);
// The authorization code grant (RFC 6749 §4.1 with PKCE, RFC 7636) and
// rotating refresh tokens (RFC 9700 §4.14.2) of a described provider:
// GET <authorize_path>, and the token endpoint's two grants.
void install_authorization(httplib::Server &server, Emulator::State &state, const ProviderDescription &provider);
void redeem_code(const ProviderDescription &d, Emulator::State &state, std::map<std::string, std::string> &fields,
                 const std::string &client_id, httplib::Response &res);
void redeem_refresh_token(const ProviderDescription &d, Emulator::State &state,
                          std::map<std::string, std::string> &fields, const std::string &client_id,
                          httplib::Response &res);
// RFC 7009 for the authorization code grant's tokens: a refresh token (or
// an access token) of this client revokes its whole family; one unknown is
// answered 200 all the same (§2.2). Counted as <id>.revoked.
void revoke_token(const ProviderDescription &d, Emulator::State &state, std::map<std::string, std::string> &fields,
                  const std::string &client_id, httplib::Response &res);
void install_test_routes(httplib::Server &server, Emulator::State &state);

}  // namespace credplug::emulator
