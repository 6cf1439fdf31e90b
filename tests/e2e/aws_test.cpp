// AWS end to end (issue 20): per-request Signature Version 4 through the
// CLI and the C++ API, in both isolation modes (the suite runs once per
// mode); the emulator's STS checks each signature as AWS does. The C API's
// turn is in tests/capi.
#include "fixture.hpp"
#include "net/https_client.hpp"

#include <credplug/kit/json.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

using namespace credplug;
using namespace credplug::testing;

namespace {

std::string aws_file(const std::string &service = "execute-api", const std::string &secret = kAwsSecret) {
  return E2E::get().write_new("aws", E2E::get().aws_credential(service, secret));
}

std::string vector_file(const std::string &name, const std::string &file) {
  std::ifstream in(std::string(CREDPLUG_SOURCE_DIR) + "/tests/vectors/aws-sigv4/" + name + "/" + file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The published suite's key, region and service.
std::string example_file() {
  return E2E::get().write_new("aws-example", R"({"access_key_id":"AKIDEXAMPLE",)"
                                             R"("secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",)"
                                             R"("region":"us-east-1","service":"service"})");
}

}  // namespace

TEST_CASE("aws: the connection test signs STS GetCallerIdentity, which the emulator accepts; no token is kept") {
  auto &env = E2E::get();
  env.reset();
  auto r = env.trusted({"test", "aws", aws_file()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "aws: OK"));
  CHECK(contains(r.out, "arn: arn:aws:iam::123456789012:user/" + kAwsKeyId));
  CHECK(contains(r.out, "no token: this provider signs each request"));
  CHECK(env.emu->count("aws.sts") == 1);
  const auto sent = env.emu->last_headers("aws.sts");
  CHECK(contains(header(sent, "Authorization"), "Credential=" + kAwsKeyId + "/"));
  CHECK(contains(header(sent, "Authorization"), "/eu-west-3/sts/aws4_request"));
}

TEST_CASE("aws: a wrong secret access key is refused with exit 4, naming STS's code; the key never shows") {
  auto &env = E2E::get();
  auto r = env.trusted({"test", "aws", aws_file("execute-api", "CANARY/not+the/right/secret/key/0000")});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "AWS STS refused the access key " + kAwsKeyId +
                            ": SignatureDoesNotMatch (is the secret access key right?)"));
  CHECK_FALSE(contains(r.err + r.out, "CANARY/not+the"));
}

TEST_CASE("aws: credplug sign reproduces the published SigV4 vectors with --time") {
  auto &env = E2E::get();
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {"get-vanilla", {"--url", "https://example.amazonaws.com/"}},
      {"get-vanilla-query-order-key-case", {"--url", "https://example.amazonaws.com/?Param2=value2&Param1=value1"}},
      {"post-vanilla", {"--method", "POST", "--url", "https://example.amazonaws.com/"}},
      {"get-header-key-duplicate",
       {"--url", "https://example.amazonaws.com/", "--header", "My-Header1: value2", "--header", "My-Header1: value2",
        "--header", "My-Header1: value1"}}};
  for (const auto &one : cases) {
    const std::string &name = one.first;
    const std::vector<std::string> &request = one.second;
    CAPTURE(name);
    std::vector<std::string> args{"sign", "aws", example_file(), "--time", "1440938160", "--reveal", "--json"};
    args.insert(args.end(), request.begin(), request.end());
    auto r = env.trusted(args);
    REQUIRE(r.exit_code == 0);
    std::string authorization = vector_file(name, "header-signed-request.txt");
    REQUIRE(contains(authorization, "Authorization:"));
    authorization = authorization.substr(authorization.find("Authorization:") + 14);
    authorization = authorization.substr(0, authorization.find('\n'));
    CHECK(contains(r.out, "\"value\": \"" + authorization + "\""));
    CHECK(contains(r.out, "\"value\": \"20150830T123600Z\""));
  }
  // Masked without --reveal; the signature changes with the time.
  auto masked =
      env.trusted({"sign", "aws", example_file(), "--url", "https://example.amazonaws.com/", "--time", "1440938160"});
  CHECK(masked.exit_code == 0);
  CHECK(contains(masked.out, "Authorization: <secret, "));
  CHECK(contains(masked.out, "X-Amz-Date: 20150830T123600Z"));
  CHECK_FALSE(contains(masked.out, "Signature="));
}

