// AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/
// reference_sigv4-create-signed-request.html): the canonical request, the
// string to sign, the derived key and the Authorization header. Pure
// functions over the kit's crypto, checked against AWS's published test
// suite (tests/vectors/aws-sigv4, run by tests/unit/plugins/sigv4_test.cpp).
#pragma once

#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace credplug::aws {

struct SigV4Credentials {
  std::string access_key_id;
  kit::SecretString secret_access_key;
  kit::SecretString session_token;  // empty: long-term keys
  std::string region, service;
};

struct SigV4Request {
  std::string method;                                        // upper case
  std::string path;                                          // as sent ("/a%20b"), or empty for "/"
  std::string query;                                         // as sent, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // with Host
  std::string payload_sha256;                                // lowercase hex
  int64_t time_s = 0;
};

struct SigV4Options {
  bool normalize_path = true;          // remove "." and ".." segments (every service but S3)
  bool encode_path = true;             // percent-encode the path again (every service but S3)
  bool content_sha256_header = false;  // sign and send X-Amz-Content-Sha256 (S3)
  bool omit_session_token = false;     // send X-Amz-Security-Token unsigned (a few services want that)
  // > 0: a presigned URL valid this many seconds (1 .. 604800): the
  // signature goes in the query (SigV4Signature::query), not a header.
  int64_t presign_expires_s = 0;
};

struct SigV4Signature {
  std::string canonical_request, string_to_sign, signed_headers;
  std::string signature;                                   // lowercase hex
  kit::SecretString authorization;                         // the Authorization header's value (not presigned)
  std::vector<std::pair<std::string, std::string>> added;  // X-Amz-Date, X-Amz-Security-Token, ... (not presigned)
  // Presigned: X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires,
  // -Security-Token and -Signature, unencoded, in the order AWS's SDKs send them.
  std::vector<std::pair<std::string, std::string>> query;
};

// What a payload hash may be besides the body's SHA-256: S3 takes this for
// a body it does not check (and every presigned URL, whose body is unknown).
constexpr const char *kUnsignedPayload = "UNSIGNED-PAYLOAD";
// AWS's longest presigned URL: 7 days.
constexpr int64_t kMaxPresignSeconds = 604800;

// "20150830T123600Z".
std::string amz_date(int64_t unix_seconds);

// The signature. Header names are compared without case; a header the
// request repeats is signed as its values joined with ",", in order. A
// request's own X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD) is signed as given.
SigV4Signature sign_v4(const SigV4Credentials &credentials, const SigV4Request &request, const SigV4Options &options);

// S3 signs the path as sent and the payload's hash as a header.
SigV4Options options_for_service(const std::string &service);

}  // namespace credplug::aws
