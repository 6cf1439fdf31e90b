#include <credplug/host_json.hpp>
#include <credplug/kit/encoding.hpp>

#include "cache/metrics.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace credplug::json {
namespace {

// Builds one document with `body(writer)` in the requested style.
template <class Body>
std::string document(JsonStyle style, Body &&body) {
  rapidjson::StringBuffer sb;
  if (style == JsonStyle::Pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    body(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    body(w);
  }
  return std::string(sb.GetString(), sb.GetSize());
}

template <class W>
void str(W &w, const std::string &s) {
  w.String(s.c_str(), rapidjson::SizeType(s.size()));
}

// Never expiring: "expires_at" null and "never_expires" true.
template <class W>
void write_expiry(W &w, const std::optional<int64_t> &at, bool never = false) {
  w.Key("never_expires"), w.Bool(never);
  w.Key("expires_at");
  if (at)
    w.Int64(*at);
  else
    w.Null();
  w.Key("expires_at_iso");
  if (at)
    str(w, iso_time(*at));
  else
    w.Null();
}

// [{"name", "value" (null when secret, unless `reveal`), "secret"}]: headers, query parameters.
template <class W, class Named>
void write_named_values(W &w, const char *key, const std::vector<Named> &values, bool reveal) {
  w.Key(key);
  w.StartArray();
  for (const auto &v : values) {
    w.StartObject();
    w.Key("name"), str(w, v.name);
    w.Key("value");
    if (v.secret && !reveal)
      w.Null();
    else
      str(w, v.value.reveal());
    w.Key("secret"), w.Bool(v.secret);
    w.EndObject();
  }
  w.EndArray();
}

template <class W>
void write_info(W &w, const std::vector<Info> &info, bool reveal) {
  w.Key("info");
  w.StartObject();
  for (const auto &i : info) {
    w.Key(i.key.c_str());
    if (i.secret && !reveal)
      w.Null();
    else
      str(w, i.value.reveal());
  }
  w.EndObject();
}

}  // namespace

std::string iso_time(int64_t unix_seconds) {
  std::time_t t = std::time_t(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string plugins_json(const std::vector<PluginInfo> &plugins, const std::vector<PluginProblem> &problems,
                         const std::vector<std::string> &search_path, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    w.Key("plugins");
    w.StartArray();
    for (const auto &p : plugins) {
      w.StartObject();
      w.Key("id"), str(w, p.id);
      w.Key("name"), str(w, p.display_name);
      w.Key("version"), str(w, p.version);
      w.Key("abi"), str(w, std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor));
      w.Key("has_test"), w.Bool(p.has_test);
      w.Key("has_refresh"), w.Bool(p.has_refresh);
      w.Key("signs_requests"), w.Bool(p.signs_requests);
      w.Key("connects_accounts"), w.Bool(p.connects_accounts);
      w.Key("disconnects_accounts"), w.Bool(p.disconnects_accounts);
      w.Key("default_token_lifetime_s"), w.Uint(p.default_token_lifetime_s);
      w.Key("isolation"), str(w, p.isolation);
      w.Key("namespaces"), w.Bool(p.namespaces);
      if (!p.namespaces) w.Key("namespaces_unavailable"), str(w, p.no_namespaces);
      w.Key("warnings"), w.StartArray();
      for (const auto &warning : p.warnings) str(w, warning);
      w.EndArray();
      w.Key("egress"), w.StartObject();
      w.Key("declared"), w.StartArray();
      for (const auto &origin : p.egress) str(w, origin);
      w.EndArray();
      w.Key("address_fields"), w.StartArray();
      for (const auto &field : p.address_fields) str(w, field);
      w.EndArray();
      w.EndObject();
      w.Key("path"), str(w, p.path);
      w.EndObject();
    }
    w.EndArray();
    w.Key("problems");
    w.StartArray();
    for (const auto &p : problems) {
      w.StartObject();
      w.Key("path"), str(w, p.path);
      w.Key("message"), str(w, p.message);
      w.EndObject();
    }
    w.EndArray();
    w.Key("search_path");
    w.StartArray();
    for (const auto &d : search_path) str(w, d);
    w.EndArray();
    w.EndObject();
  });
}

