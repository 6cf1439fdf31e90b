// Call: the C++ face of one host operation (credplug_call + the host's
// service table). Everything a provider does in authenticate() or test() —
// HTTPS, logging, outputs, declaring secrets — goes through it.
#pragma once

#include <credplug/plugin.h>
#include <credplug/kit/failure.hpp>
#include <credplug/kit/json.hpp>
#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::kit {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, SecretString>> headers;
  SecretString body;
  uint32_t timeout_ms = 0;  // 0: the host's default
  uint32_t flags = 0;       // CREDPLUG_HTTP_*
  // A client certificate (mTLS; ABI minor 3): PEM chain and key, and the
  // key's passphrase when it is encrypted. Handed to TLS in memory only.
  SecretString client_cert_pem, client_key_pem, client_key_passphrase;

  HttpRequest &header(std::string name, std::string_view value) {
    headers.emplace_back(std::move(name), SecretString(value));
    return *this;
  }
};

// A response owned by the host, released when this object goes.
class HttpResponse {
 public:
  HttpResponse(const credplug_host_api *api, credplug_http_response *resp) : api_(api), resp_(resp) {}
  HttpResponse(HttpResponse &&o) noexcept : api_(o.api_), resp_(std::exchange(o.resp_, nullptr)) {}
  HttpResponse &operator=(HttpResponse &&) = delete;
  ~HttpResponse() {
    if (resp_) api_->http_release(resp_);
  }

  int status() const { return api_->http_status(resp_); }
  std::string_view body() const;
  std::optional<std::string> header(const char *name) const;
  bool ok() const { return status() >= 200 && status() < 300; }

 private:
  const credplug_host_api *api_;
  credplug_http_response *resp_;
};

// How a connection test reads the answer to its authenticated request, so
// every plugin words failures alike. expect_success() returns on 2xx, else:
//   401, 403       REJECTED        "<who> refused <credential>: <request> -> HTTP n<refused_detail>"
//   404            INVALID_CONFIG  "<url_field>: <request> -> HTTP 404; <not_found_hint>"
//   anything else  PROVIDER        "<who> answered <request> with HTTP n"
// Handle a provider's own special statuses before calling it.
struct ApiAnswer {
  std::string who;             // "the Nexla API"
  std::string request;         // "GET /users/current"
  std::string url_field;       // the field to fix on 404: "api_url"
  std::string not_found_hint;  // "is this the Nexla API URL?"
  std::string credential = "the token";
  std::string refused_detail = "";  // e.g. " (Expired token)"
};
void expect_success(const HttpResponse &response, const ApiAnswer &answer);

// The request sign() signs (plugin.h, credplug_sign_request), as views
// valid during the call.
struct SignRequest {
  std::string_view method, url;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::optional<std::string_view> body;  // nullopt when the caller gave only its hash
  std::string_view body_sha256;          // lowercase hex, always set
  int64_t time_ms = 0;                   // sign with this time, never the clock

  explicit SignRequest(const credplug_sign_request &req);
};

class Call {
 public:
  Call(const credplug_host_api *api, credplug_call *call) : api_(api), call_(call) {}

  // HTTPS through the host. Throws Failure(CREDPLUG_ERR_NETWORK or
  // INVALID_CONFIG) when no response arrived; any status is returned.
  HttpResponse send(const HttpRequest &request);

  void log(int32_t level, const std::string &message) const;
  void debug(const std::string &message) const { log(CREDPLUG_LOG_DEBUG, message); }
  void info(const std::string &message) const { log(CREDPLUG_LOG_INFO, message); }
  void warn(const std::string &message) const { log(CREDPLUG_LOG_WARN, message); }

  // Declare a value secret: the host redacts it everywhere from now on.
  void add_secret(std::string_view value) const;

  // Outputs of authenticate(): headers to attach and when they expire.
  // A header whose name says it holds a credential (Authorization, *key*,
  // *token*, ...) is secret even when `secret` is false: a minor-3 host
  // insists. public_header() says such a header is not one.
  void header(const std::string &name, std::string_view value, bool secret) const;
  void public_header(const std::string &name, std::string_view value) const;
  void expires_at(int64_t unix_seconds) const;
  // The headers never expire (a static API key): kept until the API refuses
  // them. Needs a minor-3 host (an older one refuses the call, saying so).
  void never_expires() const { expires_at(CREDPLUG_EXPIRES_NEVER); }
  // Output of sign(): a query parameter for this request. Throws
  // Failure(PLUGIN) on a host older than minor 3.
  void query(const std::string &name, std::string_view value, bool secret) const;
  // A fact for the user (test results, token details).
  void output(const std::string &key, std::string_view value, bool secret = false) const;

  // The credential's state (plugin.h, minor 4: a refresh token the provider
  // rotates), parsed; nullopt when it has none yet, or the host is older.
  std::optional<JsonDocument> state() const;
  // Replaces the state with this JSON object (build it with json_quote()):
  // the host persists it before anything uses this call's token. Call it
  // as soon as the provider's answer holds new state, before anything else
  // may fail. Throws Failure(PLUGIN) on a host older than minor 4.
  void set_state(std::string_view json) const;
  // authorize()'s first step: the URL to send the person to. Throws
  // Failure(PLUGIN) on a host older than minor 4.
  void url(const std::string &url) const;

  int64_t now_ms() const { return api_->now_ms(); }
  int64_t now_seconds() const { return api_->now_ms() / 1000; }

  const credplug_host_api *api() const { return api_; }
  credplug_call *handle() const { return call_; }

 private:
  const credplug_host_api *api_;
  credplug_call *call_;
};

}  // namespace credplug::kit
