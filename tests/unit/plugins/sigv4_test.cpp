// The aws plugin's signer against every case of AWS's SigV4 test suite
// (tests/vectors/aws-sigv4/README.md), signed in a header and presigned in
// the query: canonical request, string to sign, signature and the signed
// request's Authorization header or query, byte for byte.
#include "sigv4.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <doctest/doctest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace credplug;

namespace {

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// request.txt: "METHOD TARGET HTTP/1.1", headers (a line starting with a
// space continues the one before: joined with a space, as obs-fold is
// unfolded), a blank line, the body.
aws::SigV4Request parse_request(const std::string &text, std::string &body) {
  aws::SigV4Request r;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const size_t first = line.find(' '), last = line.rfind(' ');
  r.method = line.substr(0, first);
  const std::string target = line.substr(first + 1, last - first - 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  while (std::getline(in, line) && !line.empty()) {
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += " " + line;
      continue;
    }
    const size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

int64_t parse_time(const std::string &iso) {  // "2015-08-30T12:36:00Z"
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return int64_t(timegm(&tm));
}

std::string authorization_line(const std::string &signed_request) {
  std::istringstream in(signed_request);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Authorization:", 0) == 0) return line.substr(std::string("Authorization:").size());
  return "";
}

// One case of the suite: its key, options and request, from context.json
// and request.txt; `presign` for its query-* files.
struct Case {
  aws::SigV4Credentials key;
  aws::SigV4Options options;
  aws::SigV4Request request;
};

Case load_case(const fs::path &dir, bool presign) {
  Case c;
  auto context = kit::JsonDocument::parse_object(slurp(dir / "context.json"));
  REQUIRE(context);
  c.key.access_key_id = context->string("/credentials/access_key_id").value();
  c.key.secret_access_key = kit::SecretString(context->string("/credentials/secret_access_key").value());
  c.key.session_token = kit::SecretString(context->string("/credentials/token").value_or(""));
  c.key.region = context->string("region").value();
  c.key.service = context->string("service").value();
  c.options.normalize_path = context->boolean("normalize").value_or(true);
  c.options.omit_session_token = context->boolean("omit_session_token").value_or(false);
  if (presign)
    c.options.presign_expires_s = context->integer("expiration_in_seconds").value();
  else
    c.options.content_sha256_header = context->boolean("sign_body").value_or(false);
  std::string body;
  c.request = parse_request(slurp(dir / "request.txt"), body);
  c.request.payload_sha256 = kit::sha256_hex(body);
  c.request.time_s = parse_time(context->string("timestamp").value());
  return c;
}

}  // namespace

TEST_CASE("sigv4: every header-signing case of AWS's test suite, byte for byte") {
  int cases = 0;
  for (const auto &entry : fs::directory_iterator(CREDPLUG_SIGV4_VECTORS)) {
    if (!entry.is_directory()) continue;
    const fs::path &dir = entry.path();
    CAPTURE(dir.filename().string());
    const Case c = load_case(dir, false);
    const aws::SigV4Signature s = aws::sign_v4(c.key, c.request, c.options);
    CHECK(s.canonical_request == slurp(dir / "header-canonical-request.txt"));
    CHECK(s.string_to_sign == slurp(dir / "header-string-to-sign.txt"));
    CHECK(s.signature == slurp(dir / "header-signature.txt"));
    CHECK(std::string(s.authorization.view()) == authorization_line(slurp(dir / "header-signed-request.txt")));
    ++cases;
  }
  CHECK(cases == 38);
}

TEST_CASE("sigv4: every query-signing (presigned URL) case of AWS's test suite, byte for byte") {
  int cases = 0;
  for (const auto &entry : fs::directory_iterator(CREDPLUG_SIGV4_VECTORS)) {
    if (!entry.is_directory()) continue;
    const fs::path &dir = entry.path();
    CAPTURE(dir.filename().string());
    const Case c = load_case(dir, true);
    const aws::SigV4Signature s = aws::sign_v4(c.key, c.request, c.options);
    CHECK(s.canonical_request == slurp(dir / "query-canonical-request.txt"));
    CHECK(s.string_to_sign == slurp(dir / "query-string-to-sign.txt"));
    CHECK(s.signature == slurp(dir / "query-signature.txt"));
    CHECK(s.added.empty());
    // The signed request's query is the request's own, then ours, in order.
    std::string target = slurp(dir / "query-signed-request.txt");
    target = target.substr(target.find(' ') + 1);
    target = target.substr(0, target.find(" HTTP/1.1"));
    std::string expected_query = target.substr(target.find('?') + 1), ours = c.request.query;
    for (const auto &[name, value] : s.query) ours += (ours.empty() ? "" : "&") + name + "=" + kit::url_encode(value);
    CHECK(ours == expected_query);
    ++cases;
  }
  CHECK(cases == 38);
}

TEST_CASE("sigv4: S3 signs the path as sent and its payload hash as a header") {
  aws::SigV4Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = kit::SecretString(std::string_view("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
  c.region = "us-east-1";
  c.service = "s3";
  aws::SigV4Request r;
  r.method = "GET";
  r.path = "/bucket/a%20b/../c";
  r.headers = {{"Host", "s3.amazonaws.com"}};
  r.payload_sha256 = kit::sha256_hex("");
  r.time_s = 1440938160;
  const auto s = aws::sign_v4(c, r, aws::options_for_service("s3"));
  CHECK(s.canonical_request.rfind("GET\n/bucket/a%20b/../c\n", 0) == 0);
  CHECK(s.signed_headers == "host;x-amz-content-sha256;x-amz-date");
  CHECK(s.added[1] == std::pair<std::string, std::string>{"X-Amz-Content-Sha256", r.payload_sha256});
  // Another service encodes it again and resolves the dots.
  c.service = "service";
  CHECK(aws::sign_v4(c, r, aws::options_for_service("service")).canonical_request.rfind("GET\n/bucket/c\n", 0) == 0);
}
