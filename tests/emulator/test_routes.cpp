// Routes that exercise the host's HTTP policy rather than a provider
// (oversized bodies, redirects), and the control endpoints a script uses to
// flip a provider's switches and read its counters (docs/EMULATOR.md).
#include "emulator_state.hpp"

namespace credplug::emulator {

void install_test_routes(httplib::Server &server, Emulator::State &state) {
  // POST /_emulator/switches, form provider=P&NAME=VALUE[&NAME=VALUE...].
  server.Post("/_emulator/switches", [&state](const httplib::Request &req, httplib::Response &res) {
    auto form = parse_form(req.body);
    const std::string provider = form["provider"];
    form.erase("provider");
    std::string problem = provider.empty() ? "provider= is required" : form.empty() ? "no switch given" : "";
    if (!problem.empty()) form.clear();
    if (auto reset = form.find("reset"); reset != form.end()) {  // first, whatever the order
      problem = state.set_switch(provider, "reset", reset->second);
      form.erase(reset);
    }
    for (const auto &[name, value] : form)
      if (problem.empty()) problem = state.set_switch(provider, name, value);
    res.status = problem.empty() ? 200 : 400;
    res.set_content(problem.empty() ? "{\"ok\":true}" : "{\"ok\":false,\"error\":\"" + json_escape(problem) + "\"}",
                    "application/json");
  });
  // POST /_emulator/clock, form advance_s=N (0 .. 10 years): the emulator's
  // clock moves on N seconds, so its tokens expire without waiting.
  server.Post("/_emulator/clock", [&state](const httplib::Request &req, httplib::Response &res) {
    auto form = parse_form(req.body);
    const std::string text = form["advance_s"];
    int64_t n = -1;
    if (!text.empty() && text.size() <= 10 && text.find_first_not_of("0123456789") == std::string::npos)
      n = std::stoll(text);
    if (n < 0 || n > 315360000) {
      res.status = 400;
      res.set_content(R"({"ok":false,"error":"advance_s= must be a number of seconds, 0 .. 315360000"})",
                      "application/json");
      return;
    }
    state.clock_offset_s += n;
    res.set_content("{\"ok\":true,\"now\":" + std::to_string(state.now_seconds()) + "}", "application/json");
  });
  // GET /_emulator/count?endpoint=P.token: requests served there.
  server.Get("/_emulator/count", [&state](const httplib::Request &req, httplib::Response &res) {
    std::lock_guard<std::mutex> lock(state.mutex);
    auto it = state.counts.find(req.get_param_value("endpoint"));
    res.set_content("{\"count\":" + std::to_string(it == state.counts.end() ? 0 : it->second) + "}",
                    "application/json");
  });
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
