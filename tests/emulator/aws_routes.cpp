// AWS STS as its API reference describes GetCallerIdentity: a POST of
// Action=GetCallerIdentity&Version=2011-06-15 signed with Signature Version
// 4 for service "sts"; the answer is XML naming the caller. The signature is
// recomputed here for the access key registered with --client aws:ID:SECRET
// (with the plugin's own signer, which AWS's published vectors check), and
// refused as STS refuses it: InvalidClientTokenId for an unknown key,
// SignatureDoesNotMatch for a wrong secret or a changed request,
// RequestExpired for a time more than 15 minutes off. Mounted at /aws-sts/.
#include "emulator_state.hpp"

#include "sigv4.hpp"

#include <credplug/kit/crypto.hpp>

#include <ctime>

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "aws";

void sts_error(httplib::Response &res, int status, const std::string &code, const std::string &message) {
  res.status = status;
  res.set_content(
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
      "<Code>" +
          code + "</Code><Message>" + message + "</Message></Error><RequestId>" +
          "00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>",
      "text/xml");
}

// "k1=v1, k2=v2" after the algorithm, as the Authorization header gives them.
std::map<std::string, std::string> authorization_fields(const std::string &value) {
  std::map<std::string, std::string> out;
  const std::string algorithm = "AWS4-HMAC-SHA256 ";
  if (value.rfind(algorithm, 0) != 0) return out;
  size_t start = algorithm.size();
  while (start < value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    std::string field = value.substr(start, end - start);
    field.erase(0, field.find_first_not_of(' '));
    const size_t eq = field.find('=');
    if (eq != std::string::npos) out[field.substr(0, eq)] = field.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

int64_t parse_amz_date(const std::string &text) {  // 20150830T123600Z
  std::tm tm{};
  if (text.size() != 16 || strptime(text.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) return -1;
  return int64_t(timegm(&tm));
}

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = s.find(sep, start)) != std::string::npos; start = end + 1)
    out.push_back(s.substr(start, end - start));
  out.push_back(s.substr(start));
  return out;
}

}  // namespace

void install_aws(httplib::Server &server, Emulator::State &state) {
  server.Post("/aws-sts/", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "aws.sts", req, res)) return;
    auto fields = authorization_fields(req.get_header_value("Authorization"));
    const auto scope = split(fields["Credential"], '/');  // AKID/date/region/service/aws4_request
    if (scope.size() != 5 || fields["SignedHeaders"].empty() || fields["Signature"].empty())
      return sts_error(res, 400, "IncompleteSignature",
                       "Authorization header requires Credential, SignedHeaders "
                       "and Signature.");
    const std::string secret = state.client_secret(kProvider, scope[0]);
    if (secret.empty())
      return sts_error(res, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    const int64_t at = parse_amz_date(req.get_header_value("X-Amz-Date"));
    if (at < 0 || std::llabs(at - state.now_seconds()) > 900)
      return sts_error(res, 403, "RequestExpired", "Request has expired.");
    if (scope[4] != "aws4_request" || scope[3] != "sts" || scope[1] != req.get_header_value("X-Amz-Date").substr(0, 8))
      return sts_error(res, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region and sts.");
    aws::SigV4Credentials key;
    key.access_key_id = scope[0];
    key.secret_access_key = kit::SecretString(secret);
    key.session_token = kit::SecretString(req.get_header_value("X-Amz-Security-Token"));
    key.region = scope[2];
    key.service = scope[3];
    aws::SigV4Request r;
    r.method = req.method;
    const size_t q = req.target.find('?');
    r.path = req.target.substr(0, q);
    r.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    for (const auto &name : split(fields["SignedHeaders"], ';'))
      if (name != "x-amz-date" && name != "x-amz-security-token")
        r.headers.emplace_back(name, req.get_header_value(name));
    r.payload_sha256 = kit::sha256_hex(req.body);
    r.time_s = at;
    const auto expected = aws::sign_v4(key, r, aws::SigV4Options{});
    if (expected.signed_headers != fields["SignedHeaders"] || expected.signature != fields["Signature"])
      return sts_error(res, 403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided. Check your "
                       "AWS Secret Access Key and signing method.");
    if (parse_form(req.body)["Action"] != "GetCallerIdentity")
      return sts_error(res, 400, "InvalidAction", "Could not find operation for this request.");
    res.set_content(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/" +
            scope[0] + "</Arn><UserId>AIDAEMULATED" + scope[0].substr(0, 4) +
            "</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
            "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId>"
            "</ResponseMetadata></GetCallerIdentityResponse>",
        "text/xml");
  });
}

}  // namespace credplug::emulator
