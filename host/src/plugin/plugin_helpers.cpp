#include "plugin_helpers.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>
#include <credplug/kit/oauth2.hpp>
#include <credplug/kit/secret.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <utility>
#include <vector>

namespace credplug::helpers {
namespace {

std::optional<kit::JsonDocument> parse(const char *json, size_t len) {
  if (json == nullptr) return std::nullopt;
  return kit::JsonDocument::parse_object(std::string_view(json, len));
}

// Keeps a result, declaring it secret when asked.
const char *finish(const credplug_host_api &api, credplug_call *call, CallStrings &strings, std::string &&value,
                   uint32_t flags) {
  const size_t len = value.size();
  const char *kept = strings.keep(std::move(value));
  if (kept != nullptr && (flags & CREDPLUG_FLAG_SECRET) && len > 0) api.add_secret(call, kept, len);
  return kept;
}

// Plugin code is C: nothing may unwind into it. Out of memory is NULL.
template <class F>
auto quietly(F &&f, decltype(f()) on_failure) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    return on_failure;
  }
}

}  // namespace

CallStrings::~CallStrings() {
  for (auto &s : strings_) kit::wipe(s);
}

const char *CallStrings::keep(std::string &&value) {
  if (bytes_ + value.size() + 1 > kMaxBytes) {
    kit::wipe(value);
    return nullptr;
  }
  bytes_ += value.size() + 1;
  strings_.push_back(std::move(value));
  return strings_.back().c_str();
}

const char *json_string(CallStrings &strings, const char *json, size_t len, const char *where) {
  return quietly(
      [&]() -> const char * {
        auto doc = parse(json, len);
        if (!doc || where == nullptr) return nullptr;
        auto value = doc->string(where);
        return value ? strings.keep(std::move(*value)) : nullptr;
      },
      nullptr);
}

double json_number(const char *json, size_t len, const char *where, double fallback) {
  return quietly(
      [&] {
        auto doc = parse(json, len);
        return doc && where ? doc->number(where).value_or(fallback) : fallback;
      },
      fallback);
}

int32_t json_bool(const char *json, size_t len, const char *where, int32_t fallback) {
  return quietly(
      [&] {
        auto doc = parse(json, len);
        auto value = doc && where ? doc->boolean(where) : std::nullopt;
        return value ? int32_t(*value) : fallback;
      },
      fallback);
}

const char *base64_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const void *data,
                          size_t len, uint32_t flags) {
  if (data == nullptr && len > 0) return nullptr;
  return quietly(
      [&] {
        std::string_view bytes(static_cast<const char *>(data), data ? len : 0);
        return finish(api, call, strings,
                      (flags & CREDPLUG_BASE64_URL) ? kit::base64url_encode(bytes) : kit::base64_encode(bytes), flags);
      },
      nullptr);
}

const char *url_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const char *text,
                       uint32_t flags) {
  if (text == nullptr) return nullptr;
  return quietly([&] { return finish(api, call, strings, kit::url_encode(text), flags); }, nullptr);
}

const char *form_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings,
                        const char *const *fields, uint32_t flags) {
  if (fields == nullptr) return nullptr;
  return quietly(
      [&] {
        std::vector<std::pair<std::string, std::string>> pairs;
        for (const char *const *f = fields; f[0] != nullptr; f += 2)
          if (f[1] != nullptr) pairs.emplace_back(f[0], f[1]);
        std::string body = kit::form_encode(pairs);
        for (auto &pair : pairs) kit::wipe(pair.second);
        return finish(api, call, strings, std::move(body), flags);
      },
      nullptr);
}

int32_t oauth2_token(const credplug_host_api &api, credplug_call *call, CallStrings &strings,
                     const credplug_http_response *resp, const char *endpoint_name, credplug_oauth2_token *out) {
  const std::string where = endpoint_name && *endpoint_name ? endpoint_name : "token endpoint";
  auto failed = [&](int32_t code, const std::string &message) {
    api.set_error(call, code, message.c_str());
    return code;
  };
  if (out == nullptr || !CREDPLUG_HAS_FIELD(out, credplug_oauth2_token, error_description))
    return failed(CREDPLUG_ERR_PLUGIN, "oauth2_token() needs a credplug_oauth2_token with its struct_size set");
  // Filled here, then copied as far as the plugin's struct_size reaches: a
  // plugin built before a later minor appends a field is never written past.
  credplug_oauth2_token token{};
  auto deliver = [&](int32_t code) {
    const uint32_t size = out->struct_size;
    std::memcpy(out, &token, std::min<size_t>(size, sizeof token));
    out->struct_size = size;
    return code;
  };
  if (resp == nullptr) {
    failed(CREDPLUG_ERR_PLUGIN, "oauth2_token() was given no response from the " + where);
    return deliver(CREDPLUG_ERR_PLUGIN);
  }
  try {
    const int status = api.http_status(resp);
    if (status == 0) {
      const char *why = api.http_error(resp);
      failed(CREDPLUG_ERR_NETWORK, "the " + where + " could not be reached: " + (why ? why : "no response"));
      return deliver(CREDPLUG_ERR_NETWORK);
    }
    size_t len = 0;
    const char *data = api.http_body(resp, &len);
    const std::string_view body = data ? std::string_view(data, len) : std::string_view();
    const char *retry_after = api.http_header(resp, "Retry-After");
    auto keep = [&](std::optional<std::string> value) { return value ? strings.keep(std::move(*value)) : nullptr; };
    auto doc = kit::JsonDocument::parse_object(body);
    try {
      kit::oauth2::Token parsed = kit::oauth2::parse_token_response(
          status, body, where, retry_after ? std::optional<std::string>(retry_after) : std::nullopt);
      token.access_token = finish(api, call, strings, std::string(parsed.access_token.view()), CREDPLUG_FLAG_SECRET);
      if (token.access_token == nullptr) throw std::bad_alloc();
      token.token_type = parsed.token_type.empty() ? nullptr : strings.keep(std::move(parsed.token_type));
      token.expires_in = parsed.expires_in.value_or(0);
      token.scope = parsed.scope.empty() ? nullptr : strings.keep(std::move(parsed.scope));
      if (auto refresh = doc->string("refresh_token"); refresh && !refresh->empty())
        token.refresh_token = finish(api, call, strings, std::move(*refresh), CREDPLUG_FLAG_SECRET);
      return deliver(CREDPLUG_OK);
    } catch (const kit::Failure &failure) {
      if (doc) {
        token.error = keep(doc->string("error"));
        token.error_description = keep(doc->string("error_description"));
      }
      failed(failure.code(), failure.what());
      return deliver(failure.code());
    }
  } catch (...) {
    token = credplug_oauth2_token{};
    failed(CREDPLUG_ERR_PLUGIN, "out of memory reading the " + where + "'s answer");
    return deliver(CREDPLUG_ERR_PLUGIN);
  }
}