TEST_CASE("aws: a URL with X-Amz-Expires is presigned, reproducing the published query-signing vectors") {
  auto &env = E2E::get();
  for (const auto &one : std::vector<std::pair<std::string, std::string>>{
           {"get-vanilla", "https://example.amazonaws.com/?X-Amz-Expires=3600"},
           {"get-vanilla-query-order-key-case",
            "https://example.amazonaws.com/?Param2=value2&X-Amz-Expires=3600&Param1=value1"}}) {
    const std::string &name = one.first, &url = one.second;
    CAPTURE(name);
    auto r = env.trusted({"sign", "aws", example_file(), "--url", url, "--time", "1440938160", "--reveal", "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "\"url\": \"" + url + "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"));
    CHECK(contains(r.out, "&X-Amz-Signature=" + vector_file(name, "query-signature.txt") + "\""));
    CHECK(contains(r.out, "\"headers\": []"));
  }
  // Masked without --reveal, in the URL too.
  auto r = env.trusted({"sign", "aws", example_file(), "--url", "https://example.amazonaws.com/?X-Amz-Expires=60"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "&X-Amz-Signature=**** at "));
  CHECK(contains(r.out, "Query parameter added: X-Amz-Signature=<secret, 64 characters>"));
  CHECK(contains(r.out, "Headers to attach: none"));
  // AWS's limits: 1 second to 7 days.
  for (const char *bad : {"0", "604801", "soon"}) {
    r = env.trusted(
        {"sign", "aws", example_file(), "--url", std::string("https://example.amazonaws.com/?X-Amz-Expires=") + bad});
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "X-Amz-Expires must be given once, 1 to 604800 seconds (7 days)"));
  }
}

TEST_CASE("aws: a presigned GetCallerIdentity fetched with curl: STS accepts it, refuses it changed or expired") {
  auto &env = E2E::get();
  env.reset();
  const std::string cred = aws_file("sts");
  const std::string base = env.emu->origin() + "/aws-sts/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=";
  auto presign = [&](const std::string &url, const std::vector<std::string> &more = {}) {
    std::vector<std::string> args{"sign", "aws", cred, "--url", url, "--reveal", "--json"};
    args.insert(args.end(), more.begin(), more.end());
    auto r = env.trusted(args);
    REQUIRE(r.exit_code == 0);
    auto doc = kit::JsonDocument::parse_object(r.out);
    REQUIRE(doc);
    return doc->string("url").value();
  };
  auto curl = [&](const std::string &url) {
    return run_process({"/usr/bin/curl", "-sS", "--cacert", env.pki.ca_cert, "-w", "\n%{http_code}", url}, {}, "");
  };
  const std::string url = presign(base + "60");
  auto got = curl(url);
  CHECK(contains(got.out, "<Arn>arn:aws:iam::123456789012:user/" + kAwsKeyId + "</Arn>"));
  CHECK(contains(got.out, "\n200"));
  CHECK(env.emu->count("aws.sts") == 1);
  // One parameter changed: the signature no longer holds.
  std::string changed = url;
  changed.replace(changed.find("Version=2011-06-15"), 18, "Version=2011-06-16");
  got = curl(changed);
  CHECK(contains(got.out, "<Code>SignatureDoesNotMatch</Code>"));
  CHECK(contains(got.out, "\n403"));
  // Signed an hour ago for a minute: expired.
  const std::string old_time = std::to_string(std::time(nullptr) - 3600);
  got = curl(presign(base + "60", {"--time", old_time}));
  CHECK(contains(got.out, "<Code>ExpiredToken</Code>"));
  CHECK(contains(got.out, "\n403"));
  // Signed an hour ago for two: still good.
  got = curl(presign(base + "7200", {"--time", old_time}));
  CHECK(contains(got.out, "\n200"));
}

