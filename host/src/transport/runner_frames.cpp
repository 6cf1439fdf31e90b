#include "transport/runner_frames.hpp"

#include "plugin/plugin_paths.hpp"
#include "secrets/output_rules.hpp"

#include <vector>

namespace credplug::host {

using runner::Decoder;
using runner::Encoder;
using runner::Msg;
using runner::ProtocolError;

namespace {

constexpr uint32_t kMaxRequestHeaders = 256;

// Sends the request for the plugin, through the same service (and policy) as
// an in-process plugin's, and encodes the answer.
std::string http_exchange(Decoder &d, credplug_call &call, CallFrames &state) {
  std::string method(d.cstr()), url(d.cstr());
  uint32_t n = d.u32();
  if (n > kMaxRequestHeaders) throw ProtocolError("a request with more than 256 headers");
  std::vector<std::string> fields;
  for (uint32_t i = 0; i < 2 * n; ++i) fields.emplace_back(d.cstr());
  std::string_view body = d.str();
  uint32_t timeout_ms = d.u32(), flags = d.u32();
  std::string cert(d.cstr()), key(d.cstr()), passphrase(d.cstr());
  d.end();
  std::vector<const char *> headers;
  headers.reserve(fields.size() + 1);
  for (const auto &f : fields) headers.push_back(f.c_str());
  headers.push_back(nullptr);
  credplug_http_request req{};
  req.struct_size = sizeof req;
  req.method = method.c_str();
  req.url = url.c_str();
  req.headers = headers.data();
  req.body = body.data();
  req.body_len = body.size();
  req.timeout_ms = timeout_ms;
  req.flags = flags;
  if (!cert.empty() && !key.empty()) {
    req.client_cert_pem = cert.c_str();
    req.client_key_pem = key.c_str();
    req.client_key_passphrase = passphrase.empty() ? nullptr : passphrase.c_str();
  }
  credplug_http_response *resp = nullptr;
  int32_t rc;
  if (++state.http_requests > kMaxHttpRequestsPerCall) {
    resp = new credplug_http_response();
    resp->error = "more than " + std::to_string(kMaxHttpRequestsPerCall) + " HTTPS requests in one call";
    rc = CREDPLUG_ERR_NETWORK;
  } else {
    const auto started = std::chrono::steady_clock::now();
    rc = host_services()->http_send(&call, &req, &resp);
    state.https_time += std::chrono::steady_clock::now() - started;
  }
  Encoder answer;
  answer.u32(uint32_t(rc)).u32(uint32_t(resp->result.status)).str(resp->error);
  answer.u32(uint32_t(resp->result.headers.size()));
  for (const auto &[name, value] : resp->result.headers) answer.str(name).str(value);
  answer.str(resp->result.body.view());
  host_services()->http_release(resp);
  for (auto &f : fields) runner::wipe(f);
  runner::wipe(key);
  runner::wipe(passphrase);
  return std::move(answer.bytes());
}

std::string bounded_text(Decoder &d, size_t max, const char *what) {
  std::string_view s = d.cstr();
  if (s.size() > max) throw ProtocolError(std::string("its ") + what + " is over " + std::to_string(max) + " bytes");
  return std::string(s);
}

}  // namespace

bool apply_call_frame(const runner::Frame &frame, credplug_call &call, CallFrames &state, std::string *http_answer) {
  const credplug_host_api *svc = host_services();
  Decoder d(frame.payload);
  switch (frame.type) {
    case Msg::Log: {
      int32_t level = int32_t(d.u32());
      std::string message(d.cstr());
      d.end();
      svc->log(&call, level, message.c_str());
      return false;
    }
    case Msg::AddSecret: {
      std::string_view value = d.str();
      d.end();
      svc->add_secret(&call, value.data(), value.size());
      return false;
    }
    case Msg::OutHeader:
    case Msg::OutInfo:
    case Msg::OutQuery: {
      std::string name(d.cstr()), value(d.cstr());
      uint32_t flags = d.u32();
      d.end();
      const auto out = frame.type == Msg::OutHeader ? svc->out_header
                       : frame.type == Msg::OutInfo ? svc->out_info
                                                    : svc->out_query;
      out(&call, name.c_str(), value.c_str(), flags);
      runner::wipe(value);
      return false;
    }
    case Msg::OutUrl: {
      std::string url(d.cstr());
      d.end();
      svc->out_url(&call, url.c_str());
      return false;
    }
    case Msg::OutState: {
      std::string json(d.str());
      d.end();
      svc->out_state(&call, json.data(), json.size());
      runner::wipe(json);
      return false;
    }
    case Msg::OutExpiresAt: {
      int64_t at = d.i64();
      d.end();
      svc->out_expires_at(&call, at);
      return false;
    }
    case Msg::SetError: {
      int32_t code = int32_t(d.u32());
      std::string message(d.cstr());
      d.end();
      svc->set_error(&call, code, message.c_str());
      return false;
    }
    case Msg::HttpSend:
      *http_answer = http_exchange(d, call, state);
      return false;
    case Msg::Done:
      state.status = int32_t(d.u32());
      state.created = d.u64();
      d.end();
      return true;
    default:
      throw ProtocolError("it sent a frame of type " + std::to_string(int(frame.type)) + " during a call");
  }
}

PluginDescription parse_loaded(const runner::Frame &frame, const std::string &path, std::string &schema) {
  if (frame.type != Msg::Loaded) throw ProtocolError("expected its Loaded frame");
  Decoder d(frame.payload);
  PluginDescription p;
  p.id = bounded_text(d, 64, "id");
  p.display_name = displayable(bounded_text(d, 256, "display name"), 256);
  p.version = displayable(bounded_text(d, 64, "version"), 64);
  schema = bounded_text(d, 1 << 20, "credential schema");
  p.abi_major = d.u32();
  p.abi_minor = d.u32();
  uint32_t flags = d.u32();
  p.default_token_lifetime_s = d.u32();
  p.namespaces = d.u32() != 0;
  p.no_namespaces = displayable(bounded_text(d, 1024, "namespace outcome"), 1024);
  d.end();
  if (!valid_plugin_id(p.id)) throw ProtocolError("its id is not 1-64 characters of [a-z0-9_-]");
  if (p.abi_major != CREDPLUG_ABI_MAJOR || p.abi_minor > CREDPLUG_ABI_MINOR)
    throw ProtocolError("it reports an ABI this host did not offer");
  p.path = path;
  p.has_test = flags & runner::kHasTest;
  p.has_refresh = flags & runner::kHasRefresh;
  p.has_sign = flags & runner::kHasSign;
  p.has_authorize = flags & runner::kHasAuthorize;
  p.has_revoke = flags & runner::kHasRevoke;
  p.concurrent_instance = flags & runner::kConcurrentInstance;
  return p;
}

}  // namespace credplug::host
