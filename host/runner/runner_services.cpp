#include "runner_services.hpp"

#include "runner_dispatch.hpp"

#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <new>
#include <thread>
#include <utility>
#include <vector>

// A response as the plugin holds it until http_release().
struct credplug_http_response {
  int32_t status = 0;
  std::string body, error;
  std::vector<std::pair<std::string, std::string>> headers;
  ~credplug_http_response() { credplug::runner::wipe(body); }
};

namespace credplug::runner {
namespace {

int g_channel = -1;
std::mutex g_write_mutex;
// Held by the writer of the moment (under g_write_mutex), or for good by the
// SIGSYS handler, which cannot take a mutex: no frame is cut by another.
std::atomic<bool> g_channel_taken{false};
// This thread is the writer of the moment: a SIGSYS handler that interrupts
// it must not wait for itself.
thread_local bool t_writing = false;

// Writes whole frames, one writer at a time.
bool write_channel(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(g_write_mutex);
  while (g_channel_taken.exchange(true)) std::this_thread::yield();  // the handler's: the runner is ending
  t_writing = true;
  const bool ok = write_all(g_channel, bytes);
  t_writing = false;
  g_channel_taken.store(false);
  return ok;
}

// Services are called from plugin code, often C: nothing may unwind into it.
template <class F>
void quietly(F &&f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

std::string_view text(const char *s) { return s ? std::string_view(s) : std::string_view(); }

void svc_log(credplug_call *call, int32_t level, const char *message) noexcept {
  quietly([&] {
    if (message == nullptr) return;
    Encoder e;
    e.u32(uint32_t(level)).str(message);
    if (call)
      queue_frame(*call, Msg::Log, e.bytes());
    else
      send_frame(Msg::Log, 0, e.bytes());
  });
}

int64_t svc_now_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void svc_secure_zero(void *p, size_t len) noexcept {
  if (p != nullptr && len > 0) explicit_bzero(p, len);
}

void svc_add_secret(credplug_call *call, const char *value, size_t len) noexcept {
  quietly([&] {
    if (call == nullptr || value == nullptr) return;
    Encoder e;
    e.str(std::string_view(value, len));
    queue_frame(*call, Msg::AddSecret, e.bytes());
    wipe(e.bytes());
  });
}

void out_named(Msg type, credplug_call *call, const char *name, const char *value, uint32_t flags) {
  quietly([&] {
    if (call == nullptr || name == nullptr || value == nullptr) return;
    Encoder e;
    e.str(name).str(value).u32(flags);
    queue_frame(*call, type, e.bytes());
    wipe(e.bytes());
  });
}

void svc_out_header(credplug_call *call, const char *name, const char *value, uint32_t flags) noexcept {
  out_named(Msg::OutHeader, call, name, value, flags);
}

void svc_out_info(credplug_call *call, const char *key, const char *value, uint32_t flags) noexcept {
  out_named(Msg::OutInfo, call, key, value, flags);
}

void svc_out_query(credplug_call *call, const char *name, const char *value, uint32_t flags) noexcept {
  out_named(Msg::OutQuery, call, name, value, flags);
}

const char *svc_state(credplug_call *call, size_t *len) noexcept {
  const bool has = call != nullptr && call->state.has_value();
  if (len) *len = has ? call->state->size() : 0;
  return has ? call->state->c_str() : nullptr;
}

void svc_out_url(credplug_call *call, const char *url) noexcept {
  quietly([&] {
    if (call == nullptr || url == nullptr) return;
    Encoder e;
    e.str(url);
    queue_frame(*call, Msg::OutUrl, e.bytes());
  });
}

// Checked by the host (secrets/credential_state.hpp), which alone may trust it.
void svc_out_state(credplug_call *call, const char *json, size_t len) noexcept {
  quietly([&] {
    if (call == nullptr || json == nullptr) return;
    Encoder e;
    e.str(std::string_view(json, len));
    queue_frame(*call, Msg::OutState, e.bytes());
    wipe(e.bytes());
  });
}

void svc_out_expires_at(credplug_call *call, int64_t unix_seconds) noexcept {
  quietly([&] {
    if (call == nullptr) return;
    Encoder e;
    e.i64(unix_seconds);
    queue_frame(*call, Msg::OutExpiresAt, e.bytes());
  });
}

void svc_set_error(credplug_call *call, int32_t code, const char *message) noexcept {
  quietly([&] {
    if (call == nullptr) return;
    Encoder e;
    e.u32(uint32_t(code)).str(text(message));
    queue_frame(*call, Msg::SetError, e.bytes());
  });
}

// Sends the request and waits for the host's HttpResult (the host bounds it
// with its own timeouts, and ends this process if it must).
int32_t http_send(credplug_call *call, const credplug_http_request *req, credplug_http_response **out) {
  if (out == nullptr) return CREDPLUG_ERR_PLUGIN;
  *out = new credplug_http_response();
  auto &resp = **out;
  if (call == nullptr || !CREDPLUG_HAS_FIELD(req, credplug_http_request, url) || req->url == nullptr) {
    resp.error = "invalid HTTP request from the plugin (no URL)";
    return CREDPLUG_ERR_INVALID_CONFIG;
  }
  Encoder e;
  e.str(CREDPLUG_HAS_FIELD(req, credplug_http_request, method) && req->method ? req->method : "GET").str(req->url);
  std::vector<std::pair<const char *, const char *>> headers;
  if (CREDPLUG_HAS_FIELD(req, credplug_http_request, headers) && req->headers)
    for (const char *const *h = req->headers; h[0] != nullptr && h[1] != nullptr; h += 2)
      headers.emplace_back(h[0], h[1]);
  e.u32(uint32_t(headers.size()));
  for (const auto &[name, value] : headers) e.str(name).str(value);
  std::string_view body;
  if (CREDPLUG_HAS_FIELD(req, credplug_http_request, body_len) && req->body && req->body_len)
    body = std::string_view(static_cast<const char *>(req->body), req->body_len);
  e.str(body);
  e.u32(CREDPLUG_HAS_FIELD(req, credplug_http_request, timeout_ms) ? req->timeout_ms : 0);
  e.u32(CREDPLUG_HAS_FIELD(req, credplug_http_request, flags) ? req->flags : 0);
  const bool client_cert = CREDPLUG_HAS_FIELD(req, credplug_http_request, client_key_passphrase) &&
                           req->client_cert_pem && req->client_key_pem;
  e.str(client_cert ? req->client_cert_pem : "").str(client_cert ? req->client_key_pem : "");
  e.str(client_cert && req->client_key_passphrase ? req->client_key_passphrase : "");

  const bool answered = http_round_trip(*call, e.bytes());
  wipe(e.bytes());
  if (!answered) {
    resp.error = "the host is gone";
    return CREDPLUG_ERR_NETWORK;
  }
  std::string payload = std::move(*call->http_result);
  call->http_result.reset();

  int32_t rc;
  try {
    Decoder d(payload);
    rc = int32_t(d.u32());
    resp.status = int32_t(d.u32());
    resp.error = std::string(d.str());
    uint32_t n = d.u32();
    for (uint32_t i = 0; i < n; ++i) {
      std::string name(d.str());
      resp.headers.emplace_back(std::move(name), std::string(d.str()));
    }
    resp.body = std::string(d.str());
    d.end();
  } catch (const ProtocolError &) {
    resp = credplug_http_response();
    resp.error = "the host's answer was malformed";
    rc = CREDPLUG_ERR_NETWORK;
  }
  wipe(payload);
  return rc;
}

int32_t svc_http_send(credplug_call *call, const credplug_http_request *req, credplug_http_response **out) noexcept {
  try {
    return http_send(call, req, out);
  } catch (...) {
    return CREDPLUG_ERR_NETWORK;
  }
}

int32_t svc_http_status(const credplug_http_response *resp) noexcept { return resp ? resp->status : 0; }

const char *svc_http_body(const credplug_http_response *resp, size_t *len) noexcept {
  if (resp == nullptr) {
    if (len) *len = 0;
    return nullptr;
  }
  if (len) *len = resp->body.size();
  return resp->body.c_str();
}

const char *svc_http_header(const credplug_http_response *resp, const char *name) noexcept {
  if (resp == nullptr || name == nullptr) return nullptr;
  const char *found = nullptr;
  for (const auto &[n, v] : resp->headers)
    if (strcasecmp(n.c_str(), name) == 0) found = v.c_str();
  return found;
}

const char *svc_http_error(const credplug_http_response *resp) noexcept {
  return resp && !resp->error.empty() ? resp->error.c_str() : nullptr;
}

void svc_http_release(credplug_http_response *resp) noexcept { delete resp; }

helpers::CallStrings &helper_strings(credplug_call *call) { return call->helper_strings; }
using Helpers = helpers::HelperServices<runner_services, helper_strings>;

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

void set_channel(int fd) { g_channel = fd; }

bool send_frame(Msg type, uint32_t call, std::string_view payload) {
  std::string frame;
  append_frame(frame, type, call, payload);
  const bool ok = write_channel(frame);
  wipe(frame);
  return ok;
}

void write_from_signal_handler(std::string_view frame) noexcept {
  // This thread's own frame half written: better nothing than a cut one.
  // Another thread's (a log line flushed as the plugin made the call): wait
  // for it, up to 200 ms, so the host still learns which call it was.
  if (t_writing) return;
  timespec start{}, now{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (g_channel_taken.exchange(true)) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) > 200000000L) return;
    const timespec pause{0, 100000};  // nanosleep: async-signal-safe, and allowed by the filter
    nanosleep(&pause, nullptr);
  }
  for (size_t done = 0; done < frame.size();) {
    const ssize_t n = ::write(g_channel, frame.data() + done, frame.size() - done);
    if (n <= 0) return;
    done += size_t(n);
  }
}

void end_runner(const std::string &line, int status) {
  Encoder e;
  e.u32(CREDPLUG_LOG_ERROR).str(line);
  send_frame(Msg::Log, 0, e.bytes());
  _exit(status);
}

constexpr size_t kMaxQueuedBytes = 1 << 20;

void queue_frame(credplug_call &call, Msg type, std::string_view payload) {
  append_frame(call.pending, type, call.id, payload);
  if (call.pending.size() > kMaxQueuedBytes) {
    write_channel(call.pending);
    wipe(call.pending);
  }
}

bool send_with_queued(credplug_call &call, Msg type, std::string_view payload) {
  append_frame(call.pending, type, call.id, payload);
  const bool ok = write_channel(call.pending);
  wipe(call.pending);
  return ok;
}

const credplug_host_api *runner_services() {
  static const credplug_host_api table = make_table();
  return &table;
}

}  // namespace credplug::runner