TEST_CASE("aws: S3's UNSIGNED-PAYLOAD header is signed as the payload's hash; another value must be the body's") {
  auto &env = E2E::get();
  const std::string cred = aws_file("s3");
  auto r = env.trusted({"--json", "sign", "aws", cred, "--method", "PUT", "--url",
                        "https://bucket.s3.eu-west-3.amazonaws.com/key", "--header",
                        "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD", "--data", "streamed body", "--reveal"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "SignedHeaders=host;x-amz-content-sha256;x-amz-date"));
  CHECK_FALSE(contains(r.out, "\"X-Amz-Content-Sha256\""));  // the request has it already: not added twice
  r = env.trusted({"sign", "aws", cred, "--method", "PUT", "--url", "https://bucket.s3.eu-west-3.amazonaws.com/key",
                   "--header", "X-Amz-Content-Sha256: " + std::string(64, 'a'), "--data", "streamed body"});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "neither UNSIGNED-PAYLOAD nor the body's SHA-256"));
  // A presigned S3 URL signs UNSIGNED-PAYLOAD and carries no payload hash.
  r = env.trusted({"sign", "aws", cred, "--url", "https://bucket.s3.eu-west-3.amazonaws.com/key?X-Amz-Expires=300",
                   "--reveal", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "X-Amz-SignedHeaders=host&X-Amz-Signature="));
  CHECK_FALSE(contains(r.out, "Content-Sha256"));
}

TEST_CASE("aws: a request that is not one is refused with exit 3, naming what is wrong") {
  auto &env = E2E::get();
  auto cred = aws_file();
  auto r = env.trusted({"sign", "aws", cred, "--url", "http://example.amazonaws.com/"});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "the URL to sign is not https://"));
  r = env.trusted({"sign", "aws", cred, "--url", "https://example.amazonaws.com/", "--header", "no colon"});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "--header expects 'Name: value'"));
  r = env.trusted({"sign", "aws", cred, "--url", "https://example.amazonaws.com/", "--data", "abc", "--body-sha256",
                   std::string(64, '0')});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "does not match the body given"));
  r = env.trusted({"sign", "nexla", env.write_new("nexla", env.nexla_credential()), "--url", "https://x.example/"});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "plugin 'nexla' does not sign requests"));
}

TEST_CASE("aws: Credential::sign from many threads: each request's own signature, accepted by STS") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  CHECK(host.plugin("aws").signs_requests);
  auto cred = host.open("aws", env.aws_credential("sts"));
  // headers() is empty and never expires: nothing to fetch again.
  auto headers = cred->headers();
  CHECK(headers->headers.empty());
  CHECK(headers->never_expires);
  CHECK(cred->status().never_expires);
  // Each signed request is sent as signed: STS accepts it (and would
  // refuse a signature of another request, or a reused one past 15 min).
  host::HttpOptions http_options;
  http_options.ca_file = env.pki.ca_cert;
  host::HttpsClient http(http_options);
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string body = "Action=GetCallerIdentity&Version=2011-06-15&Thread=" + std::to_string(t * 100 + i);
        RequestToSign request;
        request.method = "POST";
        const std::string url = env.emu->origin() + "/aws-sts/";
        request.url = url;
        request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
        request.body = body;
        SignedRequest s = cred->sign(request);
        host::HttpRequestSpec spec;
        spec.method = "POST";
        spec.url = s.url;
        spec.body = SecretString(body);
        spec.headers.emplace_back("Content-Type", SecretString(std::string_view(request.headers[0].second)));
        for (const auto &h : s.headers) spec.headers.emplace_back(h.name, h.value);
        if (http.send(spec).status == 200) ++accepted;
      }
    });
  for (auto &t : threads) t.join();
  CHECK(accepted == 40);
  CHECK(env.emu->count("aws.sts") == 40);
  CHECK(cred->cache_status().token_requests == 1);  // one authenticate(), ever
}

// A signature is masked in its own call's messages but not kept in the
// credential's redactor: kept, every signed request would grow it (and the
// cost of masking every later message) without end.
TEST_CASE("aws: a request's signature is not kept by the credential after sign()") {
  auto &env = E2E::get();
  env.reset();
  Host host(env.host_options());
  auto cred = host.open("aws", env.aws_credential("sts"));
  RequestToSign request;
  request.method = "GET";
  const std::string url = env.emu->origin() + "/aws-sts/?Action=GetCallerIdentity&Version=2011-06-15";
  request.url = url;
  std::string signature;
  for (int i = 0; i < 3; ++i) {
    SignedRequest s = cred->sign(request);
    const Header *authorization = nullptr;
    for (const auto &h : s.headers)
      if (h.name == "Authorization") authorization = &h;
    REQUIRE(authorization != nullptr);
    CHECK(authorization->secret);
    signature = std::string(authorization->value.view());
  }
  REQUIRE(signature.size() - signature.rfind("Signature=") ==
          10 + 64);  // the header's value, ending in the hex signature
  CHECK(cred->redact(signature) == signature);
  CHECK(cred->redact(kAwsSecret) == "[REDACTED]");  // the credential's own secret still is
}
