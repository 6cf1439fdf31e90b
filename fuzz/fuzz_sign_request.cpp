// What sign() is given, from both ends: the Call frame payload a runner
// decodes (the host's request, but a runner must not trust a broken frame
// either), and the request itself as the aws plugin canonicalises it (a
// URL, headers and a method an embedder took from anywhere). No crash, no
// hang; a decoded request points only into what it owns.
#include "plugin/runner_protocol.hpp"
#include "sigv4.hpp"

#include <credplug/kit/crypto.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  try {
    credplug::runner::DecodedSignRequest decoded(input);
    const credplug_sign_request &req = decoded.get();
    size_t seen = std::string_view(req.method).size() + std::string_view(req.url).size();
    for (const char *const *h = req.headers; h[0] != nullptr; h += 2) seen += std::string_view(h[1]).size();
    if (seen > size) __builtin_trap();
  } catch (const credplug::runner::ProtocolError &) {
  }
  // The input's lines: method, path, query, then header lines "name:value".
  credplug::aws::SigV4Request r;
  std::vector<std::string> lines;
  for (size_t start = 0; start <= input.size();) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    lines.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  r.method = lines.size() > 0 ? lines[0] : "GET";
  r.path = lines.size() > 1 ? lines[1] : "";
  r.query = lines.size() > 2 ? lines[2] : "";
  for (size_t i = 3; i < lines.size() && i < 64; ++i) {
    const size_t colon = lines[i].find(':');
    r.headers.emplace_back(lines[i].substr(0, colon), colon == std::string::npos ? "" : lines[i].substr(colon + 1));
  }
  r.payload_sha256 = credplug::kit::sha256_hex(input);
  r.time_s = int64_t(size) * 86400;
  credplug::aws::SigV4Credentials key;
  key.access_key_id = "AKIDEXAMPLE";
  key.secret_access_key = credplug::kit::SecretString(std::string_view("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
  key.region = "us-east-1";
  key.service = size % 2 ? "s3" : "service";
  auto options = credplug::aws::options_for_service(key.service);
  if (size % 3 == 0) options.presign_expires_s = int64_t(size % 604800) + 1;  // and every third presigned
  const auto s = credplug::aws::sign_v4(key, r, options);
  if (s.signature.size() != 64) __builtin_trap();
  if ((options.presign_expires_s > 0) != !s.query.empty()) __builtin_trap();
  return 0;
}
