// Credential::sign(): the embedder's request checked (it is input like any
// other), handed to the plugin's sign() with the credential's headers, and
// the result assembled. Nothing of it is cached.
#include "api/credential.hpp"

#include "net/url_parts.hpp"
#include "secrets/output_rules.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace credplug {
namespace {

constexpr size_t kMaxUrlBytes = size_t{16} * 1024;
constexpr size_t kMaxRequestHeaders = 256;
constexpr int64_t kLastSigningTimeMs = 253402300799999;  // 9999-12-31T23:59:59.999Z: what any format can write

[[noreturn]] void bad(const std::string &message) { throw Error(ErrorKind::InvalidInput, message); }

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto &c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void check_url(std::string_view url) {
  if (url.size() > kMaxUrlBytes) bad("the URL to sign is over " + std::to_string(kMaxUrlBytes) + " bytes");
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f) bad("the URL to sign has a space or control character; percent-encode it");
  if (url.find('#') != std::string_view::npos) bad("the URL to sign has a #fragment, which is never sent");
  const auto parts = host::split_url(std::string(url));
  if (!parts) bad("the URL to sign is not an absolute URL: " + host::HttpsClient::display_url(std::string(url)));
  std::string scheme = parts->scheme;
  for (auto &c : scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "https")
    bad("the URL to sign is not https:// (" + host::HttpsClient::display_url(std::string(url)) + ")");
}

// Query parameters appended as RFC 3986 encodes them (what SigV4 signs).
std::string with_query(std::string_view url, const std::vector<QueryParam> &query) {
  std::string out(url);
  for (const auto &q : query) {
    out += out.find('?') == std::string::npos ? '?' : '&';
    out += kit::url_encode(q.name) + "=" + kit::url_encode(q.value.view());
  }
  return out;
}

}  // namespace

SignedRequest Credential::sign(const RequestToSign &request) {
  const auto started = std::chrono::steady_clock::now();
  if (!impl_->plugin->description().has_sign)
    bad("plugin '" + impl_->id() + "' does not sign requests (it has no sign()); attach headers() instead");
  const std::string method = upper(request.method);
  if (method.size() > 32 || !host::is_http_token(method))
    bad("the method to sign is not an HTTP method (RFC 9110 token of at most 32 characters)");
  check_url(request.url);
  if (request.headers.size() > kMaxRequestHeaders)
    bad("the request to sign has more than " + std::to_string(kMaxRequestHeaders) + " headers");
  std::vector<const char *> headers;
  for (const auto &[name, value] : request.headers) {
    if (auto problem = host::header_problem(name, value)) bad("the request to sign: " + *problem);
    headers.push_back(name.c_str());
    headers.push_back(value.c_str());
  }
  headers.push_back(nullptr);
  headers.push_back(nullptr);
  std::string body_sha256 = request.body_sha256;
  if (!body_sha256.empty() && !is_sha256_hex(body_sha256))
    bad("the body's SHA-256 to sign is not 64 lowercase hex digits");
  if (request.body) {
    const std::string computed = kit::sha256_hex(*request.body);
    if (!body_sha256.empty() && body_sha256 != computed)
      bad("the body's SHA-256 given does not match the body given (" + body_sha256 + " != " + computed + ")");
    body_sha256 = computed;
  } else if (body_sha256.empty()) {
    body_sha256 = kit::sha256_hex("");
  }
  const int64_t time_ms = request.time_ms.value_or(impl_->tokens().cache.clock().unix_ms());
  if (time_ms < 0 || time_ms > kLastSigningTimeMs) bad("the signing time is before 1970 or after 9999");

  HeadersPtr base = Credential::headers();  // authenticates first when no valid token is cached
  const std::string url(request.url);
  credplug_sign_request req{};
  req.struct_size = sizeof req;
  req.method = method.c_str();
  req.url = url.c_str();
  req.headers = headers.data();
  req.body = request.body ? request.body->data() : nullptr;
  req.body_len = request.body ? request.body->size() : 0;
  req.body_sha256 = body_sha256.c_str();
  req.time_ms = time_ms;
  // What the plugin declares secret in this call (the signature) is masked
  // in the call's messages and not kept after it: the credential's redactor
  // would grow with every signed request.
  host::Redactor call_secrets(&impl_->redactor);
  credplug_call call = impl_->make_call();
  call.redactor = &call_secrets;
  call.signing = &req;
  const std::shared_ptr<const SecretString> state = impl_->state_now();
  call.state = state.get();
  const int32_t rc = impl_->invoke(host::PluginOp::Sign, call);
  if (rc != CREDPLUG_OK || !call.refused_output.empty()) impl_->raise(call, rc, "sign");

  SignedRequest out;
  out.headers = base->headers;
  for (auto &signed_header : call.headers) {
    auto same = std::find_if(out.headers.begin(), out.headers.end(), [&](const Header &h) {
      return strcasecmp(h.name.c_str(), signed_header.name.c_str()) == 0;
    });
    if (same != out.headers.end())
      *same = std::move(signed_header);
    else
      out.headers.push_back(std::move(signed_header));
  }
  out.query = std::move(call.query);
  out.url = with_query(url, out.query);
  out.info = std::move(call.info);
  out.time_ms = time_ms;
  out.elapsed_ms =
      long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return out;
}

}  // namespace credplug