int32_t sha256(const void *data, size_t len, uint8_t *out) {
  if (out == nullptr || (data == nullptr && len > 0)) return CREDPLUG_ERR_PLUGIN;
  return quietly(
      [&] {
        const kit::Sha256 digest = kit::sha256(std::string_view(static_cast<const char *>(data), data ? len : 0));
        std::memcpy(out, digest.data(), digest.size());
        return int32_t(CREDPLUG_OK);
      },
      int32_t(CREDPLUG_ERR_PLUGIN));
}

int32_t hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t *out) {
  if (out == nullptr || (key == nullptr && key_len > 0) || (data == nullptr && len > 0)) return CREDPLUG_ERR_PLUGIN;
  return quietly(
      [&] {
        kit::SecretString mac = kit::hmac_sha256(std::string_view(static_cast<const char *>(key), key ? key_len : 0),
                                                 std::string_view(static_cast<const char *>(data), data ? len : 0));
        std::memcpy(out, mac.c_str(), mac.size());
        return int32_t(CREDPLUG_OK);
      },
      int32_t(CREDPLUG_ERR_PLUGIN));
}

int32_t random_bytes(void *out, size_t len) {
  if (out == nullptr && len > 0) return CREDPLUG_ERR_PLUGIN;
  return quietly(
      [&] {
        kit::random_bytes(out, len);
        return int32_t(CREDPLUG_OK);
      },
      int32_t(CREDPLUG_ERR_PLUGIN));
}

const char *hex_encode(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const void *data,
                       size_t len, uint32_t flags) {
  if (data == nullptr && len > 0) return nullptr;
  return quietly(
      [&] {
        return finish(api, call, strings,
                      kit::hex_encode(std::string_view(static_cast<const char *>(data), data ? len : 0)), flags);
      },
      nullptr);
}

int32_t key_load(const credplug_host_api &api, credplug_call *call, const char *alg, const char *text, size_t len,
                 const char *passphrase, credplug_key **out) {
  if (out == nullptr) return CREDPLUG_ERR_PLUGIN;
  *out = nullptr;
  auto failed = [&](int32_t code, const std::string &message) {
    api.set_error(call, code, message.c_str());
    return code;
  };
  try {
    auto parsed_alg = kit::jwt_alg_from_string(alg ? alg : "");
    if (!parsed_alg)
      return failed(CREDPLUG_ERR_PLUGIN, "key_load(): unknown algorithm; expected HS256, RS256, PS256, ES256 or EdDSA");
    if (text == nullptr) return failed(CREDPLUG_ERR_INVALID_CONFIG, "key_load(): no key was given");
    std::optional<kit::SecretString> pass;
    if (passphrase != nullptr) pass.emplace(std::string_view(passphrase));
    *out = new credplug_key{
        kit::SigningKey::load(*parsed_alg, std::string_view(text, len), pass ? &*pass : nullptr, "the private key")};
    return CREDPLUG_OK;
  } catch (const kit::Failure &failure) {
    return failed(failure.code(), failure.what());
  } catch (...) {
    return failed(CREDPLUG_ERR_PLUGIN, "out of memory loading a key");
  }
}

void key_free(credplug_key *key) { delete key; }

const char *jwt_sign(const credplug_host_api &api, credplug_call *call, CallStrings &strings, const credplug_key *key,
                     const credplug_jwt_claims *claims) {
  if (key == nullptr || !CREDPLUG_HAS_FIELD(claims, credplug_jwt_claims, claims_json)) return nullptr;
  return quietly(
      [&]() -> const char * {
        kit::JwtClaims c;
        c.iss = claims->iss ? claims->iss : "";
        c.sub = claims->sub ? claims->sub : "";
        c.aud = claims->aud ? claims->aud : "";
        c.lifetime_s = claims->lifetime_s == 0 ? 300 : claims->lifetime_s;
        c.kid = claims->kid ? claims->kid : "";
        if (claims->claims)
          for (const char *const *f = claims->claims; f[0] != nullptr; f += 2)
            if (f[1] != nullptr) c.strings.emplace_back(f[0], f[1]);
        c.json = claims->claims_json ? claims->claims_json : "";
        kit::SecretString jwt = kit::sign_jwt(key->key, c, api.now_ms() / 1000);
        return finish(api, call, strings, std::string(jwt.view()), CREDPLUG_FLAG_SECRET);
      },
      nullptr);
}

}  // namespace credplug::helpers
