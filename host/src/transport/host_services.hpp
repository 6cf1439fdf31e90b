// The host side of the plugin ABI: credplug_call (one operation's context:
// outputs, error, secrets, logging, HTTPS) and the credplug_host_api table
// handed to every plugin's init().
#pragma once

#include "net/egress_policy.hpp"
#include "net/https_client.hpp"
#include "plugin/plugin_helpers.hpp"
#include "secrets/logger.hpp"
#include "secrets/redactor.hpp"

#include <credplug/plugin.h>
#include <credplug/types.hpp>

#include <optional>
#include <string>
#include <vector>

namespace credplug::host {

const credplug_host_api *host_services();

}  // namespace credplug::host

struct credplug_call {
  credplug::host::Redactor *redactor = nullptr;
  // What the call declares secret is kept by `redactor` for its life (0), or
  // until tokens after this token request's replace it (Redactor::add).
  uint64_t secret_epoch = 0;
  const credplug::host::HttpsClient *http = nullptr;
  const credplug::host::Logger *logger = nullptr;
  credplug::host::LogContext about;  // whose lines these are: plugin id, credential label
  // How long plugin code may run in this call (process isolation: the
  // runner is stopped past it); time the host spends on the call's HTTPS
  // requests does not count. 0: no limit.
  long deadline_ms = 0;
  // Where its HTTPS requests may go; nullptr: anywhere (no credential).
  const credplug::host::EgressPolicy *egress = nullptr;

  // sign(): the request, and the query parameters it added (out_query is
  // refused in any other call).
  const credplug_sign_request *signing = nullptr;
  // authorize(): its two steps' values, and the URL the first output.
  const credplug_authorization *authorization = nullptr;
  std::string url;
  std::vector<credplug::QueryParam> query;

  // The credential's state for state() (nullptr: none yet), whether
  // out_state() may replace it (authenticate, refresh), and what it output
  // (checked: an object within the limits; its strings are secrets).
  const credplug::SecretString *state = nullptr;
  bool may_set_state = false;
  std::optional<credplug::SecretString> new_state;

  std::vector<credplug::Header> headers;
  std::optional<int64_t> expires_at;
  // The last response's Retry-After (429/503), for the token cache's backoff.
  std::optional<long> retry_after_ms;
  std::vector<credplug::Info> info;
  bool error_set = false;
  int32_t error_code = 0;
  std::string error_message;  // redacted when set
  // Why the host refused one of the plugin's outputs (a header with CR LF,
  // too many headers): the call fails with it, whatever the plugin returned.
  std::string refused_output;
  // What the minor-2 helpers returned to the plugin (wiped with the call).
  credplug::helpers::CallStrings helper_strings;
  // What the plugin declared and logged in this call, for the caps
  // (output_rules.hpp: kMaxSecretsPerCall, kMaxLogLinesPerCall).
  size_t secrets_declared = 0, secret_bytes_declared = 0, log_lines = 0;
};

struct credplug_http_response {
  credplug::host::HttpResult result;
  std::string error;  // redacted
};
