// HttpsClient: every request a plugin makes, through libcurl, under one
// policy: https:// only, TLS verification always on (a CA file may add a
// private CA), connect and total timeouts, a response-size cap, and
// redirects followed only to the same https origin (so a custom secret
// header such as AUTH-TOKEN is never sent to another host).
#pragma once

#include "net/client_certificate.hpp"

#include <credplug/kit/secret.hpp>
#include <credplug/types.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credplug::host {

struct HttpOptions {
  std::string ca_file;  // PEM bundle to trust instead of the system CA store; empty: system store
  long connect_timeout_ms = 10000;
  long total_timeout_ms = 30000;
  size_t max_response_bytes = 1 << 20;
  int max_redirects = 3;
};

struct HttpRequestSpec {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, kit::SecretString>> headers;
  kit::SecretString body;
  long timeout_ms = 0;                           // 0: the client's default
  std::optional<ClientCertificate> client_cert;  // mTLS, in memory only
};

struct HttpResult {
  int status = 0;  // 0: no response
  kit::SecretString body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // When status == 0: why, and which kind of failure (CREDPLUG_ERR_NETWORK,
  // or CREDPLUG_ERR_INVALID_CONFIG for a URL the policy refuses).
  std::string error;
  int error_code = 0;
  long elapsed_ms = 0;
};

class HttpsClient {
 public:
  explicit HttpsClient(HttpOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient &) = delete;
  HttpsClient &operator=(const HttpsClient &) = delete;

  // Thread-safe. Never throws for network failures: see HttpResult::error.
  HttpResult send(const HttpRequestSpec &request) const;
  const HttpOptions &options() const { return options_; }
  // Requests sent and TCP+TLS connections opened so far.
  HttpStats stats() const;

  // A URL as it may be shown: scheme, host, port and path, with every query
  // value elided ("?client_id=…&client_secret=…").
  static std::string display_url(std::string_view url);

 private:
  struct Shared;
  HttpOptions options_;
  std::unique_ptr<Shared> shared_;
};

}  // namespace credplug::host