std::string validation_json(const std::string &id, const Validation &v, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    // The shape every result shares: ok, and on failure error {kind, message}.
    w.Key("ok"), w.Bool(v.ok());
    if (!v.ok()) {
      w.Key("error"), w.StartObject();
      w.Key("kind"), str(w, kind_slug(ErrorKind::InvalidInput));
      w.Key("message"), str(w, std::to_string(v.errors.size()) +
                                   " problem(s) in the credential; the first: " + v.errors.front().message);
      w.EndObject();
    }
    w.Key("plugin"), str(w, id);
    w.Key("valid"), w.Bool(v.ok());
    w.Key("errors");
    w.StartArray();
    for (const auto &e : v.errors) {
      w.StartObject();
      w.Key("pointer"), str(w, e.pointer);
      w.Key("field"), str(w, e.field);
      w.Key("title"), str(w, e.title);
      w.Key("rule"), str(w, e.rule);
      w.Key("message"), str(w, e.message);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

std::string auth_json(const std::string &id, const AuthResult &r, bool reveal, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    w.Key("ok"), w.Bool(true);
    w.Key("plugin"), str(w, id);
    write_named_values(w, "headers", r.headers, reveal);
    write_expiry(w, r.expires_at, r.never_expires);
    write_info(w, r.info, reveal);
    w.Key("elapsed_ms"), w.Int64(r.elapsed_ms);
    w.EndObject();
  });
}

std::string signed_json(const std::string &id, const SignedRequest &r, bool reveal, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    w.Key("ok"), w.Bool(true);
    w.Key("plugin"), str(w, id);
    w.Key("url"), str(w, reveal ? r.url : shown_signed_url(r));
    write_named_values(w, "headers", r.headers, reveal);
    write_named_values(w, "query", r.query, reveal);
    w.Key("time_ms"), w.Int64(r.time_ms);
    w.Key("time_iso"), str(w, iso_time(r.time_ms / 1000));
    write_info(w, r.info, reveal);
    w.Key("elapsed_ms"), w.Int64(r.elapsed_ms);
    w.EndObject();
  });
}

std::string shown_signed_url(const SignedRequest &r) {
  bool any_secret = false;
  for (const auto &q : r.query) any_secret = any_secret || q.secret;
  if (!any_secret) return r.url;
  // The URL as given, then the added parameters with secret values masked.
  std::string shown = r.url;
  for (const auto &q : r.query) {
    if (!q.secret) continue;
    const std::string value = kit::url_encode(q.value.view());
    for (size_t at = shown.find(value); at != std::string::npos; at = shown.find(value, at + 4))
      shown.replace(at, value.size(), "****");
  }
  return shown;
}

namespace {
template <class Writer>
void write_event(Writer &w, const CredentialEvent &e) {
  w.StartObject();
  w.Key("event"), str(w, to_string(e.type));
  w.Key("plugin"), str(w, e.plugin_id);
  w.Key("label"), str(w, e.label);
  w.Key("state"), str(w, to_string(e.state));
  if (e.kind) w.Key("kind"), str(w, kind_slug(*e.kind));
  w.Key("message"), str(w, e.message);
  w.Key("unix_ms"), w.Int64(e.unix_ms);
  w.EndObject();
}
}  // namespace

std::string event_json(const CredentialEvent &event, JsonStyle style) {
  return document(style, [&](auto &w) { write_event(w, event); });
}

std::string test_json(const std::string &id, const TestResult &r, const std::string &file, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    if (!file.empty()) w.Key("file"), str(w, file);
    w.Key("ok"), w.Bool(true);
    w.Key("plugin"), str(w, id);
    w.Key("tested"), w.Bool(r.has_test);
    write_expiry(w, r.auth.expires_at, r.auth.never_expires);
    write_info(w, r.info, false);
    if (!r.events.empty()) {
      w.Key("events");
      w.StartArray();
      for (const auto &e : r.events) write_event(w, e);
      w.EndArray();
    }
    w.Key("elapsed_ms"), w.Int64(r.elapsed_ms);
    w.EndObject();
  });
}

namespace {
// {"file"?, "ok": false, "error": {"kind", "message"}}
std::string error_document(const char *kind, const std::string &message, const std::string &file, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    if (!file.empty()) w.Key("file"), str(w, file);
    w.Key("ok"), w.Bool(false);
    w.Key("error");
    w.StartObject();
    w.Key("kind"), str(w, kind);
    w.Key("message"), str(w, message);
    w.EndObject();
    w.EndObject();
  });
}
}  // namespace

std::string error_json(ErrorKind kind, const std::string &message, const std::string &file, JsonStyle style) {
  return error_document(kind_slug(kind), message, file, style);
}

std::string internal_error_json(const std::string &message, JsonStyle style) {
  return error_document("internal", message, "", style);
}

