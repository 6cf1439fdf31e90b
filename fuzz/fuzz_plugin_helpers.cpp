// The minor-2 helpers a plugin calls with whatever it has (a credential, a
// response body, a JSON pointer it built): through the host's own table,
// with a call's strings and secrets, as an in-process plugin uses them. No
// crash, no hang; oauth2_token's promises hold (a success is a non-empty
// token the call now treats as secret; a failure has a known code and a
// message).
#include "transport/host_services.hpp"

#include <credplug/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  static const int kStatuses[] = {0, 200, 201, 400, 401, 403, 404, 429, 500, 503};
  const credplug_host_api &api = *credplug::host::host_services();
  credplug::host::Redactor redactor;
  credplug_call call;
  call.redactor = &redactor;
  const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  // A pointer made of the input's first line, and the whole input as JSON.
  const std::string where = text.substr(0, text.find('\n'));
  (void)api.json_string(&call, text.data(), text.size(), where.c_str());
  (void)api.json_string(&call, text.data(), text.size(), "access_token");
  (void)api.json_number(text.data(), text.size(), where.c_str(), 0);
  (void)api.json_bool(text.data(), text.size(), "/a/0", 0);
  (void)api.base64_encode(&call, text.data(), text.size(), data[0] & 3u);
  (void)api.url_encode(&call, text.c_str(), data[0] & 1u);
  const char *fields[] = {"a", text.c_str(), "b", nullptr, where.c_str(), "x", nullptr};
  (void)api.form_encode(&call, fields, CREDPLUG_FLAG_SECRET);

  credplug_http_response resp;
  resp.result.status = kStatuses[data[0] % 10];
  resp.result.body = credplug::kit::SecretString(text);
  resp.result.headers = {{"retry-after", where.substr(0, 16)}};
  if (resp.result.status == 0) resp.error = where;
  credplug_oauth2_token token{};
  token.struct_size = sizeof token;
  const int32_t rc = api.oauth2_token(&call, &resp, "fuzz endpoint", &token);
  if (rc == CREDPLUG_OK) {
    if (token.access_token == nullptr || *token.access_token == '\0') __builtin_trap();
    if (redactor.apply(token.access_token) == token.access_token && std::string(token.access_token).size() >= 4)
      __builtin_trap();  // the token must now be a secret of the call
  } else {
    if (rc < CREDPLUG_ERR_INVALID_CONFIG || rc > CREDPLUG_ERR_PLUGIN || !call.error_set || call.error_message.empty())
      __builtin_trap();
    if (token.access_token != nullptr) __builtin_trap();
  }
  return 0;
}
