// What the host accepts from a plugin (and, through it, from a server) as
// text it hands on: header names and values an embedder attaches to its own
// requests, and messages and info shown on a terminal or written to a log.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace credplug::host {

// Limits on one call's outputs (plugin.h, "Limits").
constexpr size_t kMaxHeaders = 32;
// authorize()'s URL: browsers take 8 KiB and more; no provider needs more.
constexpr size_t kMaxAuthorizationUrlBytes = 8192;
constexpr size_t kMaxHeaderNameBytes = 256;
constexpr size_t kMaxHeaderValueBytes = size_t{64} * 1024;  // the largest JWTs seen are ~16 KiB
constexpr size_t kMaxInfoEntries = 64;
constexpr size_t kMaxMessageBytes = 2048;  // an error message, an info value
constexpr size_t kMaxLogLineBytes = 4096;
constexpr size_t kMaxLogLinesPerCall = 1000;  // past it, the call's lines are dropped (saying so once)
// add_secret() in one call: past either, the call fails (its output refused).
constexpr size_t kMaxSecretsPerCall = 256;
constexpr size_t kMaxSecretBytesPerCall = size_t{1} << 20;

// Why `name: value` cannot be attached to an HTTP request, or nullopt when
// it can: the name must be an RFC 9110 token, the value free of control
// characters (CR, LF and NUL would split or cut the header: injection).
// The answer never quotes the value.
std::optional<std::string> header_problem(std::string_view name, std::string_view value);

// Whether `s` is an RFC 9110 token (a header name, a method): not empty,
// letters, digits and !#$%&'*+-.^_`|~ only.
bool is_http_token(std::string_view s);

// Why `name=value` cannot be a query parameter sign() adds, or nullopt:
// a name of 1 to 256 bytes, no control characters in either, a value of
// at most kMaxHeaderValueBytes (both are percent-encoded when appended).
std::optional<std::string> query_problem(std::string_view name, std::string_view value);

// Whether a header of this name carries a credential: Authorization,
// Proxy-Authorization, Cookie, or a name holding "auth", "key", "token",
// "secret", "signature", "session", "password", "jwt" or "cookie". Such a
// header is secret unless its plugin marks it CREDPLUG_FLAG_PUBLIC.
bool header_name_says_secret(std::string_view name);

// A credential's label (OpenOptions::label): why it cannot be one, or
// nullopt when it can: at most kMaxLabelBytes of UTF-8 without control
// characters, so a log line shows it as given.
constexpr size_t kMaxLabelBytes = 128;
std::optional<std::string> label_problem(std::string_view label);

// `text` made safe to show: control characters other than newline (ESC
// starts terminal escape sequences; CR overwrites a line) and C1 controls
// become \xHH, invalid UTF-8 becomes U+FFFD, and the result is cut at
// `max_bytes` on a character boundary with "…". Redact *before* calling:
// a cut made first could keep part of a secret the redactor no longer sees.
std::string displayable(std::string_view text, size_t max_bytes);

}  // namespace credplug::host
