// Ainua's API as an integration platform calls it with credplug's headers
// (PATCH, keep-alive, the test CA), against the emulator.
#pragma once

#include <credplug/host.hpp>

#include <httplib.h>

#include <string>

namespace credplug::testing {

struct AinuaApi {
  httplib::SSLClient client;
  AinuaApi(int port, const std::string &ca_file) : client("localhost", port) {
    client.set_ca_cert_path(ca_file);
    client.enable_server_certificate_verification(true);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // no Nagle + delayed-ACK stall per request
  }
  // The HTTP status, or 0 when no answer came.
  int patch(const HeaderSet &set) {
    httplib::Headers headers;
    for (const auto &h : set.headers) headers.emplace(h.name, h.value.reveal());
    auto res = client.Patch("/api/integrations/v1/items", headers, "[]", "application/json");
    return res ? res->status : 0;
  }
};

}  // namespace credplug::testing
