// AWS: no token at all. Every request is signed with Signature Version 4
// (sigv4.cpp) under the access key, for the credential's region and
// service; the connection test signs STS GetCallerIdentity, which any valid
// key may call.
#include "sigv4.hpp"

#include <credplug/kit.hpp>
#include <credplug/kit/crypto.hpp>

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

using namespace credplug::kit;
using credplug::aws::SigV4Credentials;

namespace {

constexpr const char *kStsBody = "Action=GetCallerIdentity&Version=2011-06-15";

// "https://host[:port]/path?query": host[:port] (the Host header), path and query.
struct UrlParts {
  std::string host, path, query;
};

UrlParts split(std::string_view url) {
  UrlParts p;
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) fail(CREDPLUG_ERR_INVALID_CONFIG, "the URL to sign has no scheme");
  std::string_view rest = url.substr(scheme + 3);
  const size_t path_at = rest.find_first_of("/?");
  p.host = std::string(rest.substr(0, path_at));
  if (p.host.find('@') != std::string::npos)
    fail(CREDPLUG_ERR_INVALID_CONFIG, "the URL to sign has user information, which AWS does not sign");
  for (auto &c : p.host) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (p.host.size() > 4 && p.host.compare(p.host.size() - 4, 4, ":443") == 0) p.host.resize(p.host.size() - 4);
  if (path_at == std::string_view::npos) return p;
  rest.remove_prefix(path_at);
  const size_t q = rest.find('?');
  p.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) p.query = std::string(rest.substr(q + 1));
  return p;
}

// The text of <Name>...</Name> in an STS answer, or "".
std::string xml_text(std::string_view xml, const std::string &name) {
  const std::string open = "<" + name + ">", close = "</" + name + ">";
  const size_t start = xml.find(open);
  if (start == std::string_view::npos) return "";
  const size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return "";
  return std::string(xml.substr(start + open.size(), end - start - open.size()));
}

class Aws final : public Provider {
 public:
  Aws(const JsonDocument &credential, Call &) {
    key_.access_key_id = credential.string("access_key_id").value_or("");
    key_.secret_access_key = SecretString(credential.string("secret_access_key").value_or(""));
    key_.session_token = SecretString(credential.string("session_token").value_or(""));
    key_.region = credential.string("region").value_or("");
    key_.service = credential.string("service").value_or("");
    const auto sts = credential.string("sts_url");
    sts_url_ = sts ? parse_https_url("sts_url", *sts).str() + "/" : "https://sts." + key_.region + ".amazonaws.com/";
  }

  // Nothing to fetch: the key signs each request. The empty header set
  // never expires, so the host never calls this again.
  void authenticate(Call &call) override { call.never_expires(); }

  // A URL with X-Amz-Expires=N is presigned: the signature goes in its
  // query (N seconds, at most 7 days), as AWS's SDKs presign. Otherwise the
  // Authorization header. An X-Amz-Content-Sha256: UNSIGNED-PAYLOAD header
  // (S3) is signed as the payload's hash; a presigned S3 URL always is.
  void sign(Call &call, const SignRequest &request) override {
    const auto signature = sign_with(key_, request.method, request.url, request.headers, payload_hash(request),
                                     request.time_ms / 1000, true);
    if (!signature.query.empty()) {
      for (const auto &[name, value] : signature.query)
        if (name == "X-Amz-Signature" || name == "X-Amz-Security-Token")
          call.query(name, value, true);   // whoever has the URL has the access it grants
        else if (name != "X-Amz-Expires")  // already in the URL
          call.query(name, value, false);
      return;
    }
    call.header("Authorization", signature.authorization.view(), true);
    for (const auto &[name, value] : signature.added)
      if (name == "X-Amz-Security-Token")
        call.header(name, value, true);
      else
        call.public_header(name, value);
  }

