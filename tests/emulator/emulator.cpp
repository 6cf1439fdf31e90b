#include "emulator_state.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/jwt.hpp>
#include <support/test_keys.hpp>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

namespace credplug::emulator {

int64_t Emulator::State::now_seconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
         clock_offset_s.load();
}

std::string json_escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out;
}

std::string url_decode(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_form(const std::string &text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('&', start);
    std::string pair = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t eq = pair.find('=');
    if (!pair.empty())
      out[url_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string bearer_token(const httplib::Request &req) {
  std::string value = req.get_header_value("Authorization");
  if (value.size() < 7) return "";
  std::string scheme = value.substr(0, 7);
  for (auto &c : scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer " ? value.substr(7) : "";
}

void oauth_error(httplib::Response &res, int status, const std::string &error, const std::string &description) {
  res.status = status;
  res.set_content("{\"error\":\"" + json_escape(error) + "\"" +
                      (description.empty() ? "" : ",\"error_description\":\"" + json_escape(description) + "\"") + "}",
                  "application/json");
}

bool basic_credentials(const httplib::Request &req, std::string &id, std::string &secret) {
  std::string value = req.get_header_value("Authorization");
  if (value.rfind("Basic ", 0) != 0) return false;
  auto decoded = kit::base64_decode(value.substr(6));
  if (!decoded) return false;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  id = url_decode(decoded->substr(0, colon));
  secret = url_decode(decoded->substr(colon + 1));
  return true;
}

Switches &Emulator::State::switches_for(const std::string &provider) {
  std::lock_guard<std::mutex> lock(mutex);
  auto &s = switches[provider];
  if (!s) s = std::make_unique<Switches>();
  return *s;
}

bool Emulator::State::enter(const std::string &provider, const std::string &endpoint, const httplib::Request &req,
                            httplib::Response &res) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++counts[endpoint];
    Headers headers(req.headers.begin(), req.headers.end());
    last_headers[endpoint] = std::move(headers);
    last_requests[endpoint] = {req.target, req.body};
  }
  Switches &sw = switches_for(provider);
  if (int delay = sw.delay_ms.load(); delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  if (int status = sw.fail_status.load(); status != 0) {
    res.status = status;
    if (int after = sw.retry_after_s.load(); after > 0) res.set_header("Retry-After", std::to_string(after));
    res.set_content("{\"error\":\"server_error\",\"error_description\":\"emulated failure\"}", "application/json");
    return true;
  }
  if (std::string body = option(provider, "hostile_body");
      !body.empty() && endpoint.size() > 5 && endpoint.compare(endpoint.size() - 5, 5, "token") == 0) {
    // A hostile token endpoint: echoes what the client sent where tests ask.
    std::string id, secret, basic = req.get_header_value("Authorization");
    if (!basic_credentials(req, id, secret)) secret = parse_form(req.body)["client_secret"];
    basic = basic.rfind("Basic ", 0) == 0 ? basic.substr(6) : "";
    for (auto [mark, value] : {std::pair<std::string, std::string>{"{client_secret}", secret}, {"{basic}", basic}})
      for (size_t at; (at = body.find(mark)) != std::string::npos;) body.replace(at, mark.size(), value);
    std::string status = option(provider, "hostile_status");
    res.status = status.empty() ? 200 : std::stoi(status);
    res.set_content(body, "application/json");
    return true;
  }
  return false;
}

int Emulator::State::token_lifetime(const std::string &provider, int provider_default) {
  int set = switches_for(provider).token_lifetime_s.load();
  return set > 0 ? set : provider_default;
}

void Emulator::State::answer_token(const std::string &provider, httplib::Response &res, const std::string &json) {
  Switches &sw = switches_for(provider);
  if (sw.malformed)
    return res.set_content("<html><body>503 Service Temporarily Unavailable</body></html>", "text/html");
  res.set_content(sw.truncated ? json.substr(0, json.size() / 2) : json, "application/json");
}

bool Emulator::State::client_ok(const std::string &provider, const std::string &id, const std::string &secret) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto p = clients.find(provider);
  if (p == clients.end()) return false;
  auto c = p->second.find(id);
  return c != p->second.end() && c->second == secret;
}

std::string Emulator::State::option(const std::string &provider, const std::string &key) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto p = options.find(provider);
  if (p == options.end()) return "";
  auto o = p->second.find(key);
  return o == p->second.end() ? "" : o->second;
}

std::string Emulator::State::client_secret(const std::string &provider, const std::string &id) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto p = clients.find(provider);
  if (p == clients.end()) return "";
  auto c = p->second.find(id);
  return c == p->second.end() ? "" : c->second;
}

