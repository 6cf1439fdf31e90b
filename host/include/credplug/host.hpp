// The credplug host runtime: discover and load provider plugins, validate
// credentials against their schemas, authenticate and run connection tests
// over verified HTTPS. What the `credplug` CLI is built on, and what an
// integration platform links.
//
// Threads: a Host may be used from any thread. A Credential's
// authenticate() and test() may be called from several threads; the host
// serialises them per instance unless the plugin declares
// CREDPLUG_CAP_CONCURRENT_INSTANCE.
//
// Secrets: every value a plugin's schema marks "writeOnly", every token and
// every value a plugin declares secret is redacted from the messages, logs
// and info this API returns. Header values flagged secret are returned in
// clear (the caller has to attach them) inside kit::SecretString, which
// wipes them when it goes.
#pragma once

#include <credplug/kit/secret.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace credplug {

using kit::SecretString;

// What went wrong, for callers that branch on it (the CLI maps each kind to
// an exit code).
enum class ErrorKind {
  InvalidInput,  // bad credential JSON, schema violation, unknown plugin id
  Rejected,      // the provider refused the credentials
  Network,       // DNS, connect, TLS verification, timeout, size cap
  Provider,      // the provider answered outside its contract (5xx, bad JSON)
  Plugin,        // the plugin failed to load, broke the ABI, or failed itself
};
const char *to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Log levels are the plugin ABI's CREDPLUG_LOG_* (0 error .. 3 debug).
using LogSink = std::function<void(int level, const std::string &message)>;

struct HostOptions {
  // Searched first, in order; then CREDPLUG_PLUGIN_PATH (':'-separated) when
  // use_environment; then the default directory beside the installation
  // (<prefix>/lib/credplug/plugins) when use_default_dir.
  std::vector<std::string> plugin_dirs;
  bool use_environment = true;  // also reads CREDPLUG_CA_FILE when ca_file is empty
  bool use_default_dir = true;
  std::string ca_file;  // PEM bundle to trust instead of the system store
  long connect_timeout_ms = 10000;
  long total_timeout_ms = 30000;
  size_t max_response_bytes = 1 << 20;
  LogSink log;  // messages are already redacted; may be empty
  int log_level = 1;  // CREDPLUG_LOG_WARN
};

struct PluginInfo {
  std::string id, display_name, version, path;
  uint32_t abi_major = 0, abi_minor = 0;  // the negotiated interface version
  bool has_test = false;
};

// A file in a plugin directory that could not be used, and why.
struct PluginProblem {
  std::string path, message;
};

struct FieldError {
  std::string pointer;  // JSON pointer of the field: "/client_id" ("" = whole document)
  std::string rule;     // the schema keyword broken: "required", "pattern", ...
  std::string message;  // for a human: names the field and what is expected
};

struct Validation {
  std::vector<FieldError> errors;
  bool ok() const { return errors.empty(); }
};

struct Header {
  std::string name;
  SecretString value;
  bool secret = false;
};

struct Info {
  std::string key;
  SecretString value;
  bool secret = false;
};

struct AuthResult {
  std::vector<Header> headers;
  std::optional<int64_t> expires_at;  // Unix seconds, when known
  std::vector<Info> info;
  long elapsed_ms = 0;
};

struct TestResult {
  AuthResult auth;
  std::vector<Info> info;
  bool has_test = true;  // false: the plugin has no connection test
  long elapsed_ms = 0;   // authenticate + test
};

class Credential;

class Host {
 public:
  explicit Host(HostOptions options = {});
  ~Host();
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  // Loads every plugin in the search path (once) and lists them by id.
  std::vector<PluginInfo> plugins();
  // Files found in the search path that could not be loaded, and why.
  std::vector<PluginProblem> problems();
  // The plugin with this id; throws Error(InvalidInput) naming the known ids,
  // or Error(Plugin) when a file that should hold it failed to load.
  PluginInfo plugin(const std::string &id);
  // The plugin's credential JSON Schema text.
  std::string schema(const std::string &id);
  // Checks a credential (JSON text) against the plugin's schema.
  Validation validate(const std::string &id, std::string_view credential_json);
  // Validates, then creates a plugin instance. Throws Error(InvalidInput)
  // with every field error in the message, or Error(<kind>) from the plugin.
  std::unique_ptr<Credential> open(const std::string &id, std::string_view credential_json);

  // The directories searched, in order.
  std::vector<std::string> search_path() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class Credential {
 public:
  ~Credential();
  Credential(const Credential &) = delete;
  Credential &operator=(const Credential &) = delete;

  // The headers to attach now. Throws Error.
  AuthResult authenticate();
  // authenticate(), then the plugin's connection test. Throws Error.
  TestResult test();

  const std::string &plugin_id() const;
  // `text` with every secret of this credential masked.
  std::string redact(std::string_view text) const;

  struct Impl;
  explicit Credential(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace credplug
