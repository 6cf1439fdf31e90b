#include <credplug/kit/call.hpp>

#include <cstring>

namespace credplug::kit {

std::string_view HttpResponse::body() const {
  size_t len = 0;
  const char *data = api_->http_body(resp_, &len);
  return data ? std::string_view(data, len) : std::string_view();
}

std::optional<std::string> HttpResponse::header(const char *name) const {
  const char *value = api_->http_header(resp_, name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

void expect_success(const HttpResponse &response, const ApiAnswer &a) {
  if (response.ok()) return;
  const std::string status = std::to_string(response.status());
  if (response.status() == 401 || response.status() == 403)
    fail(CREDPLUG_ERR_REJECTED,
         a.who + " refused " + a.credential + ": " + a.request + " -> HTTP " + status + a.refused_detail);
  if (response.status() == 404)
    fail(CREDPLUG_ERR_INVALID_CONFIG, a.url_field + ": " + a.request + " -> HTTP 404; " + a.not_found_hint);
  fail(CREDPLUG_ERR_PROVIDER, a.who + " answered " + a.request + " with HTTP " + status);
}

HttpResponse Call::send(const HttpRequest &request) {
  std::vector<const char *> headers;
  headers.reserve(request.headers.size() * 2 + 1);
  for (const auto &[name, value] : request.headers) {
    headers.push_back(name.c_str());
    headers.push_back(value.c_str());
  }
  headers.push_back(nullptr);
  credplug_http_request req{};
  req.struct_size = sizeof req;
  req.method = request.method.c_str();
  req.url = request.url.c_str();
  req.headers = headers.data();
  req.body = request.body.empty() ? nullptr : request.body.c_str();
  req.body_len = request.body.size();
  req.timeout_ms = request.timeout_ms;
  req.flags = request.flags;
  if (!request.client_cert_pem.empty() && !request.client_key_pem.empty()) {
    if (!CREDPLUG_HAS_FIELD(api_, credplug_host_api, jwt_sign))  // the host API's minor-3 end
      fail(CREDPLUG_ERR_PLUGIN, "a client certificate needs a host of ABI minor 3 or later");
    req.client_cert_pem = request.client_cert_pem.c_str();
    req.client_key_pem = request.client_key_pem.c_str();
    req.client_key_passphrase = request.client_key_passphrase.empty() ? nullptr : request.client_key_passphrase.c_str();
  }
  credplug_http_response *raw = nullptr;
  int32_t rc = api_->http_send(call_, &req, &raw);
  HttpResponse response(api_, raw);
  if (rc != CREDPLUG_OK) {
    const char *why = raw ? api_->http_error(raw) : nullptr;
    fail(rc, why ? why : "the HTTPS request failed");
  }
  return response;
}

void Call::log(int32_t level, const std::string &message) const { api_->log(call_, level, message.c_str()); }

void Call::add_secret(std::string_view value) const {
  if (!value.empty()) api_->add_secret(call_, value.data(), value.size());
}

void Call::header(const std::string &name, std::string_view value, bool secret) const {
  std::string copy(value);
  api_->out_header(call_, name.c_str(), copy.c_str(), secret ? CREDPLUG_FLAG_SECRET : 0u);
  if (secret) wipe(copy);
}

void Call::public_header(const std::string &name, std::string_view value) const {
  std::string copy(value);
  api_->out_header(call_, name.c_str(), copy.c_str(), CREDPLUG_FLAG_PUBLIC);
}

void Call::expires_at(int64_t unix_seconds) const { api_->out_expires_at(call_, unix_seconds); }

void Call::query(const std::string &name, std::string_view value, bool secret) const {
  if (!CREDPLUG_HAS_FIELD(api_, credplug_host_api, out_query) || api_->out_query == nullptr)
    fail(CREDPLUG_ERR_PLUGIN, "sign() output a query parameter, which needs a host of ABI minor 3 or later");
  std::string copy(value);
  api_->out_query(call_, name.c_str(), copy.c_str(), secret ? CREDPLUG_FLAG_SECRET : 0u);
  if (secret) wipe(copy);
}

SignRequest::SignRequest(const credplug_sign_request &req)
    : method(req.method ? req.method : "GET"),
      url(req.url ? req.url : ""),
      body_sha256(req.body_sha256 ? req.body_sha256 : ""),
      time_ms(req.time_ms) {
  if (req.headers)
    for (const char *const *h = req.headers; h[0] != nullptr && h[1] != nullptr; h += 2)
      headers.emplace_back(h[0], h[1]);
  if (req.body != nullptr || req.body_len == 0)
    body = std::string_view(static_cast<const char *>(req.body ? req.body : ""), req.body_len);
}

std::optional<JsonDocument> Call::state() const {
  if (!CREDPLUG_HAS_FIELD(api_, credplug_host_api, out_state) || api_->state == nullptr) return std::nullopt;
  size_t len = 0;
  const char *json = api_->state(call_, &len);
  if (json == nullptr) return std::nullopt;
  std::string problem;
  auto parsed = JsonDocument::parse_object(std::string_view(json, len), &problem);
  if (!parsed) fail(CREDPLUG_ERR_PLUGIN, "the credential's state is not a JSON object: " + problem);
  return parsed;
}

void Call::set_state(std::string_view json) const {
  if (!CREDPLUG_HAS_FIELD(api_, credplug_host_api, out_state) || api_->out_state == nullptr)
    fail(CREDPLUG_ERR_PLUGIN, "the plugin output credential state, which needs a host of ABI minor 4 or later");
  api_->out_state(call_, json.data(), json.size());
}

void Call::url(const std::string &url) const {
  if (!CREDPLUG_HAS_FIELD(api_, credplug_host_api, out_url) || api_->out_url == nullptr)
    fail(CREDPLUG_ERR_PLUGIN, "the plugin output an authorization URL, which needs a host of ABI minor 4 or later");
  api_->out_url(call_, url.c_str());
}

void Call::output(const std::string &key, std::string_view value, bool secret) const {
  std::string copy(value);
  api_->out_info(call_, key.c_str(), copy.c_str(), secret ? CREDPLUG_FLAG_SECRET : 0u);
  if (secret) wipe(copy);
}

}  // namespace credplug::kit