std::string cache_status_json(const CacheStatus &s) {
  return document(JsonStyle::Line, [&](auto &w) {
    w.StartObject();
    w.Key("has_token"), w.Bool(s.has_token);
    w.Key("generation"), w.Uint64(s.generation);
    write_expiry(w, s.expires_at, s.never_expires);
    w.Key("token_requests"), w.Uint64(s.token_requests);
    w.Key("background_refreshes"), w.Uint64(s.background_refreshes);
    w.Key("consecutive_failures"), w.Int(s.consecutive_failures);
    w.Key("last_error");
    if (s.last_error.empty())
      w.Null();
    else
      str(w, s.last_error);
    w.Key("next_attempt_ms");
    if (s.next_attempt_ms)
      w.Int64(*s.next_attempt_ms);
    else
      w.Null();
    w.Key("refreshing"), w.Bool(s.refreshing);
    w.EndObject();
  });
}

std::string credential_status_json(const CredentialStatus &s) {
  auto optional_ms = [](auto &w, const char *key, const std::optional<int64_t> &ms) {
    w.Key(key);
    if (ms)
      w.Int64(*ms);
    else
      w.Null();
  };
  return document(JsonStyle::Line, [&](auto &w) {
    w.StartObject();
    w.Key("plugin"), str(w, s.plugin_id);
    w.Key("label"), str(w, s.label);
    w.Key("state"), w.String(to_string(s.state));
    w.Key("has_token"), w.Bool(s.has_token);
    write_expiry(w, s.expires_at, s.never_expires);
    optional_ms(w, "last_success_ms", s.last_success_ms);
    optional_ms(w, "failing_since_ms", s.failing_since_ms);
    w.Key("consecutive_failures"), w.Int(s.consecutive_failures);
    w.Key("last_error_kind");
    if (s.last_error_kind)
      w.String(kind_slug(*s.last_error_kind));
    else
      w.Null();
    w.Key("last_error");
    if (s.last_error.empty())
      w.Null();
    else
      str(w, s.last_error);
    optional_ms(w, "next_attempt_ms", s.next_attempt_ms);
    w.EndObject();
  });
}

