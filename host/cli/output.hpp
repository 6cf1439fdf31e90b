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
// `credplug sign`: the headers (and query parameters) to add, masked unless
// --reveal; with --json, json::signed_json().
void print_signed(const OutputOptions &o, const std::string &id, const RequestToSign &request, const SignedRequest &r);
void print_plugin_check(const OutputOptions &o, const PluginCheck &check);
// Prometheus text after a line saying what follows; with --json one line {"metrics": {...}}.
void print_metrics(const OutputOptions &o, const MetricsSnapshot &m);
// Errors go to stderr as text, or to stdout as {"ok": false, "error": ...}.
void print_error(const OutputOptions &o, ErrorKind kind, const std::string &message);
void print_internal_error(const OutputOptions &o, const std::string &message);
// A bad command line: text on stderr, or {"ok": false, "error": {"kind":
// "usage", "message"}} on stdout with --json.
void print_usage_error(const OutputOptions &o, const std::string &message);

// `credplug pin`: one line per plugin, ready for --pin-file.
struct Pin {
  std::string id, sha256, path;
};
// The pin file's text (what -o writes).
std::string pin_file_text(const std::vector<Pin> &pins);
// Without -o: the file's text on stdout; with -o FILE: a line on stderr
// saying where. With --json: {"ok": true, "pins": [{"id", "sha256",
// "path"}], "skipped": [{"path", "message"}], "file": FILE or null}.
void print_pins(const OutputOptions &o, const std::vector<Pin> &pins, const std::vector<PluginProblem> &skipped,
                const std::string &file);
// `credplug new`: what was written and how to test it. With --json: {"ok":
// true, "id", "lang", "dir", "files": [...], "source_lines", "test"}.
void print_scaffold(const OutputOptions &o, const std::string &id, const std::string &lang, const std::string &dir,
                    const std::vector<std::string> &files, int source_lines);

}  // namespace credplug::cli
