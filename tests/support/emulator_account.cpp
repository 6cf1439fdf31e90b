#include "support/emulator_account.hpp"

#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <httplib.h>

#include <stdexcept>

namespace credplug::testing {

std::string connect_emulator_account(const EmulatorAccount &account) {
  httplib::SSLClient client("localhost", account.port);
  client.set_ca_cert_path(account.ca_file);
  client.enable_server_certificate_verification(true);
  const std::string verifier = kit::random_id(32);
  const auto digest = kit::sha256(verifier);
  const std::string challenge =
      kit::base64url_encode(std::string_view(reinterpret_cast<const char *>(digest.data()), digest.size()));
  auto approved = client.Get("/oauth/authorize?response_type=code&client_id=" + kit::url_encode(account.client_id) +
                             "&redirect_uri=" + kit::url_encode(account.redirect_uri) +
                             "&state=s&code_challenge=" + challenge + "&code_challenge_method=S256");
  if (!approved || approved->status != 302) throw std::runtime_error("the emulator did not approve the authorization");
  const std::string location = approved->get_header_value("Location");
  const size_t at = location.find("code=");
  if (at == std::string::npos) throw std::runtime_error("the emulator's redirect carries no code: " + location);
  const std::string code = location.substr(at + 5, location.find('&', at) - at - 5);
  auto tokens = client.Post("/oauth/token",
                            "grant_type=authorization_code&client_id=" + kit::url_encode(account.client_id) +
                                "&client_secret=" + kit::url_encode(account.client_secret) + "&code=" + code +
                                "&redirect_uri=" + kit::url_encode(account.redirect_uri) + "&code_verifier=" + verifier,
                            "application/x-www-form-urlencoded");
  auto doc = tokens ? kit::JsonDocument::parse_object(tokens->body) : std::nullopt;
  std::string refresh = doc ? doc->string("refresh_token").value_or("") : "";
  if (refresh.empty()) throw std::runtime_error("the emulator redeemed no code");
  return refresh;
}

}  // namespace credplug::testing
