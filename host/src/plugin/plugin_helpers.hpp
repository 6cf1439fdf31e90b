// The helpers of ABI minors 2 and 3 (json_string ... jwt_sign in plugin.h): what
// the C++ kit gives C++ plugins, offered to C plugins through the host API.
// One implementation for both places a plugin runs: the host's own table
// (host_services.cpp) and the runner's (runner_services.cpp) instantiate
// HelperServices with their credplug_call, whose CallStrings hold the
// results. They call the surrounding table's add_secret, set_error and
// response accessors, so secrets and errors take the usual path.
#pragma once

#include <credplug/plugin.h>
#include <credplug/kit/crypto.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace credplug::helpers {

// The strings helpers returned during one call: stable addresses, wiped and
// freed when the call ends, at most kMaxBytes in all.
class CallStrings {
 public:
  static constexpr size_t kMaxBytes = 16u << 20;
  CallStrings() = default;
  CallStrings(const CallStrings &) = delete;
  CallStrings &operator=(const CallStrings &) = delete;
  CallStrings(CallStrings &&other) noexcept : strings_(std::move(other.strings_)), bytes_(other.bytes_) {
    other.strings_.clear();
    other.bytes_ = 0;
  }
  ~CallStrings();
  // Keeps `value` (wiping the argument); nullptr past the cap.
  const char *keep(std::string &&value);

 private:
  std::deque<std::string> strings_;
  size_t bytes_ = 0;
};

const char *json_string(CallStrings &strings, const char *json, size_t len, const char *where);
double json_number(const char *json, size_t len, const char *where, double fallback);
int32_t json_bool(const char *json, size_t len, const char *where, int32_t fallback);
const char *base64_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const void *data,
                          size_t len, uint32_t flags);
const char *url_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const char *text,
                       uint32_t flags);
const char *form_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings,
                        const char *const *fields, uint32_t flags);
int32_t oauth2_token(const credplug_host_api &api, credplug_call *call, CallStrings &strings,
                     const credplug_http_response *resp, const char *endpoint_name, credplug_oauth2_token *out);

int32_t sha256(const void *data, size_t len, uint8_t *out);
int32_t hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t *out);
int32_t random_bytes(void *out, size_t len);
const char *hex_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const void *data,
                       size_t len, uint32_t flags);
int32_t key_load(const credplug_host_api &api, credplug_call *call, const char *alg, const char *text, size_t len,
                 const char *passphrase, credplug_key **out);
void key_free(credplug_key *key);
const char *jwt_sign(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const credplug_key *key,
                     const credplug_jwt_claims *claims);

// The table entries: `Api()` is the table they belong to, `StringsOf(call)`
// the call's CallStrings. Nothing throws out of them (plugin code is C).
template <const credplug_host_api *(*Api)(), CallStrings &(*StringsOf)(credplug_call *)>
struct HelperServices {
  static const char *json_string(credplug_call *call, const char *json, size_t len, const char *where) noexcept {
    return call ? helpers::json_string(StringsOf(call), json, len, where) : nullptr;
  }
  static double json_number(const char *json, size_t len, const char *where, double fallback) noexcept {
    return helpers::json_number(json, len, where, fallback);
  }
  static int32_t json_bool(const char *json, size_t len, const char *where, int32_t fallback) noexcept {
    return helpers::json_bool(json, len, where, fallback);
  }
  static const char *base64_encode(credplug_call *call, const void *data, size_t len, uint32_t flags) noexcept {
    return call ? helpers::base64_encode(*Api(), call, StringsOf(call), data, len, flags) : nullptr;
  }
  static const char *url_encode(credplug_call *call, const char *text, uint32_t flags) noexcept {
    return call ? helpers::url_encode(*Api(), call, StringsOf(call), text, flags) : nullptr;
  }
  static const char *form_encode(credplug_call *call, const char *const *fields, uint32_t flags) noexcept {
    return call ? helpers::form_encode(*Api(), call, StringsOf(call), fields, flags) : nullptr;
  }
  static int32_t oauth2_token(credplug_call *call, const credplug_http_response *resp, const char *endpoint_name,
                              credplug_oauth2_token *out) noexcept {
    if (call == nullptr) return CREDPLUG_ERR_PLUGIN;
    return helpers::oauth2_token(*Api(), call, StringsOf(call), resp, endpoint_name, out);
  }

  static int32_t sha256(const void *data, size_t len, uint8_t *out) noexcept { return helpers::sha256(data, len, out); }
  static int32_t hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t *out) noexcept {
    return helpers::hmac_sha256(key, key_len, data, len, out);
  }
  static int32_t random_bytes(void *out, size_t len) noexcept { return helpers::random_bytes(out, len); }
  static const char *hex_encode(credplug_call *call, const void *data, size_t len, uint32_t flags) noexcept {
    return call ? helpers::hex_encode(*Api(), call, StringsOf(call), data, len, flags) : nullptr;
  }
  static int32_t key_load(credplug_call *call, const char *alg, const char *text, size_t len, const char *passphrase,
                          credplug_key **out) noexcept {
    if (call == nullptr) return CREDPLUG_ERR_PLUGIN;
    return helpers::key_load(*Api(), call, alg, text, len, passphrase, out);
  }
  static void key_free(credplug_key *key) noexcept { helpers::key_free(key); }
  static const char *jwt_sign(credplug_call *call, const credplug_key *key,
                              const credplug_jwt_claims *claims) noexcept {
    return call ? helpers::jwt_sign(*Api(), call, StringsOf(call), key, claims) : nullptr;
  }

  // Sets the helpers' entries of `api`, by name: a helper added to plugin.h
  // is added here once, for both tables.
  static void fill(credplug_host_api &api) {
    api.json_string = json_string;
    api.json_number = json_number;
    api.json_bool = json_bool;
    api.base64_encode = base64_encode;
    api.url_encode = url_encode;
    api.form_encode = form_encode;
    api.oauth2_token = oauth2_token;
    api.sha256 = sha256;
    api.hmac_sha256 = hmac_sha256;
    api.random_bytes = random_bytes;
    api.hex_encode = hex_encode;
    api.key_load = key_load;
    api.key_free = key_free;
    api.jwt_sign = jwt_sign;
  }
};

}  // namespace credplug::helpers

// A key key_load() made: the kit's, behind the opaque handle of plugin.h.
struct credplug_key {
  credplug::kit::SigningKey key;
};
