#include "sigv4.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/failure.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace credplug::aws {
namespace {

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// SigV4's URI encoding: every byte but the unreserved ones as %XX (upper
// case); '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded; a '%' not followed by two hex digits is kept as it is.
std::string uri_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 3986 §5.2.4, and repeated slashes made one (as AWS's test suite
// normalizes "//example//" to "/example/"), keeping a trailing slash.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  bool trailing = false;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment.empty() || segment == ".") {
      trailing = last;
    } else if (segment == "..") {
      if (!out.empty()) out.pop_back();
      trailing = last;
    } else {
      out.emplace_back(segment);
      trailing = false;
    }
    start = end + 1;
  }
  std::string joined;
  for (const auto &segment : out) joined += "/" + segment;
  if (joined.empty() || trailing) joined += "/";
  return joined;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      const std::string_view name = pair.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(name), false), uri_encode(uri_decode(value), false));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto &[name, value] : params) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

// Trimmed, with runs of spaces and tabs made one space.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto &c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Headers a proxy or the HTTP client may change or add: never signed.
bool unsigned_header(const std::string &name) {
  return name == "authorization" || name == "user-agent" || name == "expect" || name == "x-amzn-trace-id" ||
         name == "connection" || name == "transfer-encoding";
}

}  // namespace

std::string amz_date(int64_t unix_seconds) {
  const time_t t = time_t(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

SigV4Options options_for_service(const std::string &service) {
  SigV4Options o;
  if (service == "s3") {
    o.normalize_path = false;
    o.encode_path = false;
    o.content_sha256_header = true;
  }
  return o;
}

SigV4Signature sign_v4(const SigV4Credentials &c, const SigV4Request &request, const SigV4Options &options) {
  SigV4Signature out;
  const std::string date_time = amz_date(request.time_s);
  const std::string date = date_time.substr(0, 8);
  const std::string scope = date + "/" + c.region + "/" + c.service + "/aws4_request";

  const bool presign = options.presign_expires_s > 0;
  bool has_content_sha256 = false;
  for (const auto &h : request.headers) has_content_sha256 |= lower(h.first) == "x-amz-content-sha256";
  if (!presign) {  // a presigned URL carries these in its query
    out.added.emplace_back("X-Amz-Date", date_time);
    if (options.content_sha256_header && !has_content_sha256)
      out.added.emplace_back("X-Amz-Content-Sha256", request.payload_sha256);
    if (!c.session_token.empty() && !options.omit_session_token)
      out.added.emplace_back("X-Amz-Security-Token", c.session_token.reveal());
  }

  std::map<std::string, std::string> headers;  // sorted by lower-case name
  auto add = [&](const std::string &name, std::string_view value) {
    const std::string key = lower(name);
    if (unsigned_header(key)) return;
    auto [it, fresh] = headers.emplace(key, canonical_value(value));
    if (!fresh) it->second += "," + canonical_value(value);
  };
  for (const auto &[name, value] : request.headers) add(name, value);
  for (const auto &[name, value] : out.added) add(name, value);

  std::string path = request.path.empty() ? "/" : request.path;
  if (options.normalize_path) path = remove_dot_segments(path);
  if (options.encode_path) path = uri_encode(path, true);

  std::string canonical_headers;
  for (const auto &[name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    out.signed_headers += (out.signed_headers.empty() ? "" : ";") + name;
  }
  std::string query = request.query;
  if (presign) {
    out.query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                 {"X-Amz-Credential", c.access_key_id + "/" + scope},
                 {"X-Amz-Date", date_time},
                 {"X-Amz-SignedHeaders", out.signed_headers},
                 {"X-Amz-Expires", std::to_string(options.presign_expires_s)}};
    if (!c.session_token.empty()) out.query.emplace_back("X-Amz-Security-Token", c.session_token.reveal());
    for (const auto &[name, value] : out.query)
      if (name != "X-Amz-Security-Token" || !options.omit_session_token)
        query += (query.empty() ? "" : "&") + name + "=" + uri_encode(value, false);
  }
  out.canonical_request = request.method + "\n" + path + "\n" + canonical_query(query) + "\n" + canonical_headers +
                          "\n" + out.signed_headers + "\n" + request.payload_sha256;
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + date_time + "\n" + scope + "\n" + kit::sha256_hex(out.canonical_request);

  kit::SecretString key(std::string_view("AWS4"));
  key.append(c.secret_access_key.view());
  const kit::SecretString k_date = kit::hmac_sha256(key.view(), date);
  const kit::SecretString k_region = kit::hmac_sha256(k_date.view(), c.region);
  const kit::SecretString k_service = kit::hmac_sha256(k_region.view(), c.service);
  const kit::SecretString k_signing = kit::hmac_sha256(k_service.view(), "aws4_request");
  out.signature = kit::hex_encode(kit::hmac_sha256(k_signing.view(), out.string_to_sign).view());
  if (presign) {
    out.query.emplace_back("X-Amz-Signature", out.signature);
    return out;
  }
  out.authorization = kit::SecretString("AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" + scope +
                                        ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature);
  if (!c.session_token.empty() && options.omit_session_token)
    out.added.emplace_back("X-Amz-Security-Token", c.session_token.reveal());
  return out;
}

}  // namespace credplug::aws
