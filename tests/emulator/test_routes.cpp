// Routes that exercise the host's HTTP policy rather than a provider:
// oversized bodies and redirects.
#include "emulator_state.hpp"

namespace credplug::emulator {

void install_test_routes(httplib::Server &server, Emulator::State &state) {
  // /_emulator/bytes?n=N: a body of N bytes.
  server.Get("/_emulator/bytes", [&state](const httplib::Request &req, httplib::Response &res) {
    state.enter("_emulator", "_emulator.bytes", req, res);
    size_t n = std::stoul(req.get_param_value("n").empty() ? "0" : req.get_param_value("n"));
    res.set_content(std::string(n, 'x'), "text/plain");
  });
  // /_emulator/redirect?to=URL: 302 to URL.
  server.Get("/_emulator/redirect", [&state](const httplib::Request &req, httplib::Response &res) {
    state.enter("_emulator", "_emulator.redirect", req, res);
    res.status = 302;
    res.set_header("Location", req.get_param_value("to"));
  });
  // /_emulator/echo-headers: the request headers as "name: value" lines.
  server.Get("/_emulator/echo-headers", [&state](const httplib::Request &req, httplib::Response &res) {
    state.enter("_emulator", "_emulator.echo", req, res);
    std::string body;
    for (const auto &[name, value] : req.headers) body += name + ": " + value + "\n";
    res.set_content(body, "text/plain");
  });
}

}  // namespace credplug::emulator
