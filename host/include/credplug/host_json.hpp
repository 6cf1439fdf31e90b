// Results as JSON: the documents `credplug --json` prints and the C API
// returns, for embedders that want the same. Secret values are null unless
// `reveal`.
#pragma once

#include <credplug/plugin_check.hpp>
#include <credplug/types.hpp>

#include <string>
#include <vector>

namespace credplug::json {

enum class JsonStyle { Pretty, Line };  // Line: one line, for one object per credential

std::string plugins_json(const std::vector<PluginInfo> &plugins, const std::vector<PluginProblem> &problems,
                         const std::vector<std::string> &search_path, JsonStyle style);
std::string validation_json(const std::string &id, const Validation &v, JsonStyle style);
std::string auth_json(const std::string &id, const AuthResult &r, bool reveal, JsonStyle style);
// `credplug sign`: {"ok", "plugin", "url", "headers": [{"name", "value",
// "secret"}], "query": [{"name", "value", "secret"}], "time_ms",
// "time_iso", "info", "elapsed_ms"}; secret values null, and masked in
// "url", unless `reveal`.
std::string signed_json(const std::string &id, const SignedRequest &r, bool reveal, JsonStyle style);
// The signed URL with secret query values shown as ****.
std::string shown_signed_url(const SignedRequest &r);
// `file`: the credential file it came from, when there is one ("" omits it).
std::string test_json(const std::string &id, const TestResult &r, const std::string &file, JsonStyle style);
// {"event", "plugin", "label", "state", "kind"?, "message", "unix_ms"}
std::string event_json(const CredentialEvent &event, JsonStyle style);
std::string error_json(ErrorKind kind, const std::string &message, const std::string &file, JsonStyle style);
std::string internal_error_json(const std::string &message, JsonStyle style);
std::string cache_status_json(const CacheStatus &s);
// {"plugin", "label", "state", "has_token", "never_expires", "expires_at", "expires_at_iso",
// "last_success_ms", "failing_since_ms", "consecutive_failures",
// "last_error_kind", "last_error", "next_attempt_ms"}: absent values are null.
std::string credential_status_json(const CredentialStatus &s);
// A Host's metrics: {"cache": {"l1_hits", "l2_hits", "misses", ...},
// "token_requests": {"<plugin>": {"outcomes": {"ok": n, ...}, "latency": {...}}},
// "shared_cache": {...} or null, "credentials": {"<plugin>": {"idle": n,
// "ok": n, "refreshing": n, "failing": n, "rejected": n}}}; every histogram
// as {"bounds_ms", "counts", "count", "sum_ms"}.
std::string metrics_json(const MetricsSnapshot &m, JsonStyle style);
// The same in the Prometheus text exposition format (version 0.0.4):
// credplug_token_requests_total{plugin,outcome}, ..._duration_seconds
// histograms, credplug_cache_lookups_total{result}, ..., and the gauge
// credplug_credentials{plugin,state}.
std::string metrics_prometheus(const MetricsSnapshot &m);
// {"file", "id", "clean", "elapsed_ms", "checks": [{"name", "status", "problems", "detail", "elapsed_ms"}]}
std::string plugin_check_json(const PluginCheck &check, JsonStyle style);

// "2026-11-22T10:00:00Z".
std::string iso_time(int64_t unix_seconds);

// "invalid_input", "rejected", "network", "provider", "plugin".
const char *kind_slug(ErrorKind kind);

}  // namespace credplug::json
