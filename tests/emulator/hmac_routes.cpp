// An API that authenticates each request by an HMAC signature, the scheme
// of examples/c-plugin/hmac_signer.c (and, but for header names, of many a
// partner API): X-Signature is the hex HMAC-SHA-256, under the secret of
// the key named by X-Key-Id (--client hmac:KEY_ID:SECRET), of
// "METHOD\nTARGET\nX-Timestamp\nhex SHA-256 of the body". Refused with 401
// and a reason: an unknown key, a time more than 5 minutes off, a signature
// of anything else. Every path under /hmac/ answers: {"key_id": ...}.
#include "emulator_state.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>

namespace credplug::emulator {
namespace {

constexpr const char *kProvider = "hmac";

void refuse(httplib::Response &res, const std::string &why) {
  res.status = 401;
  res.set_content("{\"error\":\"invalid_signature\",\"error_description\":\"" + json_escape(why) + "\"}",
                  "application/json");
}

}  // namespace

void install_hmac(httplib::Server &server, Emulator::State &state) {
  auto handler = [&state](const httplib::Request &req, httplib::Response &res) {
    if (state.enter(kProvider, "hmac.api", req, res)) return;
    const std::string key_id = req.get_header_value("X-Key-Id");
    const std::string timestamp = req.get_header_value("X-Timestamp");
    const std::string secret = state.client_secret(kProvider, key_id);
    if (secret.empty()) return refuse(res, "unknown X-Key-Id");
    if (timestamp.empty() || timestamp.size() > 12 || timestamp.find_first_not_of("0123456789") != std::string::npos)
      return refuse(res, "X-Timestamp must be Unix seconds");
    if (std::llabs(std::stoll(timestamp) - state.now_seconds()) > 300)
      return refuse(res, "X-Timestamp is more than 5 minutes from now");
    const std::string text = req.method + "\n" + req.target + "\n" + timestamp + "\n" + kit::sha256_hex(req.body);
    const std::string expected = kit::hex_encode(kit::hmac_sha256(secret, text).view());
    if (req.get_header_value("X-Signature") != expected) return refuse(res, "X-Signature does not match the request");
    res.set_content("{\"key_id\":\"" + json_escape(key_id) + "\"}", "application/json");
  };
  server.Get(R"(/hmac/.*)", handler);
  server.Post(R"(/hmac/.*)", handler);
}

}  // namespace credplug::emulator
