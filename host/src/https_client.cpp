#include "https_client.hpp"

#include <credplug/plugin.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

namespace credplug::host {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_curl_global() { static CurlGlobal once; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

struct Transfer {
  kit::SecretString body;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t cap = 0;
  bool over_cap = false;
};

size_t on_body(char *data, size_t size, size_t count, void *user) {
  auto *t = static_cast<Transfer *>(user);
  size_t n = size * count;
  if (t->body.size() + n > t->cap) {
    t->over_cap = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->body.append(std::string_view(data, n));
  return n;
}

size_t on_header(char *data, size_t size, size_t count, void *user) {
  auto *t = static_cast<Transfer *>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.clear();  // a new response (after 100-continue or a redirect)
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    t->headers.emplace_back(lower(std::string(line.substr(0, colon))), std::string(value));
  }
  return size * count;
}

// Resolves `location` against `base`; empty when it does not parse.
std::string resolve(const std::string &base, const std::string &location) {
  CURLU *u = curl_url();
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    char *full = nullptr;
    if (curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) out = full;
    curl_free(full);
  }
  curl_url_cleanup(u);
  return out;
}

struct UrlParts {
  std::string scheme, host, port;
};

bool split_url(const std::string &url, UrlParts &parts) {
  CURLU *u = curl_url();
  bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK;
  auto get = [&](CURLUPart part, std::string &out, unsigned flags) {
    char *v = nullptr;
    if (curl_url_get(u, part, &v, flags) == CURLUE_OK && v) out = v;
    curl_free(v);
  };
  if (ok) {
    get(CURLUPART_SCHEME, parts.scheme, 0);
    get(CURLUPART_HOST, parts.host, 0);
    get(CURLUPART_PORT, parts.port, CURLU_DEFAULT_PORT);
  }
  curl_url_cleanup(u);
  return ok && !parts.host.empty();
}

std::string network_error(CURLcode code, const char *errbuf, const std::string &url, const HttpOptions &options) {
  std::string where = HttpsClient::display_url(url);
  std::string detail = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(code);
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return "TLS verification failed for " + where + ": " + detail +
             (options.ca_file.empty() ? " (for a private CA, pass --ca-file or set CREDPLUG_CA_FILE)"
                                      : " (trusted CAs: " + options.ca_file + ")");
    case CURLE_SSL_CONNECT_ERROR:
      return "TLS handshake with " + where + " failed: " + detail;
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve the host of " + where + ": " + detail;
    case CURLE_COULDNT_CONNECT:
      return "cannot connect to " + where + ": " + detail;
    case CURLE_OPERATION_TIMEDOUT:
      return "no answer from " + where + " in time: " + detail;
    default:
      return "request to " + where + " failed: " + detail;
  }
}

}  // namespace

// Connections, TLS sessions and DNS answers shared by every request.
struct HttpsClient::Shared {
  CURLSH *share = nullptr;
  std::mutex locks[CURL_LOCK_DATA_LAST];
  Shared() {
    ensure_curl_global();
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, +[](CURL *, curl_lock_data d, curl_lock_access, void *p) {
      static_cast<Shared *>(p)->locks[d].lock();
    });
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, +[](CURL *, curl_lock_data d, void *p) {
      static_cast<Shared *>(p)->locks[d].unlock();
    });
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  }
  ~Shared() { curl_share_cleanup(share); }
};

HttpsClient::HttpsClient(HttpOptions options) : options_(std::move(options)), shared_(std::make_unique<Shared>()) {}
HttpsClient::~HttpsClient() = default;

std::string HttpsClient::display_url(std::string_view url) {
  std::string out(url.substr(0, url.find('#')));
  auto q = out.find('?');
  if (q == std::string::npos) return out;
  std::string query = out.substr(q + 1), shown;
  out.resize(q);
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    std::string part = query.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) shown += (shown.empty() ? "" : "&") + part.substr(0, part.find('=')) + "=…";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out + "?" + shown;
}

HttpResult HttpsClient::send(const HttpRequestSpec &request) const {
  HttpResult result;
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](HttpResult &r) -> HttpResult {
    r.elapsed_ms = long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    return std::move(r);
  };
  auto refuse = [&](const std::string &why) {
    result.error = why;
    result.error_code = CREDPLUG_ERR_INVALID_CONFIG;
    return finish(result);
  };

  UrlParts origin;
  if (!split_url(request.url, origin)) return refuse("not a valid URL: " + display_url(request.url));
  if (lower(origin.scheme) != "https")
    return refuse("refused to send a request over " + origin.scheme + "://; only https:// is allowed (" +
                  display_url(request.url) + ")");
  if (has_line_break(request.method) || request.method.empty()) return refuse("invalid HTTP method");
  for (const auto &[name, value] : request.headers)
    if (name.empty() || has_line_break(name) || name.find(':') != std::string::npos || has_line_break(value.view()))
      return refuse("invalid HTTP header '" + (has_line_break(name) ? std::string("?") : name) + "' (line break or colon)");

  std::string url = request.url;
  std::string method = request.method;
  bool send_body = true;
  for (int hop = 0;; ++hop) {
    CURL *curl = curl_easy_init();
    if (curl == nullptr) {
      result.error = "libcurl could not create a handle";
      result.error_code = CREDPLUG_ERR_NETWORK;
      return finish(result);
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    Transfer transfer;
    transfer.cap = options_.max_response_bytes;
    curl_slist *headers = nullptr;
    for (const auto &[name, value] : request.headers) {
      kit::SecretString line(name + ": " + value.reveal());
      headers = curl_slist_append(headers, line.c_str());
    }
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip

    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // redirects: see below
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms > 0 ? request.timeout_ms : options_.total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_SHARE, shared_->share);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "credplug/" CREDPLUG_VERSION_STRING);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options_.max_response_bytes));
    if (method == "GET") {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (send_body && (method != "GET" && method != "HEAD")) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.c_str());
    }

    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    for (curl_slist *h = headers; h != nullptr; h = h->next) OPENSSL_cleanse(h->data, std::strlen(h->data));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    if (transfer.over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
      result.error = "the response from " + display_url(url) + " is larger than the " +
                     std::to_string(options_.max_response_bytes) + "-byte limit";
      result.error_code = CREDPLUG_ERR_NETWORK;
      return finish(result);
    }
    if (rc != CURLE_OK) {
      result.error = network_error(rc, errbuf, url, options_);
      result.error_code = CREDPLUG_ERR_NETWORK;
      return finish(result);
    }

    result.status = int(status);
    result.body = std::move(transfer.body);
    result.headers = std::move(transfer.headers);
    bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!redirect || hop >= options_.max_redirects) return finish(result);
    std::string location;
    for (const auto &[name, value] : result.headers)
      if (name == "location") location = value;
    std::string next = location.empty() ? std::string() : resolve(url, location);
    UrlParts target;
    if (next.empty() || !split_url(next, target) || lower(target.scheme) != "https" ||
        lower(target.host) != lower(origin.host) || target.port != origin.port)
      return finish(result);  // not followed: the plugin sees the 3xx
    url = next;
    if (status == 301 || status == 302 || status == 303) {
      if (method != "HEAD") method = "GET";
      send_body = false;
    }
  }
}

}  // namespace credplug::host