bool Emulator::State::client_known(const std::string &provider, const std::string &id) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto p = clients.find(provider);
  return p != clients.end() && p->second.count(id) > 0;
}

std::string Emulator::State::client_for_secret(const std::string &provider, const std::string &secret) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto p = clients.find(provider);
  if (p != clients.end())
    for (const auto &[id, s] : p->second)
      if (s == secret) return id;
  return "";
}

namespace {
std::string rs256_sign(EVP_PKEY *key, const std::string &input) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char *>(input.data()), input.size()) == 1) {
    sig.resize(len);
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len,
                   reinterpret_cast<const unsigned char *>(input.data()), input.size());
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  return sig;
}

Emulator::State::RsaKey make_rsa_key() {
  Emulator::State::RsaKey made;
  made.key = EVP_RSA_gen(2048);
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, made.key);
  char *data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  made.public_pem.assign(data, size_t(n));
  BIO_free(bio);
  return made;
}

}  // namespace

std::string Emulator::State::rsa_public_key_pem() { return rsa.get().public_pem; }

std::string Emulator::State::issue_jwt(const std::string &provider, const std::string &client_id, int64_t lifetime_s,
                                       const std::string &extra_claims_json, Alg alg) {
  int64_t now = now_seconds();
  unsigned char jti_bytes[12];
  RAND_bytes(jti_bytes, sizeof jti_bytes);
  std::string jti = kit::base64url_encode(std::string_view(reinterpret_cast<char *>(jti_bytes), sizeof jti_bytes));
  std::string claims = "{\"exp\":" + std::to_string(now + lifetime_s) + ",\"iat\":" + std::to_string(now) +
                       ",\"jti\":\"" + jti + "\"" + (extra_claims_json.empty() ? "" : "," + extra_claims_json) + "}";
  std::string token;
  if (alg == Alg::HS256) {
    token = kit::sign_hs256(claims, signing_key).reveal();
  } else {
    std::string input = kit::base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." + kit::base64url_encode(claims);
    token = input + "." + kit::base64url_encode(rs256_sign(rsa.get().key, input));
  }
  std::lock_guard<std::mutex> lock(mutex);
  tokens[token] = IssuedToken{provider, client_id, now + lifetime_s, generation[provider], false, ""};
  return token;
}

TokenStatus Emulator::State::token_status(const std::string &provider, const std::string &token) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = tokens.find(token);
  if (it == tokens.end() || it->second.provider != provider) return TokenStatus::Invalid;
  auto g = generation.find(provider);
  if (it->second.generation != (g == generation.end() ? 0 : g->second)) return TokenStatus::Invalid;
  if (it->second.refreshed_away || (!it->second.family.empty() && revoked_families.count(it->second.family))) {
    ++counts[provider + ".revoked_token"];
    return TokenStatus::Invalid;
  }
  if (it->second.expires_at > now_seconds()) return TokenStatus::Valid;
  ++counts[provider + ".expired_token"];
  return TokenStatus::Expired;
}

void Emulator::State::refresh_away(const std::string &token) {
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = tokens.find(token); it != tokens.end()) it->second.refreshed_away = true;
}

