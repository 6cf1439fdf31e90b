// AWS: no token at all. Every request is signed with Signature Version 4
// (sigv4.cpp) under the access key, for the credential's region and
// service; the connection test signs STS GetCallerIdentity, which any valid
// key may call.
#include "sigv4.hpp"

#include <credplug/kit.hpp>
#include <credplug/kit/crypto.hpp>

#include <strings.h>

#include <cctype>

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

  void sign(Call &call, const SignRequest &request) override {
    const auto signature =
        sign_with(key_, request.method, request.url, request.headers, request.body_sha256, request.time_ms / 1000);
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
    const auto signature = sign_with(sts, "POST", sts_url_, headers, sha256_hex(kStsBody), call.now_seconds());
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
  static credplug::aws::SigV4Signature sign_with(
      const SigV4Credentials &key, std::string_view method, std::string_view url,
      const std::vector<std::pair<std::string_view, std::string_view>> &given, std::string_view payload_sha256,
      int64_t time_s) {
    const UrlParts parts = split(url);
    credplug::aws::SigV4Request r;
    r.method = std::string(method);
    r.path = parts.path;
    r.query = parts.query;
    bool has_host = false;
    for (const auto &[name, value] : given) {
      r.headers.emplace_back(std::string(name), std::string(value));
      has_host = has_host || (name.size() == 4 && strncasecmp(name.data(), "host", 4) == 0);
    }
    if (!has_host) r.headers.emplace_back("Host", parts.host);
    r.payload_sha256 = std::string(payload_sha256);
    r.time_s = time_s;
    return credplug::aws::sign_v4(key, r, credplug::aws::options_for_service(key.service));
  }

  SigV4Credentials key_;
  std::string sts_url_;
};

}  // namespace

CREDPLUG_PLUGIN_REQUIRING(3, Aws, "aws", "Amazon Web Services (Signature Version 4)", "1.0.0",
                          credplug_credential_schema, CREDPLUG_CAP_CONCURRENT_INSTANCE)
