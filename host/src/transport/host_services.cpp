#include "transport/host_services.hpp"

#include "base/unix_time.hpp"
#include "net/retry_after.hpp"
#include "secrets/credential_state.hpp"
#include "secrets/output_rules.hpp"

#include <openssl/crypto.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>

namespace credplug::host {
namespace {

std::string safe(const char *s) { return s ? std::string(s) : std::string(); }

// Host services are called from plugin code, often C: nothing may unwind
// into it. A service that cannot allocate drops its work.
template <class F>
void quietly(F &&f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

// A line of the call's, plugin's or host's (`event` names which, in JSON lines).
void call_log(credplug_call *call, int32_t level, const char *message, const char *event) noexcept {
  quietly([&] {
    if (message == nullptr) return;
    if (call == nullptr) {
      if (const Logger *l = process_logger()) l->write(level, "[plugin] " + displayable(message, kMaxLogLineBytes));
      return;
    }
    // A flood is cut, saying so once: the rest of the call's lines are dropped.
    if (++call->log_lines > kMaxLogLinesPerCall) {
      if (call->log_lines == kMaxLogLinesPerCall + 1 && call->logger)
        call->logger->write(CREDPLUG_LOG_WARN, call->about,
                            "logged more than " + std::to_string(kMaxLogLinesPerCall) +
                                " lines in one call; the rest of this call's are dropped",
                            "plugin_log_flood");
      return;
    }
    if (call->logger)
      call->logger->write(level, call->about, displayable(call->redactor->apply(message), kMaxLogLineBytes), event);
  });
}

void svc_log(credplug_call *call, int32_t level, const char *message) noexcept {
  call_log(call, level, message, "plugin_log");
}

// The first output a plugin made that the host refused; the call then fails.
void refuse_output(credplug_call *call, std::string why) {
  if (call->refused_output.empty()) call->refused_output = std::move(why);
}

int64_t svc_now_ms() noexcept { return unix_ms_now(); }

void svc_secure_zero(void *p, size_t len) noexcept {
  if (p != nullptr && len > 0) OPENSSL_cleanse(p, len);
}

void svc_add_secret(credplug_call *call, const char *value, size_t len) noexcept {
  quietly([&] {
    if (call == nullptr || value == nullptr) return;
    // Each value is a few forms to search every message for: bounded.
    call->secret_bytes_declared += len;
    if (++call->secrets_declared > kMaxSecretsPerCall || call->secret_bytes_declared > kMaxSecretBytesPerCall)
      return refuse_output(call, "declared more than " + std::to_string(kMaxSecretsPerCall) + " secrets or " +
                                     std::to_string(kMaxSecretBytesPerCall) + " bytes of them (add_secret)");
    call->redactor->add(std::string_view(value, len), call->secret_epoch);
  });
}

void svc_out_header(credplug_call *call, const char *name, const char *value, uint32_t flags) noexcept {
  quietly([&] {
    if (call == nullptr || name == nullptr || value == nullptr) return;
    // Secret when flagged, when its name says it carries a credential
    // (unless flagged public), or when it holds any value known secret
    // (given to add_secret(), a writeOnly field, a $env/$file/$stdin
    // value): the host keeps the secret whatever flag the plugin forgot.
    const bool public_flag = (flags & CREDPLUG_FLAG_PUBLIC) != 0 && (flags & CREDPLUG_FLAG_SECRET) == 0;
    bool secret = (flags & CREDPLUG_FLAG_SECRET) != 0 || (!public_flag && header_name_says_secret(name)) ||
                  call->redactor->apply(value) != value;
    if (secret) call->redactor->add(value, call->secret_epoch);
    if (auto problem = header_problem(name, value)) return refuse_output(call, "output " + *problem);
    for (auto &h : call->headers)
      if (strcasecmp(h.name.c_str(), name) == 0) {
        h.value = SecretString(std::string_view(value));
        h.secret = secret;
        return;
      }
    if (call->headers.size() >= kMaxHeaders)
      return refuse_output(call, "output more than " + std::to_string(kMaxHeaders) + " headers");
    call->headers.push_back(Header{name, SecretString(std::string_view(value)), secret});
  });
}

void svc_out_expires_at(credplug_call *call, int64_t unix_seconds) noexcept {
  if (call) call->expires_at = unix_seconds;
}

void svc_out_query(credplug_call *call, const char *name, const char *value, uint32_t flags) noexcept {
  quietly([&] {
    if (call == nullptr || name == nullptr || value == nullptr) return;
    if (!call->signing) return refuse_output(call, "output a query parameter outside sign()");
    const bool secret = (flags & CREDPLUG_FLAG_SECRET) != 0 || call->redactor->apply(value) != value;
    if (secret) call->redactor->add(value, call->secret_epoch);
    if (auto problem = query_problem(name, value)) return refuse_output(call, "output " + *problem);
    if (call->query.size() >= kMaxHeaders)
      return refuse_output(call, "output more than " + std::to_string(kMaxHeaders) + " query parameters");
    call->query.push_back(QueryParam{name, SecretString(std::string_view(value)), secret});
  });
}

const char *svc_state(credplug_call *call, size_t *len) noexcept {
  const bool has = call != nullptr && call->state != nullptr;
  if (len) *len = has ? call->state->size() : 0;
  return has ? call->state->c_str() : nullptr;
}

void svc_out_state(credplug_call *call, const char *json, size_t len) noexcept {
  quietly([&] {
    if (call == nullptr) return;
    if (!call->may_set_state) return refuse_output(call, "output state outside authenticate() and refresh()");
    if (json == nullptr) return refuse_output(call, "output state that is NULL");
    const std::string_view text(json, len);
    if (auto problem = accept_state(*call->redactor, text, call->secret_epoch))
      return refuse_output(call, "output state that cannot be kept: " + *problem);
    call->new_state = SecretString(text);
  });
}

void svc_out_url(credplug_call *call, const char *url) noexcept {
  quietly([&] {
    if (call == nullptr || url == nullptr) return;
    if (!call->authorization || call->authorization->code != nullptr)
      return refuse_output(call, "output a URL outside authorize()'s first step");
    if (std::strlen(url) > kMaxAuthorizationUrlBytes)
      return refuse_output(call, "output a URL over " + std::to_string(kMaxAuthorizationUrlBytes) + " bytes");
    call->url = url;
  });
}

void svc_out_info(credplug_call *call, const char *key, const char *value, uint32_t flags) noexcept {
  quietly([&] {
    if (call == nullptr || key == nullptr || value == nullptr) return;
    bool secret = (flags & CREDPLUG_FLAG_SECRET) != 0;
    if (secret) call->redactor->add(value, call->secret_epoch);
    if (call->info.size() >= kMaxInfoEntries)
      return refuse_output(call, "output more than " + std::to_string(kMaxInfoEntries) + " info entries");
    std::string shown_key = displayable(key, 128);
    if (secret) {
      if (std::strlen(value) > kMaxHeaderValueBytes)
        return refuse_output(call, "output a secret info value '" + shown_key + "' over " +
                                       std::to_string(kMaxHeaderValueBytes) + " bytes");
      call->info.push_back(Info{shown_key, SecretString(std::string_view(value)), true});
    } else {
      call->info.push_back(
          Info{shown_key, SecretString(displayable(call->redactor->apply(value), kMaxMessageBytes)), false});
    }
  });
}

void svc_set_error(credplug_call *call, int32_t code, const char *message) noexcept {
  quietly([&] {
    if (call == nullptr) return;
    call->error_set = true;
    call->error_code = code;
    call->error_message = displayable(call->redactor->apply(safe(message)), kMaxMessageBytes);
  });
}

// A request header that carries a credential is a secret of the call even if
// the plugin forgot add_secret(): the whole value and, after an auth scheme
// ("Basic", "Bearer"), the bare credentials, which a server may echo.
void declare_if_credential(credplug_call *call, std::string_view name, std::string_view value) {
  std::string lower(name);
  for (auto &c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  // An identifier ("X-Key-Id", "Client-Id") names a credential; it is none.
  const bool identifier = lower.size() > 3 && (lower.compare(lower.size() - 3, 3, "-id") == 0 ||
                                               lower.compare(lower.size() - 3, 3, "_id") == 0);
  if (identifier || !header_name_says_secret(lower)) return;
  call->redactor->add(value, call->secret_epoch);
  if (size_t space = value.find(' '); space != std::string_view::npos)
    call->redactor->add(value.substr(space + 1), call->secret_epoch);
}

int32_t http_send(credplug_call *call, const credplug_http_request *req, credplug_http_response **out) {
  if (out == nullptr) return CREDPLUG_ERR_PLUGIN;
  *out = new (std::nothrow) credplug_http_response();
  if (*out == nullptr) return CREDPLUG_ERR_NETWORK;
  auto &resp = **out;
  if (call == nullptr || !CREDPLUG_HAS_FIELD(req, credplug_http_request, url) || req->url == nullptr) {
    resp.error = "invalid HTTP request from the plugin (no URL)";
    return CREDPLUG_ERR_INVALID_CONFIG;
  }
  if (call->http == nullptr) {  // destroy() has no business on the network
    resp.error = "no HTTPS requests from destroy()";
    return CREDPLUG_ERR_INVALID_CONFIG;
  }
  if (call->egress != nullptr)
    if (auto refused = call->egress->refusal(req->url)) {
      resp.error = call->redactor->apply(*refused);
      call_log(call, CREDPLUG_LOG_WARN, resp.error.c_str(), "egress_refused");
      return CREDPLUG_ERR_INVALID_CONFIG;
    }
  HttpRequestSpec spec;
  spec.method = CREDPLUG_HAS_FIELD(req, credplug_http_request, method) && req->method ? req->method : "GET";
  spec.url = req->url;
  if (CREDPLUG_HAS_FIELD(req, credplug_http_request, headers) && req->headers)
    for (const char *const *h = req->headers; h[0] != nullptr; h += 2) {
      if (h[1] == nullptr) break;
      spec.headers.emplace_back(h[0], SecretString(std::string_view(h[1])));
      declare_if_credential(call, h[0], h[1]);
    }
  if (CREDPLUG_HAS_FIELD(req, credplug_http_request, body_len) && req->body && req->body_len)
    spec.body = SecretString(static_cast<const char *>(req->body), req->body_len);
  if (CREDPLUG_HAS_FIELD(req, credplug_http_request, timeout_ms)) spec.timeout_ms = long(req->timeout_ms);
  if (CREDPLUG_HAS_FIELD(req, credplug_http_request, client_key_passphrase) && req->client_cert_pem &&
      req->client_key_pem) {
    // The key and passphrase are secrets of the call (a server's error page
    // may echo either); the certificate is public.
    spec.client_cert.emplace();
    spec.client_cert->cert_pem = SecretString(std::string_view(req->client_cert_pem));
    spec.client_cert->key_pem = SecretString(std::string_view(req->client_key_pem));
    call->redactor->add(req->client_key_pem, call->secret_epoch);
    if (req->client_key_passphrase) {
      spec.client_cert->passphrase = SecretString(std::string_view(req->client_key_passphrase));
      call->redactor->add(req->client_key_passphrase, call->secret_epoch);
    }
  }

  resp.result = call->http->send(spec);
  const std::string shown = HttpsClient::display_url(spec.url);
  if (resp.result.status == 0) {
    resp.error = call->redactor->apply(resp.result.error);
    call_log(call, CREDPLUG_LOG_DEBUG, (spec.method + " " + shown + " -> failed: " + resp.error).c_str(),
             "http_request");
    return resp.result.error_code ? resp.result.error_code : CREDPLUG_ERR_NETWORK;
  }
  call->retry_after_ms.reset();
  if (resp.result.status == 429 || resp.result.status == 503)
    for (const auto &[name, value] : resp.result.headers)
      if (name == "retry-after") call->retry_after_ms = parse_retry_after(value);
  call_log(call, CREDPLUG_LOG_DEBUG,
           (spec.method + " " + shown + " -> HTTP " + std::to_string(resp.result.status) + " (" +
            std::to_string(resp.result.body.size()) + " bytes, " + std::to_string(resp.result.elapsed_ms) + " ms)")
               .c_str(),
           "http_request");
  return CREDPLUG_OK;
}

int32_t svc_http_send(credplug_call *call, const credplug_http_request *req, credplug_http_response **out) noexcept {
  try {
    return http_send(call, req, out);
  } catch (...) {
    return CREDPLUG_ERR_NETWORK;  // out of memory; *out, if set, carries no error text
  }
}

int32_t svc_http_status(const credplug_http_response *resp) noexcept { return resp ? resp->result.status : 0; }

const char *svc_http_body(const credplug_http_response *resp, size_t *len) noexcept {
  if (resp == nullptr) {
    if (len) *len = 0;
    return nullptr;
  }
  if (len) *len = resp->result.body.size();
  return resp->result.body.c_str();
}

const char *svc_http_header(const credplug_http_response *resp, const char *name) noexcept {
  if (resp == nullptr || name == nullptr) return nullptr;
  const char *found = nullptr;
  for (const auto &[n, v] : resp->result.headers)
    if (strcasecmp(n.c_str(), name) == 0) found = v.c_str();
  return found;
}

const char *svc_http_error(const credplug_http_response *resp) noexcept {
  return resp && !resp->error.empty() ? resp->error.c_str() : nullptr;
}

void svc_http_release(credplug_http_response *resp) noexcept { delete resp; }  // the body wipes itself

helpers::CallStrings &helper_strings(credplug_call *call) { return call->helper_strings; }
using Helpers = helpers::HelperServices<host_services, helper_strings>;

// Filled by name, so an entry can neither shift nor be left out unnoticed
// (unit test "host API tables": every entry of every minor is set).
credplug_host_api make_table() {
  credplug_host_api api{};
  api.struct_size = sizeof(credplug_host_api);
  api.abi_major = CREDPLUG_ABI_MAJOR;
  api.abi_minor = CREDPLUG_ABI_MINOR;
  api.log = svc_log;
  api.now_ms = svc_now_ms;
  api.secure_zero = svc_secure_zero;
  api.add_secret = svc_add_secret;
  api.out_header = svc_out_header;
  api.out_expires_at = svc_out_expires_at;
  api.out_info = svc_out_info;
  api.out_query = svc_out_query;
  api.state = svc_state;
  api.out_state = svc_out_state;
  api.out_url = svc_out_url;
  api.set_error = svc_set_error;
  api.http_send = svc_http_send;
  api.http_status = svc_http_status;
  api.http_body = svc_http_body;
  api.http_header = svc_http_header;
  api.http_error = svc_http_error;
  api.http_release = svc_http_release;
  Helpers::fill(api);
  return api;
}

}  // namespace

const credplug_host_api *host_services() {
  static const credplug_host_api table = make_table();
  return &table;
}

}  // namespace credplug::host