const IssuedToken *Emulator::State::valid_token(const std::string &provider, const std::string &token) const {
  if (token_status(provider, token) != TokenStatus::Valid) return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  return &tokens.at(token);
}

Emulator::Emulator(const Options &options) : state_(std::make_unique<State>()) {
  state_->rsa = std::async(std::launch::async, make_rsa_key).share();
  unsigned char key[32];
  RAND_bytes(key, sizeof key);
  state_->signing_key.assign(reinterpret_cast<char *>(key), sizeof key);
  state_->server = std::make_unique<httplib::SSLServer>(options.cert_file.c_str(), options.key_file.c_str());
  if (!state_->server->is_valid())
    throw std::runtime_error("emulator: cannot load " + options.cert_file + " / " + options.key_file);
  state_->server->set_tcp_nodelay(true);  // no Nagle + delayed-ACK stall between headers and body
  // Enough workers for many concurrent keep-alive clients (benchmarks), and
  // as many requests per connection as nginx allows by default (httplib's
  // default of 5 would force clients to reconnect every fifth request).
  state_->server->new_task_queue = [] { return new httplib::ThreadPool(32); };
  state_->server->set_keep_alive_max_count(1000);
  install_ainua(*state_->server, *state_);
  install_nexla(*state_->server, *state_);
  install_opencrvs(*state_->server, *state_);
  install_avonhealth(*state_->server, *state_);
  install_avni(*state_->server, *state_);
  install_aws(*state_->server, *state_);
  install_hmac(*state_->server, *state_);
  // The plain OAuth 2.0 provider of the examples and `credplug new`.
  install_described(*state_->server, *state_, parse_description(R"({"id": "oauth2", "token": {"path": "/oauth/token"},
                                                                    "authorize": {"path": "/oauth/authorize"},
                                                                    "revoke": {"path": "/oauth/revoke"},
                                                                    "api": {"path": "/oauth/me"}})"));
  state_->providers = {"ainua", "nexla", "opencrvs", "avonhealth", "avni", "aws", "hmac", "mtls", "oauth2"};
  for (const auto &provider : options.providers) {
    if (!state_->providers.insert(provider.id).second)
      throw std::runtime_error("emulator: provider '" + provider.id + "' is described twice, or is built in");
    install_described(*state_->server, *state_, provider);
  }
  state_->client_kinds = state_->providers;
  state_->client_kinds.insert({"avonhealth-user", "avni-user"});
  install_test_routes(*state_->server, *state_);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second emulator binds the port the first holds and takes half its
  // connections.
  state_->server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (options.port == 0) {
    state_->port = state_->server->bind_to_any_port(options.bind_address);
  } else {
    state_->port = state_->server->bind_to_port(options.bind_address, options.port) ? options.port : -1;
  }
  if (state_->port <= 0)
    throw std::runtime_error("emulator: cannot listen on " + options.bind_address +
                             (options.port ? ":" + std::to_string(options.port) + " (is the port in use?)" : ""));
  state_->thread = std::thread([s = state_.get()] { s->server->listen_after_bind(); });
  while (!state_->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!options.client_ca_file.empty()) start_mtls(options);
}

