// AWS STS as its API reference describes GetCallerIdentity: a POST of
// Action=GetCallerIdentity&Version=2011-06-15 signed with Signature Version
// 4 for service "sts"; the answer is XML naming the caller. The signature is
// recomputed here for the access key registered with --client aws:ID:SECRET
// (with the plugin's own signer, which AWS's published vectors check), and
// refused as STS refuses it: InvalidClientTokenId for an unknown key,
// SignatureDoesNotMatch for a wrong secret or a changed request,
// RequestExpired for a time more than 15 minutes off. A presigned GET (the
// signature in the query, X-Amz-Expires seconds long) is checked the same
// way, ExpiredToken once it has run out. Mounted at /aws-sts/.
#include "emulator_state.hpp"

#include "sigv4.hpp"

#include <credplug/kit/crypto.hpp>

#include <algorithm>
#include <cstdlib>
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

// What a request's signature says, from its Authorization header (POST) or
// its query (a presigned GET).
struct Signed {
  std::vector<std::string> scope;  // AKID/date/region/service/aws4_request
  std::string signed_headers, signature, amz_date, session_token;
  int64_t expires_s = 0;  // presigned: how long the URL is valid
  std::string query;      // the query sign_v4 is given: presigned, without the X-Amz-* it adds back
};

// Checks the signature as STS does and answers: XML naming the caller, or
// the error STS gives.
void answer(Emulator::State &state, const httplib::Request &req, httplib::Response &res, const Signed &s) {
  if (s.scope.size() != 5 || s.signed_headers.empty() || s.signature.empty())
    return sts_error(res, 400, "IncompleteSignature",
                     "Authorization header requires Credential, SignedHeaders "
                     "and Signature.");
  const std::string secret = state.client_secret(kProvider, s.scope[0]);
  if (secret.empty())
    return sts_error(res, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  const int64_t at = parse_amz_date(s.amz_date);
  const int64_t now = state.now_seconds();
  if (at < 0 || (s.expires_s == 0 && std::llabs(at - now) > 900))
    return sts_error(res, 403, "RequestExpired", "Request has expired.");
  if (s.expires_s > 0 && (now > at + s.expires_s || at > now + 900))
    return sts_error(res, 403, "ExpiredToken", "The presigned URL has expired.");
  if (s.scope[4] != "aws4_request" || s.scope[3] != "sts" || s.scope[1] != s.amz_date.substr(0, 8))
    return sts_error(res, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region and sts.");
  aws::SigV4Credentials key;
  key.access_key_id = s.scope[0];
  key.secret_access_key = kit::SecretString(secret);
  key.session_token = kit::SecretString(s.session_token);
  key.region = s.scope[2];
  key.service = s.scope[3];
  aws::SigV4Request r;
  r.method = req.method;
  r.path = req.target.substr(0, req.target.find('?'));
  r.query = s.query;
  for (const auto &name : split(s.signed_headers, ';'))
    if (name != "x-amz-date" && name != "x-amz-security-token")
      r.headers.emplace_back(name, req.get_header_value(name));
  r.payload_sha256 = kit::sha256_hex(req.body);
  r.time_s = at;
  aws::SigV4Options options;
  options.presign_expires_s = s.expires_s;
  const auto expected = aws::sign_v4(key, r, options);
  if (expected.signed_headers != s.signed_headers || expected.signature != s.signature)
    return sts_error(res, 403, "SignatureDoesNotMatch",
                     "The request signature we calculated does not match the signature you provided. Check your "
                     "AWS Secret Access Key and signing method.");
  const std::string action = req.method == "GET" ? req.get_param_value("Action") : parse_form(req.body)["Action"];
  if (action != "GetCallerIdentity")
    return sts_error(res, 400, "InvalidAction", "Could not find operation for this request.");
  res.set_content(
      "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
      "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/" +
          s.scope[0] + "</Arn><UserId>AIDAEMULATED" + s.scope[0].substr(0, 4) +
          "</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
          "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId>"
          "</ResponseMetadata></GetCallerIdentityResponse>",
      "text/xml");
}

}  // namespace

void install_aws(httplib::Server &server, Emulator::State &state) {
  server.Post("/aws-sts/", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "aws.sts", req, res)) return;
    auto fields = authorization_fields(req.get_header_value("Authorization"));
    Signed s;
    s.scope = split(fields["Credential"], '/');
    s.signed_headers = fields["SignedHeaders"];
    s.signature = fields["Signature"];
    s.amz_date = req.get_header_value("X-Amz-Date");
    s.session_token = req.get_header_value("X-Amz-Security-Token");
    const size_t q = req.target.find('?');
    s.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    answer(state, req, res, s);
  });
  // A presigned GetCallerIdentity (what EKS and Vault's AWS auth hand over):
  // the signature and its scope in the query.
  server.Get("/aws-sts/", [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "aws.sts", req, res)) return;
    Signed s;
    const size_t q = req.target.find('?');
    for (const auto &pair : split(q == std::string::npos ? "" : req.target.substr(q + 1), '&')) {
      const std::string name = pair.substr(0, pair.find('='));
      const std::string value = url_decode(pair.substr(std::min(pair.size(), name.size() + 1)));
      if (name == "X-Amz-Credential")
        s.scope = split(value, '/');
      else if (name == "X-Amz-SignedHeaders")
        s.signed_headers = value;
      else if (name == "X-Amz-Signature")
        s.signature = value;
      else if (name == "X-Amz-Date")
        s.amz_date = value;
      else if (name == "X-Amz-Security-Token")
        s.session_token = value;
      else if (name == "X-Amz-Expires")
        s.expires_s = std::atoll(value.c_str());
      else if (name != "X-Amz-Algorithm" && !pair.empty())
        s.query += (s.query.empty() ? "" : "&") + pair;
    }
    if (s.expires_s < 1 || s.expires_s > aws::kMaxPresignSeconds)
      return sts_error(res, 400, "AuthorizationQueryParametersError",
                       "X-Amz-Expires must be a number of seconds from 1 to 604800.");
    answer(state, req, res, s);
  });
}

}  // namespace credplug::emulator