  void test(Call &call) override {
    SigV4Credentials sts = key_;
    sts.service = "sts";
    const std::vector<std::pair<std::string_view, std::string_view>> headers{
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    const auto signature = sign_with(sts, "POST", sts_url_, headers, sha256_hex(kStsBody), call.now_seconds(), false);
    HttpRequest http;
    http.method = "POST";
    http.url = sts_url_;
    http.body = SecretString(std::string_view(kStsBody));
    http.header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    http.header("Authorization", signature.authorization.view());
    for (const auto &[name, value] : signature.added) http.header(name, value);
    HttpResponse response = call.send(http);
    if (response.status() == 403 || response.status() == 401) {
      const std::string code = xml_text(response.body(), "Code");
      fail(CREDPLUG_ERR_REJECTED, "AWS STS refused the access key " + key_.access_key_id + ": " +
                                      (code.empty() ? "HTTP " + std::to_string(response.status()) : code) +
                                      (code == "SignatureDoesNotMatch" ? " (is the secret access key right?)" : "") +
                                      (code == "InvalidClientTokenId" ? " (no such key, or it was deleted)" : ""));
    }
    expect_success(response,
                   {"AWS STS", "POST GetCallerIdentity", "sts_url", "is this an STS endpoint?", "the access key"});
    const std::string arn = xml_text(response.body(), "Arn");
    if (arn.empty()) fail(CREDPLUG_ERR_PROVIDER, "AWS STS answered GetCallerIdentity without an Arn");
    call.output("arn", arn);
    call.output("account", xml_text(response.body(), "Account"));
  }

 private:
  // The body's hash, or UNSIGNED-PAYLOAD when the request's own
  // X-Amz-Content-Sha256 says so.
  static std::string payload_hash(const SignRequest &request) {
    for (const auto &[name, value] : request.headers)
      if (name.size() == 20 && strncasecmp(name.data(), "x-amz-content-sha256", 20) == 0) {
        if (value == credplug::aws::kUnsignedPayload) return credplug::aws::kUnsignedPayload;
        if (value != request.body_sha256)
          fail(CREDPLUG_ERR_INVALID_CONFIG,
               "the request's X-Amz-Content-Sha256 is neither UNSIGNED-PAYLOAD nor the body's SHA-256");
      }
    return std::string(request.body_sha256);
  }

  // Takes X-Amz-Expires=N out of `query` (sign_v4 puts it back, signed): N,
  // or 0 when the URL is not to be presigned.
  static int64_t presign_seconds(std::string &query) {
    const std::string name = "X-Amz-Expires=";
    std::string rest;
    int64_t seconds = 0;
    for (size_t start = 0; start < query.size();) {
      const size_t end = std::min(query.find('&', start), query.size());
      const std::string pair = query.substr(start, end - start);
      start = end + 1;
      if (pair.compare(0, name.size(), name) != 0) {
        rest += (rest.empty() ? "" : "&") + pair;
        continue;
      }
      const std::string value = pair.substr(name.size());
      char *stop = nullptr;
      const long long n = std::strtoll(value.c_str(), &stop, 10);
      if (value.empty() || *stop != '\0' || n < 1 || n > credplug::aws::kMaxPresignSeconds || seconds != 0)
        fail(CREDPLUG_ERR_INVALID_CONFIG, "X-Amz-Expires must be given once, 1 to 604800 seconds (7 days)");
      seconds = n;
    }
    if (seconds != 0) query = rest;
    return seconds;
  }

  static credplug::aws::SigV4Signature sign_with(
      const SigV4Credentials &key, std::string_view method, std::string_view url,
      const std::vector<std::pair<std::string_view, std::string_view>> &given, std::string payload_sha256,
      int64_t time_s, bool may_presign) {
    const UrlParts parts = split(url);
    credplug::aws::SigV4Request r;
    r.method = std::string(method);
    r.path = parts.path;
    r.query = parts.query;
    auto options = credplug::aws::options_for_service(key.service);
    if (may_presign) options.presign_expires_s = presign_seconds(r.query);
    if (options.presign_expires_s > 0 && key.service == "s3") payload_sha256 = credplug::aws::kUnsignedPayload;
    bool has_host = false;
    for (const auto &[name, value] : given) {
      r.headers.emplace_back(std::string(name), std::string(value));
      has_host = has_host || (name.size() == 4 && strncasecmp(name.data(), "host", 4) == 0);
    }
    if (!has_host) r.headers.emplace_back("Host", parts.host);
    r.payload_sha256 = std::move(payload_sha256);
    r.time_s = time_s;
    return credplug::aws::sign_v4(key, r, options);
  }

  SigV4Credentials key_;
  std::string sts_url_;
};

}  // namespace

CREDPLUG_PLUGIN_REQUIRING(3, Aws, "aws", "Amazon Web Services (Signature Version 4)", "1.0.0",
                          credplug_credential_schema, CREDPLUG_CAP_CONCURRENT_INSTANCE)