// A server of its own: a TLS server asks for client certificates on every
// connection or on none. The handshake refuses a client without one (or
// with one another CA signed); the route names the one it got.
void Emulator::start_mtls(const Options &options) {
  auto &s = *state_;
  s.mtls_server = std::make_unique<httplib::SSLServer>(options.cert_file.c_str(), options.key_file.c_str(),
                                                       options.client_ca_file.c_str());
  if (!s.mtls_server->is_valid()) throw std::runtime_error("emulator: cannot load " + options.client_ca_file);
  s.mtls_server->Get("/mtls/me", [&s](const httplib::Request &req, httplib::Response &res) {
    if (s.enter("mtls", "mtls.api", req, res)) return;
    X509 *peer = req.ssl ? SSL_get1_peer_certificate(req.ssl) : nullptr;
    char cn[256] = "";
    if (peer) X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    X509_free(peer);
    res.set_content("{\"subject\":\"" + json_escape(cn) + "\"}", "application/json");
  });
  s.mtls_port = s.mtls_server->bind_to_any_port(options.bind_address);
  if (s.mtls_port <= 0) throw std::runtime_error("emulator: cannot listen for mTLS on " + options.bind_address);
  s.mtls_thread = std::thread([m = s.mtls_server.get()] { m->listen_after_bind(); });
  while (!s.mtls_server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Emulator::~Emulator() {
  state_->server->stop();
  if (state_->thread.joinable()) state_->thread.join();
  if (state_->mtls_server) state_->mtls_server->stop();
  if (state_->mtls_thread.joinable()) state_->mtls_thread.join();
}

std::string Emulator::mtls_origin() const {
  return state_->mtls_port > 0 ? "https://localhost:" + std::to_string(state_->mtls_port) : "";
}

// Also when the Emulator's constructor throws: the key is made (waited for)
// and freed with the state.
Emulator::State::~State() {
  if (rsa.valid()) EVP_PKEY_free(rsa.get().key);
}

int Emulator::port() const { return state_->port; }
std::string Emulator::origin() const { return state_->origin(); }

std::string Emulator::State::unknown(const std::set<std::string> &known, const std::string &name) {
  if (known.count(name)) return "";
  std::string list;
  for (const auto &k : known) list += (list.empty() ? "" : ", ") + k;
  return "unknown provider '" + name + "' (" + list + ")";
}

void Emulator::add_client(const std::string &provider, const std::string &client_id, const std::string &secret) {
  if (auto problem = State::unknown(state_->client_kinds, provider); !problem.empty())
    throw std::invalid_argument("--client: " + problem);
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->clients[provider][client_id] = secret;
}

void Emulator::add_client_key(const std::string &provider, const std::string &client_id,
                              const std::string &public_key_pem) {
  if (auto problem = State::unknown(state_->client_kinds, provider); !problem.empty())
    throw std::invalid_argument("--client-key: " + problem);
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->client_keys[provider][client_id] = public_key_pem;
}

std::string Emulator::State::check_assertion(const std::string &provider, const std::string &jwt,
                                             const std::string &audience, bool client_auth, std::string *client_id) {
  auto decoded = kit::decode_jwt(jwt);
  if (!decoded) return "the assertion is not a JWT";
  const std::string alg = decoded->header.string("alg").value_or("");
  if (alg != "RS256" && alg != "PS256" && alg != "ES256" && alg != "EdDSA")
    return "the assertion's alg '" + alg + "' is not an asymmetric one (RS256, PS256, ES256, EdDSA)";
  const std::string iss = decoded->claims.string("iss").value_or("");
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto p = client_keys.find(provider);
    if (p != client_keys.end())
      if (auto k = p->second.find(iss); k != p->second.end()) key = k->second;
  }
  if (key.empty()) return "no key is registered for the assertion's issuer '" + iss + "'";
  if (!testing::verify_jwt(jwt, alg, key)) return "the assertion's signature does not verify with the client's key";
  if (client_auth && decoded->claims.string("sub").value_or("") != iss) return "the assertion's sub is not its iss";
  auto aud = decoded->claims.strings("aud");
  if (!aud || std::find(aud->begin(), aud->end(), audience) == aud->end())
    return "the assertion's aud is not this token endpoint (" + audience + ")";
  const int64_t now = now_seconds();
  auto exp = decoded->claims.integer("exp");
  if (!exp || *exp <= now) return "the assertion has expired";
  if (*exp > now + 3600) return "the assertion lives more than an hour";
  const std::string jti = decoded->claims.string("jti").value_or("");
  if (jti.empty()) return "the assertion has no jti";
  std::lock_guard<std::mutex> lock(mutex);
  if (!assertion_ids.insert(jti).second) return "the assertion was used before (jti replayed)";
  *client_id = iss;
  return "";
}

Switches &Emulator::switches(const std::string &provider) { return state_->switches_for(provider); }

std::string Emulator::set_switch(const std::string &provider, const std::string &name, const std::string &value) {
  return state_->set_switch(provider, name, value);
}

std::string Emulator::State::set_switch(const std::string &provider, const std::string &name,
                                        const std::string &value) {
  if (auto problem = unknown(providers, provider); !problem.empty()) return problem;
  int n = 0;
  try {
    size_t used = 0;
    n = std::stoi(value, &used);
    if (used != value.size() || n < 0) throw std::invalid_argument(value);
  } catch (const std::exception &) {
    return "switch " + name + ": '" + value + "' is not a non-negative number";
  }
  Switches &sw = switches_for(provider);
  if (name == "fail_status" && (n == 0 || (n >= 400 && n <= 599)))
    sw.fail_status = n;
  else if (name == "fail_status")
    return "switch fail_status: " + value + " is not 0 (off) or an HTTP status 400..599";
  else if (name == "retry_after_s")
    sw.retry_after_s = n;
  else if (name == "delay_ms")
    sw.delay_ms = n;
  else if (name == "malformed")
    sw.malformed = n != 0;
  else if (name == "truncated")
    sw.truncated = n != 0;
  else if (name == "token_lifetime_s")
    sw.token_lifetime_s = n;
  else if (name == "refresh_revokes")
    sw.refresh_revokes = n != 0;
  else if (name == "deny_authorization")
    sw.deny_authorization = n != 0;
  else if (name == "refresh_lifetime_s")
    sw.refresh_lifetime_s = n;
  else if (name == "keep_refresh_token")
    sw.keep_refresh_token = n != 0;
  else if (name == "reset" && n == 1)
    sw.clear();
  else if (name == "revoke" && n == 1) {
    std::lock_guard<std::mutex> lock(mutex);
    ++generation[provider];
  } else {
    return "unknown switch '" + name +
           "' (fail_status, retry_after_s, delay_ms, malformed, truncated, "
           "token_lifetime_s, refresh_revokes, deny_authorization, refresh_lifetime_s, keep_refresh_token, reset, "
           "revoke)";
  }
  return "";
}

void Emulator::set_option(const std::string &provider, const std::string &key, const std::string &value) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->options[provider][key] = value;
}