std::string plugin_check_json(const PluginCheck &check, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    w.Key("file"), str(w, check.file);
    w.Key("id"), str(w, check.id);
    w.Key("clean"), w.Bool(check.clean());
    w.Key("elapsed_ms"), w.Int64(check.elapsed_ms);
    w.Key("checks");
    w.StartArray();
    for (const auto &r : check.results) {
      w.StartObject();
      w.Key("name"), str(w, r.name);
      w.Key("status"), str(w, r.status);
      w.Key("problems");
      w.StartArray();
      for (const auto &p : r.problems) str(w, p);
      w.EndArray();
      w.Key("detail"), str(w, r.detail);
      w.Key("elapsed_ms"), w.Int64(r.elapsed_ms);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

namespace {

template <class W>
void write_histogram(W &w, const Histogram &h) {
  w.StartObject();
  w.Key("bounds_ms");
  w.StartArray();
  for (double b : h.bounds_ms) w.Double(b);
  w.EndArray();
  w.Key("counts");
  w.StartArray();
  for (uint64_t c : h.counts) w.Uint64(c);
  w.EndArray();
  w.Key("count"), w.Uint64(h.count);
  w.Key("sum_ms"), w.Double(h.sum_ms);
  w.EndObject();
}

// A Prometheus label value: backslash, quote and newline escaped.
std::string label(const std::string &v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// One histogram in seconds: cumulative _bucket lines, _sum and _count.
void prometheus_histogram(std::string &out, const std::string &name, const std::string &labels, const Histogram &h) {
  uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < h.bounds_ms.size(); ++i) {
    cumulative += h.counts[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + number(h.bounds_ms[i] / 1000) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(h.sum_ms / 1000) + "\n";
  out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

// A metric family's HELP and TYPE lines; its samples follow.
void prometheus_family(std::string &out, const std::string &name, const char *type, const std::string &help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

using host::kMetricCatalogue;
using host::MetricRow;

// The catalogue's rows of `group`, in order (cache/metrics.hpp).
template <class F>
void each_row(MetricRow::Group group, F &&f) {
  for (const MetricRow &row : kMetricCatalogue)
    if (row.group == group) f(row);
}

template <class W>
void write_rows(W &w, const MetricsSnapshot &m, MetricRow::Group group) {
  w.StartObject();
  each_row(group, [&](const MetricRow &row) {
    w.Key(row.json_key);
    if (row.histogram)
      write_histogram(w, m.*row.histogram);
    else
      w.Uint64(m.*row.counter);
  });
  w.EndObject();
}

// Each family of the group's rows once, where its first row stands, with
// every row of it.
void prometheus_rows(std::string &out, const MetricsSnapshot &m, MetricRow::Group group) {
  std::vector<std::string> written;
  each_row(group, [&](const MetricRow &first) {
    if (std::find(written.begin(), written.end(), first.family) != written.end()) return;
    written.push_back(first.family);
    prometheus_family(out, first.family, first.histogram ? "histogram" : "counter", first.help);
    each_row(group, [&](const MetricRow &row) {
      if (std::string(row.family) != first.family) return;
      const std::string labels = row.label ? row.label : "";
      if (row.histogram) {
        prometheus_histogram(out, row.family, labels, m.*row.histogram);
      } else {
        out += std::string(row.family) + (labels.empty() ? "" : "{" + labels + "}") + " " +
               std::to_string(m.*row.counter) + "\n";
      }
    });
  });
}

}  // namespace

std::string metrics_json(const MetricsSnapshot &m, JsonStyle style) {
  return document(style, [&](auto &w) {
    w.StartObject();
    w.Key("cache");
    write_rows(w, m, MetricRow::kCache);
    w.Key("token_requests");
    w.StartObject();
    for (const auto &p : m.token_requests) {
      w.Key(p.plugin.c_str());
      w.StartObject();
      w.Key("outcomes");
      w.StartObject();
      for (const auto &[outcome, n] : p.outcomes) w.Key(outcome.c_str()), w.Uint64(n);
      w.EndObject();
      w.Key("latency"), write_histogram(w, p.latency);
      w.EndObject();
    }
    w.EndObject();
    w.Key("shared_cache");
    if (!m.shared_cache)
      w.Null();
    else
      write_rows(w, m, MetricRow::kSharedCache);
    w.Key("credentials");
    w.StartObject();
    for (const auto &p : m.credentials) {
      w.Key(p.plugin.c_str());
      w.StartObject();
      for (CredentialState state : kCredentialStates) {
        auto it = p.by_state.find(state);
        w.Key(to_string(state)), w.Uint64(it == p.by_state.end() ? 0 : it->second);
      }
      w.EndObject();
    }
    w.EndObject();
    w.Key("credential_events");
    w.StartObject();
    for (const auto &p : m.credential_events) {
      w.Key(p.plugin.c_str());
      w.StartObject();
      for (CredentialEvent::Type type : kCredentialEventTypes) {
        auto it = p.counts.find(to_string(type));
        w.Key(to_string(type)), w.Uint64(it == p.counts.end() ? 0 : it->second);
      }
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  });
}

std::string metrics_prometheus(const MetricsSnapshot &m) {
  std::string out;
  prometheus_family(out, "credplug_token_requests_total", "counter",
                    "Token requests this process's plugins made, by outcome.");
  for (const auto &p : m.token_requests)
    for (const auto &[outcome, n] : p.outcomes)
      out += "credplug_token_requests_total{plugin=\"" + label(p.plugin) + "\",outcome=\"" + label(outcome) + "\"} " +
             std::to_string(n) + "\n";
  prometheus_family(out, "credplug_token_request_duration_seconds", "histogram", "How long token requests took.");
  for (const auto &p : m.token_requests)
    prometheus_histogram(out, "credplug_token_request_duration_seconds", "plugin=\"" + label(p.plugin) + "\"",
                         p.latency);
  prometheus_rows(out, m, MetricRow::kCache);
  if (m.shared_cache) prometheus_rows(out, m, MetricRow::kSharedCache);
  prometheus_family(out, "credplug_credentials", "gauge",
                    "Open credentials by plugin and state (Credential::status()).");
  for (const auto &p : m.credentials)
    for (CredentialState state : kCredentialStates) {
      auto it = p.by_state.find(state);
      out += "credplug_credentials{plugin=\"" + label(p.plugin) + "\",state=\"" + to_string(state) + "\"} " +
             std::to_string(it == p.by_state.end() ? 0 : it->second) + "\n";
    }
  prometheus_family(out, "credplug_credential_events_total", "counter",
                    "Credential events by plugin and type (HostOptions::on_event).");
  for (const auto &p : m.credential_events)
    for (CredentialEvent::Type type : kCredentialEventTypes) {
      auto it = p.counts.find(to_string(type));
      out += "credplug_credential_events_total{plugin=\"" + label(p.plugin) + "\",event=\"" + to_string(type) + "\"} " +
             std::to_string(it == p.counts.end() ? 0 : it->second) + "\n";
    }
  return out;
}

}  // namespace credplug::json
