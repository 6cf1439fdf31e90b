// credplug — load provider plugins and check credentials from a shell.
#include <credplug/credential_file.hpp>
#include "command_words.hpp"
#include "connect.hpp"
#include "crash_report.hpp"
#include "exit_codes.hpp"
#include "output.hpp"
#include "scaffold.hpp"
#include "serve.hpp"
#include "test_many.hpp"

#include <credplug/plugin.h>
#include <credplug/host.hpp>
#include <credplug/kit/secret.hpp>
#include <credplug/plugin_check.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <utility>

using namespace credplug;
using namespace credplug::cli;

namespace {

struct Options {
  std::vector<std::string> plugin_dirs;
  std::string ca_file;
  long connect_timeout_ms = 10000;
  long timeout_ms = 30000;
  int verbosity = 0;
  std::string log_format = "text";  // --log-format, CREDPLUG_LOG_FORMAT
  OutputOptions out;
  std::string id, file;
  std::vector<std::string> files;  // test: files and directories
  int jobs = 4;
  bool no_references = false;  // refuse {"$env"}, {"$file"}, {"$stdin"}
  bool allow_unsafe_plugin_paths = false;
  std::string pin_file;                             // --pin-file
  std::string isolation;                            // --isolation; empty: CREDPLUG_ISOLATION, else process
  std::string output;                               // pin -o
  std::string lang = "cpp", dir;                    // new
  std::string credential_file;                      // check-plugin --credential
  std::string shared_cache, shared_cache_key_file;  // --shared-cache
  int threads = 8;                                  // check-plugin -j
  bool metrics = false;                             // test --metrics
  bool form = false;                                // schema --form
  // sign
  std::string method = "GET", url, data, body_sha256;
  std::vector<std::string> headers;
  std::optional<int64_t> time_s;
  ConnectOptions connect;  // connect
  bool no_browser = false;
  std::string display, wayland_display;  // where xdg-open can show a browser
  ServeOptions serve;                    // serve
};

// `--header 'Name: value'` as a pair; InvalidInput naming the option otherwise.
std::pair<std::string, std::string> header_option(const std::string &given) {
  const size_t colon = given.find(':');
  if (colon == std::string::npos || colon == 0)
    throw Error(ErrorKind::InvalidInput, "--header expects 'Name: value' (got one without a name and a colon)");
  std::string value = given.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  return {given.substr(0, colon), value};
}

// --data: "@FILE" (a file's bytes), "@-" (stdin), or the text itself.
std::string data_option(const std::string &given) {
  if (given.empty() || given[0] != '@') return given;
  const std::string path = given.substr(1);
  std::ifstream file;
  std::istream *in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw Error(ErrorKind::InvalidInput, "--data " + given + ": cannot read '" + path + "'");
    in = &file;
  }
  return std::string(std::istreambuf_iterator<char>(*in), std::istreambuf_iterator<char>());
}

// `credplug sign ID FILE --method M --url U ...`: the signature of one request.
int sign_request(Credential &cred, const Options &o) {
  RequestToSign request;
  request.method = o.method;
  request.url = o.url;
  for (const auto &h : o.headers) request.headers.push_back(header_option(h));
  std::string body;
  if (!o.data.empty()) {
    body = data_option(o.data);
    request.body = body;
  }
  request.body_sha256 = o.body_sha256;
  if (o.time_s) {
    if (*o.time_s < 0 || *o.time_s > 253402300799)
      throw Error(ErrorKind::InvalidInput, "--time expects Unix seconds from 0 to 253402300799");
    request.time_ms = *o.time_s * 1000;
  }
  print_signed(o.out, o.id, request, cred.sign(request));
  return kExitOk;
}

const char *level_name(int level) {
  static const char *names[] = {"error", "warning", "info", "debug"};
  return level >= 0 && level <= 3 ? names[level] : "log";
}

HostOptions host_options(const Options &o) {
  HostOptions h;
  h.plugin_dirs = o.plugin_dirs;
  h.ca_file = o.ca_file;
  h.connect_timeout_ms = o.connect_timeout_ms;
  h.total_timeout_ms = o.timeout_ms;
  h.log_level = CREDPLUG_LOG_WARN + o.verbosity;
  h.allow_unsafe_plugin_paths = o.allow_unsafe_plugin_paths;
  h.pin_file = o.pin_file;
  if (!o.isolation.empty()) h.isolation = parse_isolation(o.isolation);
  h.shared_cache_url = o.shared_cache;
  h.shared_cache_key_file = o.shared_cache_key_file;
  h.disable_core_dumps = true;  // the CLI holds secrets; a core file would keep them
  h.log_format = parse_log_format(o.log_format);
  if (h.log_format == LogFormat::JsonLines)
    h.log = [](int, const std::string &message) { std::cerr << message << "\n"; };
  else
    h.log = [](int level, const std::string &message) {
      std::cerr << "credplug: " << level_name(level) << ": " << message << "\n";
    };
  return h;
}