void Emulator::revoke_all(const std::string &provider) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  ++state_->generation[provider];
}

void Emulator::wait_until_ready() const { state_->rsa.wait(); }

std::vector<std::string> Emulator::issued_tokens() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  std::vector<std::string> out;
  for (const auto &[token, record] : state_->tokens) out.push_back(token);
  return out;
}

int Emulator::count(const std::string &endpoint) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto it = state_->counts.find(endpoint);
  return it == state_->counts.end() ? 0 : it->second;
}

Headers Emulator::last_headers(const std::string &endpoint) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto it = state_->last_headers.find(endpoint);
  return it == state_->last_headers.end() ? Headers{} : it->second;
}

std::pair<std::string, std::string> Emulator::last_request(const std::string &endpoint) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto it = state_->last_requests.find(endpoint);
  return it == state_->last_requests.end() ? std::pair<std::string, std::string>{} : it->second;
}

void Emulator::advance_clock(int64_t seconds) { state_->clock_offset_s += seconds; }

void Emulator::reset() {
  state_->clock_offset_s = 0;
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->counts.clear();
  state_->last_headers.clear();
  state_->last_requests.clear();
  for (auto &[name, sw] : state_->switches) sw->clear();
  for (auto &[provider, options] : state_->options) {
    options.erase("hostile_body");
    options.erase("hostile_status");
  }
}

}  // namespace credplug::emulator
