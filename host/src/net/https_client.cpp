#include "net/https_client.hpp"

#include "base/fork_gate.hpp"
#include "net/url_parts.hpp"

#include <credplug/plugin.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <variant>

namespace credplug::host {
namespace {

struct CurlGlobal {
  CurlGlobal() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    close_openssl_at_exit();  // after OpenSSL's own handler: runs before it
  }
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
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
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

// What every request of one client shares: a pool of idle easy handles
// (each keeping its kept-alive connections), TLS sessions, DNS answers and
// the parsed CA store.
//   - Connections: each pooled handle keeps its own connection cache (in its
//     internal multi handle), and a request borrows the handle returned last,
//     so N concurrent callers settle on N connections per origin. libcurl's
//     shared connection cache (CURL_LOCK_DATA_CONNECT) is not used: it is not
//     safe across threads (libcurl known bug 11.11, crashes under `test
//     --jobs 8`), and its owner's MAXCONNECTS of 5 closed a connection for
//     almost every request once more than 5 ran at once.
//   - CA store: libcurl builds an SSL_CTX per connection and parses the whole
//     CA bundle into it each time (~145 certificates for the system store).
//     The client parses it once into an X509_STORE and hands every SSL_CTX a
//     reference (CURLOPT_SSL_CTX_FUNCTION).
//   - Each transfer runs through a multi handle of its own (paired with its
//     easy handle for life: the connections they keep are the pair's), so
//     OpenSSL is entered one step at a time, inside an OpenSslSection
//     (base/fork_gate.hpp), and never while waiting on the network.
struct HttpsClient::Shared {
  static constexpr long kMaxConnectionsPerHandle = 8;  // kept alive, to different origins
  static constexpr size_t kMaxIdleHandles = 64;

  struct Handle {
    CURL *easy = nullptr;
    CURLM *multi = nullptr;
  };
  static void cleanup(Handle h) {
    OpenSslSection openssl;  // closing connections shuts their TLS down
    if (h.multi != nullptr) curl_multi_cleanup(h.multi);
    if (h.easy != nullptr) curl_easy_cleanup(h.easy);
  }

  CURLSH *share = nullptr;
  std::mutex locks[CURL_LOCK_DATA_LAST];
  std::mutex idle_mutex;
  std::vector<Handle> idle;
  const std::string ca_file;
  std::once_flag store_once;
  X509_STORE *store = nullptr;  // null: libcurl loads the CA file itself
  std::atomic<uint64_t> requests{0}, connections{0};

  explicit Shared(const HttpOptions &options) : ca_file(options.ca_file) {
    ensure_curl_global();
    share = curl_share_init();
    curl_share_setopt(
        share, CURLSHOPT_LOCKFUNC,
        +[](CURL *, curl_lock_data d, curl_lock_access, void *p) { static_cast<Shared *>(p)->locks[d].lock(); });
    curl_share_setopt(
        share, CURLSHOPT_UNLOCKFUNC,
        +[](CURL *, curl_lock_data d, void *p) { static_cast<Shared *>(p)->locks[d].unlock(); });
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Shared() {
    for (Handle h : idle) cleanup(h);  // before the share they use
    curl_share_cleanup(share);
    X509_STORE_free(store);
  }

  // The CA bundle parsed once: `ca_file`, else libcurl's default bundle.
  // Null when it cannot be read: libcurl then loads it per connection and
  // reports the problem in its own words.
  static X509_STORE *load_ca_store(const std::string &ca_file) {
    std::string path = ca_file;
    if (path.empty()) {
      CURL *probe = curl_easy_init();
      char *builtin = nullptr;
      if (probe && curl_easy_getinfo(probe, CURLINFO_CAINFO, &builtin) == CURLE_OK && builtin) path = builtin;
      curl_easy_cleanup(probe);
      if (path.empty()) return nullptr;
    }
    X509_STORE *s = X509_STORE_new();
    if (s == nullptr || X509_STORE_load_file(s, path.c_str()) != 1) {
      X509_STORE_free(s);
      ERR_clear_error();
      return nullptr;
    }
    return s;
  }

  // Parsed on the first request, not when the Host is made: `credplug
  // plugins` and `validate` never pay for it.
  X509_STORE *ca_store() {
    std::call_once(store_once, [this] {
      OpenSslSection openssl;
      store = load_ca_store(ca_file);
    });
    return store;
  }

  // A pair ready for a transfer; its easy handle null when libcurl could not make one.
  Handle borrow() {
    {
      std::lock_guard<std::mutex> lock(idle_mutex);
      if (!idle.empty()) {
        Handle h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    Handle h{curl_easy_init(), curl_multi_init()};
    if (h.easy == nullptr || h.multi == nullptr) {
      cleanup(h);
      return {};
    }
    curl_multi_setopt(h.multi, CURLMOPT_MAXCONNECTS, kMaxConnectionsPerHandle);
    return h;
  }
  void give_back(Handle h) {
    curl_easy_reset(h.easy);  // drops every option (and pointer into the request); keeps its connections
    bool kept = false;
    {
      std::lock_guard<std::mutex> lock(idle_mutex);
      if (idle.size() < kMaxIdleHandles) {
        idle.push_back(h);
        kept = true;
      }
    }
    if (!kept) cleanup(h);
  }

  // curl_easy_perform(), a step of OpenSSL work at a time (see above).
  static CURLcode perform(Handle h) {
    CURLMcode mc;
    {
      OpenSslSection openssl;
      mc = curl_multi_add_handle(h.multi, h.easy);
    }
    if (mc != CURLM_OK) return CURLE_OUT_OF_MEMORY;
    int running = 1;
    while (running != 0 && mc == CURLM_OK) {
      {
        OpenSslSection openssl;
        mc = curl_multi_perform(h.multi, &running);
      }
      // The timeouts are the easy handle's (CURLOPT_TIMEOUT_MS): this only
      // bounds one wait, and libcurl shortens it to its next timer.
      if (running != 0 && mc == CURLM_OK) mc = curl_multi_poll(h.multi, nullptr, 0, 1000, nullptr);
    }
    CURLcode rc = mc == CURLM_OK ? CURLE_OK : CURLE_RECV_ERROR;
    int left = 0;
    while (CURLMsg *msg = curl_multi_info_read(h.multi, &left))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == h.easy) rc = msg->data.result;
    OpenSslSection openssl;
    curl_multi_remove_handle(h.multi, h.easy);
    return rc;
  }
};

namespace {

// Every new TLS connection trusts the client's one parsed CA store.
CURLcode use_shared_store(CURL *, void *ssl_ctx, void *store) {
  X509_STORE_up_ref(static_cast<X509_STORE *>(store));
  SSL_CTX_set_cert_store(static_cast<SSL_CTX *>(ssl_ctx), static_cast<X509_STORE *>(store));
  return CURLE_OK;
}

}  // namespace

HttpsClient::HttpsClient(HttpOptions options)
    : options_(std::move(options)), shared_(std::make_unique<Shared>(options_)) {}

HttpStats HttpsClient::stats() const { return HttpStats{shared_->requests.load(), shared_->connections.load()}; }
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
    r.elapsed_ms =
        long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    return std::move(r);
  };
  auto refuse = [&](const std::string &why) {
    result.error = why;
    result.error_code = CREDPLUG_ERR_INVALID_CONFIG;
    return finish(result);
  };