int fail(const Options &o, ErrorKind kind, const std::string &message) {
  print_error(o.out, kind, message);
  return exit_code_for(kind);
}

// `credplug pin`: "<id> <sha256>" for every plugin found, to stdout or a
// file, ready for --pin-file.
int write_pins(Host &host, const Options &o) {
  std::vector<Pin> pins;
  for (const auto &p : host.plugins()) pins.push_back({p.id, plugin_file_sha256(p.path), p.path});
  const std::string file = o.output == "-" ? "" : o.output;
  if (!file.empty()) {
    std::ofstream out(file, std::ios::trunc);
    if (!(out << pin_file_text(pins))) throw Error(ErrorKind::InvalidInput, "cannot write the pin file '" + file + "'");
  }
  print_pins(o.out, pins, host.problems(), file);
  return kExitOk;
}

// `credplug new`: needs no Host (no plugin is loaded).
int scaffold(const Options &o) {
  ScaffoldReport report = write_scaffold(o.id, o.lang, o.dir);
  print_scaffold(o.out, o.id, o.lang, report.dir, report.files, report.source_lines);
  return kExitOk;
}

// `credplug check-plugin FILE.so [--credential FILE]`: exit 0 only when clean.
int check(const Options &o) {
  PluginCheckOptions c;
  c.file = o.file;
  c.host = host_options(o);
  c.threads = o.threads;
  std::optional<CredentialText> credential;
  if (!o.credential_file.empty()) {
    credential = read_credential(o.credential_file, !o.no_references);
    c.credential_json = std::string(credential->json.view());
    c.credential_secrets = credential->loaded;
  }
  PluginCheck report = check_plugin(c);
  if (c.credential_json) kit::wipe(*c.credential_json);
  print_plugin_check(o.out, report);
  return report.clean() ? kExitOk : kExitPlugin;
}

// A --plugin-dir that names nothing, or a file, would search nowhere in silence.
void check_plugin_dirs(const Options &o) {
  for (const auto &dir : o.plugin_dirs) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) continue;
    throw Error(ErrorKind::InvalidInput,
                "--plugin-dir " + dir +
                    (std::filesystem::exists(dir, ec)
                         ? " is a file, not a directory: name the directory that holds credplug-<id>.so"
                         : ": no such directory"));
  }
}

int run(const std::string &command, Options &o) {
  if (command == "new") return scaffold(o);
  check_plugin_dirs(o);
  if (command == "check-plugin") return check(o);
  Host host(host_options(o));
  if (command == "plugins") {
    print_plugins(o.out, host.plugins(), host.problems(), host.search_path());
    return kExitOk;
  }
  if (command == "pin") return write_pins(host, o);
  if (command == "serve") return serve(host, o.serve, o.out);
  if (command == "schema") {
    std::cout << (o.form ? host.form_schema(o.id) : host.schema(o.id));
    return kExitOk;
  }
  if (command == "test" && host.metrics().shared_cache)
    std::cerr << "credplug: note: test asks the provider for a new token, to prove the credential works now, "
                 "never the fleet's (auth takes that); one whose refresh token rotates redeems it under the "
                 "fleet's lease\n";
  if (command == "test") {
    std::error_code ec;
    if (o.files.size() > 1 || std::filesystem::is_directory(o.files[0], ec)) {
      const int rc = test_many(host, o.id, credential_files(o.files), o.jobs, !o.no_references, o.out);
      if (o.metrics) print_metrics(o.out, host.metrics());
      return rc;
    }
    o.file = o.files[0];
  }
  CredentialText credential = read_credential(o.file, !o.no_references);
  if (command == "connect") {
    o.connect.open_browser = !o.no_browser;
    o.connect.display = !o.display.empty() || !o.wayland_display.empty();
    return connect_account(host, o.id, o.file, credential, o.connect, o.out);
  }
  if (command == "validate") {
    Validation v = host.validate(o.id, credential.json.view(), credential.loaded);
    print_validation(o.out, o.id, v);
    return v.ok() ? kExitOk : kExitInvalidInput;
  }
  if (command == "disconnect" && o.file == "-")
    throw Error(ErrorKind::InvalidInput, "disconnect empties the credential file's \"$state\": give a file, not -");
  auto cred = host.open(o.id, credential.json.view(), open_options_for(o.file, credential));
  credential.json.wipe();
  if (command == "disconnect") return disconnect_account(*cred, o.id, o.file, o.out);
  if (command == "sign") return sign_request(*cred, o);
  if (command == "auth") {
    // With a fleet-wide cache, the headers to attach are the fleet's token
    // (one request across every process), not a new one.
    if (host.metrics().shared_cache) {
      HeadersPtr h = cred->headers();
      AuthResult shared;
      shared.headers = h->headers;
      shared.expires_at = h->expires_at;
      print_auth(o.out, o.id, shared);
      return kExitOk;
    }
    print_auth(o.out, o.id, cred->authenticate());
    return kExitOk;
  }
  print_test(o.out, o.id, cred->test());
  if (o.metrics) print_metrics(o.out, host.metrics());
  return kExitOk;
}

