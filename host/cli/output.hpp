// How each command's result is shown: readable text for people, or one
// JSON document on stdout with --json. Secret values are masked unless the
// user asked for them with --reveal.
#pragma once

#include <credplug/host.hpp>
#include <credplug/plugin_check.hpp>

#include <string>
#include <vector>

namespace credplug::cli {

struct OutputOptions {
  bool json = false;
  bool reveal = false;
};

void print_plugins(const OutputOptions &o, const std::vector<PluginInfo> &plugins,
                   const std::vector<PluginProblem> &problems, const std::vector<std::string> &search_path);
void print_validation(const OutputOptions &o, const std::string &id, const Validation &v);
void print_auth(const OutputOptions &o, const std::string &id, const AuthResult &r);
void print_test(const OutputOptions &o, const std::string &id, const TestResult &r);
void print_plugin_check(const OutputOptions &o, const PluginCheck &check);
// Prometheus text after a line saying what follows; with --json one line {"metrics": {...}}.
void print_metrics(const OutputOptions &o, const MetricsSnapshot &m);
// Errors go to stderr as text, or to stdout as {"ok": false, "error": ...}.
void print_error(const OutputOptions &o, ErrorKind kind, const std::string &message);
void print_internal_error(const OutputOptions &o, const std::string &message);

}  // namespace credplug::cli