  const std::optional<UrlParts> parsed = split_url(request.url);
  if (!parsed) return refuse("not a valid URL: " + display_url(request.url));
  const UrlParts &origin = *parsed;
  if (lower(origin.scheme) != "https")
    return refuse("refused to send a request over " + origin.scheme + "://; only https:// is allowed (" +
                  display_url(request.url) + ")");
  if (has_line_break(request.method) || request.method.empty()) return refuse("invalid HTTP method");
  for (const auto &[name, value] : request.headers)
    if (name.empty() || has_line_break(name) || name.find(':') != std::string::npos || has_line_break(value.view()))
      return refuse("invalid HTTP header '" + (has_line_break(name) ? std::string("?") : name) +
                    "' (line break or colon)");

  std::optional<ReadyClientCertificate> client_cert;
  if (request.client_cert) {
    auto ready = ready_client_certificate(*request.client_cert);
    if (auto *why = std::get_if<std::string>(&ready)) return refuse(*why);
    client_cert = std::move(std::get<ReadyClientCertificate>(ready));
  }

  std::string url = request.url;
  std::string method = request.method;
  bool send_body = true;
  for (int hop = 0;; ++hop) {
    const Shared::Handle handle = shared_->borrow();
    CURL *curl = handle.easy;
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
    if (X509_STORE *store = shared_->ca_store()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, nullptr);  // parsed once: see Shared
      curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
      curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, use_shared_store);
      curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, store);
    } else if (!options_.ca_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
    // A plugin may ask for less time than the host allows, never more.
    curl_easy_setopt(
        curl, CURLOPT_TIMEOUT_MS,
        request.timeout_ms > 0 ? std::min(request.timeout_ms, options_.total_timeout_ms) : options_.total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_SHARE, shared_->share);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "credplug/" CREDPLUG_VERSION_STRING);
    // Blobs without copies: libcurl reads our (wiped) memory during the
    // transfer, and the reset that returns the handle drops the pointers.
    curl_blob cert_blob{}, key_blob{};
    if (client_cert) {
      cert_blob = {const_cast<char *>(client_cert->cert_pem.c_str()), client_cert->cert_pem.size(), CURL_BLOB_NOCOPY};
      key_blob = {const_cast<char *>(client_cert->key_pem.c_str()), client_cert->key_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert_blob);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key_blob);
    }
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

    CURLcode rc = Shared::perform(handle);
    ++shared_->requests;
    long status = 0, opened = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK && opened > 0)
      shared_->connections += uint64_t(opened);
    shared_->give_back(handle);  // before the header list it points to goes
    for (curl_slist *h = headers; h != nullptr; h = h->next) OPENSSL_cleanse(h->data, std::strlen(h->data));
    curl_slist_free_all(headers);

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
    const std::optional<UrlParts> target = next.empty() ? std::nullopt : split_url(next);
    if (!target || lower(target->scheme) != "https" || lower(target->host) != lower(origin.host) ||
        target->port != origin.port)
      return finish(result);  // not followed: the plugin sees the 3xx
    url = next;
    if (status == 301 || status == 302 || status == 303) {
      if (method != "HEAD") method = "GET";
      send_body = false;
    }
  }
}

}  // namespace credplug::host