// The command line, parsed and run; what main() calls.
int run_cli(int argc, char **argv) {
  credplug::cli::install_crash_report();
  Options o;
  CLI::App app{
      "credplug — load credential plugins, validate credentials, authenticate and test them.\n"
      "Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input, 4 credentials rejected,\n"
      "5 network/TLS failure, 6 provider error, 7 plugin failure, 8 needs reauthorization, 9 state not saved.",
      "credplug"};
  app.set_version_flag("--version", std::string("credplug " CREDPLUG_VERSION_STRING " (plugin ABI ") +
                                        std::to_string(CREDPLUG_ABI_MAJOR) + "." + std::to_string(CREDPLUG_ABI_MINOR) +
                                        ")");
  app.add_option("--plugin-dir", o.plugin_dirs, "Directory to search for plugins first (repeatable)");
  app.add_flag("--allow-unsafe-plugin-paths", o.allow_unsafe_plugin_paths,
               "Load plugin files even when they (or a directory above them) are writable by every user or owned by\n"
               "another user (env CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS=1)");
  app.add_option("--ca-file", o.ca_file, "PEM file of CAs to trust instead of the system store (env CREDPLUG_CA_FILE)");
  app.add_option("--connect-timeout", o.connect_timeout_ms, "Connect timeout in milliseconds")->capture_default_str();
  app.add_option("--timeout", o.timeout_ms, "Total time limit of one HTTPS request in milliseconds")
      ->capture_default_str();
  app.add_flag("-v,--verbose", o.verbosity, "More logging on stderr (-v info, -vv debug); secrets are redacted");
  app.add_option("--log-format", o.log_format,
                 "Log lines on stderr as 'text' or 'json' (one JSON object a line: time, level, plugin, credential,\n"
                 "event, message; env CREDPLUG_LOG_FORMAT)")
      ->check(CLI::IsMember({"text", "json"}))
      ->envname("CREDPLUG_LOG_FORMAT")
      ->capture_default_str();
  app.add_flag("--json", o.out.json, "Machine-readable JSON on stdout");
  app.add_flag("--no-references", o.no_references,
               "Refuse {\"$env\"}, {\"$file\"} and {\"$stdin\"} references in credential files (for files you did\n"
               "not write: a reference would send that variable or file to the credential's URL)")
      ->envname("CREDPLUG_NO_REFERENCES");
  app.require_subcommand(1);
  app.fallthrough();

  app.add_option(
      "--pin-file", o.pin_file,
      "Load only plugin files whose SHA-256 this file pins ('<id> <sha256>' per line; `credplug pin` writes\n"
      "one; env CREDPLUG_PIN_FILE)");
  app.add_option(
         "--isolation", o.isolation,
         "Where plugin code runs: 'process' (default: a sandboxed runner process per plugin; a crash or hang\n"
         "fails the call, not credplug) or 'in-process' (trusted plugins, lowest latency; env CREDPLUG_ISOLATION)")
      ->check(CLI::IsMember({"process", "in-process"}));
  app.add_option("--shared-cache", o.shared_cache,
                 "Share tokens with every process using this Redis (redis://[user:password@]host:port/db): one token\n"
                 "request per credential fleet-wide (env CREDPLUG_SHARED_CACHE; docs/SHARED_CACHE.md)");
  app.add_option("--shared-cache-key-file", o.shared_cache_key_file,
                 "The fleet's keys, 64 hex characters a line, the first sealing (env CREDPLUG_SHARED_CACHE_KEY_FILE)");
  app.add_subcommand("plugins", "List the plugins found: id, version, ABI, path");
  auto *pin = app.add_subcommand("pin", "Print a pin file ('<id> <sha256>' per line) for the plugins found");
  pin->add_option("-o,--output", o.output, "Write it to this file instead of stdout");
  auto *schema = app.add_subcommand("schema", "Print a plugin's credential JSON Schema");
  schema->add_option("ID", o.id, "Plugin id")->required();
  schema->add_flag("--form", o.form,
                   "As a form: {\"schema\": draft-07, \"uiSchema\"} for react-jsonschema-form (password widgets,\n"
                   "order, placeholders, help, labelled choices, one selector per mode)");
  const char *file_help =
      "Credential JSON file, or - for stdin. A field may be {\"$env\": NAME}, {\"$file\": PATH} or {\"$stdin\": true}";
  auto *validate = app.add_subcommand("validate", "Check a credential file against the plugin's schema");
  validate->add_option("ID", o.id, "Plugin id")->required();
  validate->add_option("FILE", o.file, file_help)->required();
  auto *auth =
      app.add_subcommand("auth", "Authenticate and print the headers to attach (secrets masked) and the expiry");
  auth->add_option("ID", o.id, "Plugin id")->required();
  auth->add_option("FILE", o.file, file_help)->required();
  auth->add_flag("--reveal", o.out.reveal, "Print secret header values in clear");
  auto *sign = app.add_subcommand(
      "sign",
      "Sign one request with a plugin that signs each request (AWS Signature Version 4, HMAC schemes) and\n"
      "print the headers (and query parameters) to add, secrets masked");
  sign->add_option("ID", o.id, "Plugin id")->required();
  sign->add_option("FILE", o.file, file_help)->required();
  sign->add_option("--method", o.method, "The request's method")->capture_default_str();
  sign->add_option("--url", o.url, "The request's https:// URL, as it will be sent")->required();
  sign->add_option("--header", o.headers, "A header the request sends, 'Name: value' (repeatable)");
  sign->add_option("--data", o.data, "The body: text, @FILE or @- (stdin)");
  sign->add_option("--body-sha256", o.body_sha256, "The body's SHA-256 (hex), when the body is not at hand");
  sign->add_option("--time", o.time_s, "The signing time, Unix seconds (reproduces a signature); default: now");
  sign->add_flag("--reveal", o.out.reveal, "Print secret values in clear");
  auto *connect = app.add_subcommand(
      "connect",
      "Connect a person's account (OAuth authorization code with PKCE): print the address to open (and open\n"
      "it in a browser), wait for the provider's redirect on 127.0.0.1, and write the account's refresh token\n"
      "into FILE (\"$state\")");
  connect->add_option("ID", o.id, "Plugin id (one that connects accounts: oauth2)")->required();
  connect->add_option("FILE", o.file, "Credential JSON file; it is rewritten with the new state")->required();
  connect->add_flag("--no-browser", o.no_browser,
                    "Open no browser and listen for nothing: paste the address the browser was sent to on stdin\n"
                    "(a browser on another machine)");
  connect
      ->add_option("--browser", o.connect.browser,
                   "The command that opens the address (env BROWSER; '%s' stands for it); default: xdg-open\n"
                   "when there is a display")
      ->envname("BROWSER");
  connect->add_option("--display", o.display)->envname("DISPLAY")->group("");  // read, never given
  connect->add_option("--wayland-display", o.wayland_display)->envname("WAYLAND_DISPLAY")->group("");
  connect->add_option("--port", o.connect.port, "The redirect's port on 127.0.0.1 (default: any free one)")
      ->check(CLI::Range(1, 65535));
  connect->add_option("--wait", o.connect.wait_s, "Seconds to wait for the person to come back")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
  auto *disconnect = app.add_subcommand(
      "disconnect",
      "Disconnect a person's account: revoke its grant at the provider (the refresh token in FILE's \"$state\",\n"
      "RFC 7009) and empty that state");
  disconnect->add_option("ID", o.id, "Plugin id (one that disconnects accounts: oauth2)")->required();
  disconnect->add_option("FILE", o.file, "Credential JSON file; its \"$state\" is emptied")->required();
  auto *test =
      app.add_subcommand("test",
                         "Authenticate, then run the provider's connection test. With several files or a\n"
                         "directory (its *.json files), test them concurrently and end with a summary table\n"
                         "(--json: one object per credential, per line). Exits 0 when all pass, else with the\n"
                         "code of the first failing file");
  test->add_option("ID", o.id, "Plugin id")->required();
  test->add_option("FILE", o.files, std::string(file_help) + "; or a directory")->required();
  auto *scaffold_cmd =
      app.add_subcommand("new",
                         "Write a buildable plugin project: CMakeLists.txt, the source, its schema,\n"
                         "a README and test.sh (builds it and runs `credplug test` against credplug-emulator)");
  scaffold_cmd->add_option("ID", o.id, "The new plugin's id: a-z, 0-9, '_' and '-'")->required();
  scaffold_cmd->add_option("DIR", o.dir, "Where to write it (a new or empty directory; default: ./ID)");
  scaffold_cmd
      ->add_option("--lang", o.lang,
                   "c (the host's C helpers), cpp (the C++ kit) or json (a provider described without code)")
      ->capture_default_str()
      ->check(CLI::IsMember({"c", "cpp", "json"}));
  auto *check_cmd = app.add_subcommand(
      "check-plugin",
      "Check a plugin file before shipping it: its exports, descriptor and schema conventions, an offline\n"
      "create() on a credential made up from the schema, a concurrency smoke test and a search for\n"
      "leaked secrets; with --credential also authenticate() and test(). Exit 0 only when clean, else 7");
  check_cmd->add_option("FILE", o.file, "The plugin, credplug-<id>.so")->required();
  check_cmd->add_option("--credential", o.credential_file,
                        std::string("Also run it live with this credential. ") + file_help);
  check_cmd->add_option("-j,--threads", o.threads, "Threads of the concurrency check")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  auto *serve_cmd = app.add_subcommand(
      "serve",
      "Serve a local HTTP API for programs in any language: register credentials by name, then GET their\n"
      "headers (one Host and token cache for every client). On a Unix socket (mode 0600; the default) or\n"
      "--listen 127.0.0.1:PORT with a bearer token. SIGTERM finishes the requests in flight (docs/SIDECAR.md)");
  serve_cmd->add_option("--socket", o.serve.socket_path,
                        "The Unix socket to listen on (default: /run/user/UID/credplug.sock, else\n"
                        "/tmp/credplug-UID/credplug.sock)");
  serve_cmd->add_option("--listen", o.serve.listen, "Listen on TCP instead, HOST:PORT (PORT 0: any free one)")
      ->excludes("--socket");
  serve_cmd->add_option("--token-file", o.serve.token_file,
                        "The bearer token every request must carry (made, 0600, when the file does not exist);\n"
                        "required with --listen");
  serve_cmd->add_option("--port-file", o.serve.port_file, "With --listen: write the port here once listening");
  serve_cmd
      ->add_option("--threads", o.serve.threads,
                   "Connections served at once (each kept-alive client holds one until it is idle 5 s)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  serve_cmd->add_option("--max-body", o.serve.max_body_bytes, "The largest request body taken, in bytes")
      ->capture_default_str()
      ->check(CLI::Range(1024, 16 * 1024 * 1024));
  test->add_flag(
      "--metrics", o.metrics,
      "After the run, print the host's metrics: Prometheus text (with --json: one more line, {\"metrics\": ...})");
  test->add_option("-j,--jobs", o.jobs, "Credentials tested at once")->capture_default_str()->check(CLI::Range(1, 256));

  // A mistyped command is named, with the nearest one (CLI11 would only say
  // that a subcommand is required).
  // Before parsing: whether a usage error must be JSON too.
  OutputOptions usage_output;
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i)
    usage_output.json = usage_output.json || std::string_view(argv[i]) == "--json";
  std::vector<std::string> commands;
  for (const CLI::App *sub : std::as_const(app).get_subcommands([](const CLI::App *) { return true; }))
    commands.push_back(sub->get_name());
  if (auto word = command_word(app, argc, argv);
      word && std::find(commands.begin(), commands.end(), *word) == commands.end()) {
    auto suggestion = nearest(*word, commands);
    print_usage_error(usage_output, "'" + *word + "' is not a command" +
                                        (suggestion ? "; did you mean '" + *suggestion + "'?" : std::string()) +
                                        " (credplug --help lists them)");
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0 || !usage_output.json) {  // --help, --version; or text for a person
      int rc = app.exit(e);
      return rc == 0 ? kExitOk : kExitUsage;
    }
    print_usage_error(usage_output, e.what());
    return kExitUsage;
  }

  std::string command = app.get_subcommands().front()->get_name();
  try {
    return run(command, o);
  } catch (const Error &e) {
    return fail(o, e.kind(), e.what());
  } catch (const std::exception &e) {
    print_internal_error(o.out, std::string("unexpected: ") + e.what());
    return kExitInternal;
  }
}

}  // namespace

int main(int argc, char **argv) {
  try {
    return run_cli(argc, argv);
  } catch (const std::exception &e) {  // setting the command line up failed (out of memory)
    std::cerr << "credplug: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "credplug: internal error\n";
  }
  return credplug::cli::kExitInternal;
}
