// What an operator reads about a credential's tokens: every failed token
// request with its retry schedule, every refusal, every recovery, at warn or
// error (seen at the default level); new and refused tokens at info. Each
// line names the plugin and the credential's label, and in JSON lines
// carries the event's figures and the state it leaves the credential in.
#include "api/credential.hpp"

#include "base/unix_time.hpp"
#include "secrets/output_rules.hpp"

#include <credplug/host_json.hpp>

#include <cstdio>

namespace credplug {
namespace {

std::string seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", double(ms) / 1000);
  return buf;
}

std::string plural(int n, const char *one, const char *many) { return std::to_string(n) + " " + (n == 1 ? one : many); }

using host::LogField;

// One line to log: nothing when `level` is below what the logger wants.
struct Line {
  int level = -1;
  std::string text;
  const char *event = nullptr;
  std::vector<LogField> fields;
};

LogField state_field(CredentialState state) { return {"state", std::string(to_string(state))}; }

Line obtained(const host::Logger &log, const host::CacheEvent &e) {
  std::vector<LogField> fields{{"generation", int64_t(e.generation)},
                               {"lifetime_ms", int64_t(e.lifetime_ms)},
                               {"background", e.background},
                               state_field(CredentialState::Ok)};
  const std::string valid = "valid for " + seconds(e.lifetime_ms);
  if (e.failures > 0 || e.failing_for_ms > 0) {
    fields.push_back({"failures", int64_t(e.failures)});
    fields.push_back({"failing_for_ms", e.failing_for_ms});
    const std::string after =
        e.failures > 0 ? " after " + plural(e.failures, "failed token request", "failed token requests") : "";
    return {CREDPLUG_LOG_WARN,
            "recovered: a new token" + after + " over " + seconds(e.failing_for_ms) + " (" + valid + ")", "recovered",
            fields};
  }
  if (!log.wants(CREDPLUG_LOG_INFO)) return {};
  const char *how = e.generation == 1 ? "first token" : e.background ? "token renewed ahead of expiry" : "new token";
  return {CREDPLUG_LOG_INFO, std::string(how) + " (generation " + std::to_string(e.generation) + ", " + valid + ")",
          "token_obtained", fields};
}

Line failed(const host::CacheEvent &e) {
  const CredentialState state = e.kind == ErrorKind::Reauthorize ? CredentialState::NeedsReauthorization
                                : e.retryable                    ? CredentialState::Failing
                                                                 : CredentialState::Rejected;
  const int64_t next_at = e.unix_ms + e.next_attempt_in_ms;
  std::vector<LogField> fields{{"kind", std::string(json::kind_slug(e.kind))},
                               {"failures", int64_t(e.failures)},
                               {"attempt", int64_t(e.attempt)},
                               {"background", e.background},
                               {"retry_in_ms", int64_t(e.next_attempt_in_ms)},
                               {"next_attempt_at", host::rfc3339_ms(next_at)},
                               {"token_valid_ms", int64_t(e.token_valid_ms)},
                               state_field(state)};
  std::string line;
  if (e.retryable) {
    line = "token request failed (" + plural(e.failures, "failure", "failures") + " in a row): " + e.message + "; " +
           (e.retry_now ? "retrying in " + seconds(e.next_attempt_in_ms)
                        : "the next attempt is in " + seconds(e.next_attempt_in_ms) + " (at " +
                              host::rfc3339_ms(next_at) + "), on a headers() call");
  } else {
    line = "token request refused (" + std::string(to_string(e.kind)) + "): " + e.message + "; not retried for " +
           seconds(e.next_attempt_in_ms) + ", or until invalidate()";
  }
  line += e.token_valid_ms > 0 ? "; the current token stays valid for " + seconds(e.token_valid_ms)
                               : "; no valid token until then";
  return {e.retryable ? CREDPLUG_LOG_WARN : CREDPLUG_LOG_ERROR, line, "token_request_failed", fields};
}

Line invalidated(const host::Logger &log, const host::CacheEvent &e) {
  if (e.held) {
    return {CREDPLUG_LOG_WARN,
            e.message + "; the next attempt is in " + seconds(e.next_attempt_in_ms),
            "api_refused_tokens",
            {{"refused_in_a_row", int64_t(e.refused_in_a_row)},
             {"retry_in_ms", int64_t(e.next_attempt_in_ms)},
             state_field(CredentialState::Failing)}};
  }
  if (!log.wants(CREDPLUG_LOG_INFO)) return {};
  if (e.generation == 0)
    return {
        CREDPLUG_LOG_INFO, "token dropped (invalidate()); the next headers() authenticates anew", "token_dropped", {}};
  return {CREDPLUG_LOG_INFO,
          "the API refused token generation " + std::to_string(e.generation) +
              " (invalidate()); the next headers() authenticates anew",
          "token_refused_by_api",
          {{"generation", int64_t(e.generation)}}};
}

}  // namespace

// The events of a test() running on this thread (TestResult::events).
thread_local std::vector<CredentialEvent> *g_test_events = nullptr;

void Credential::Impl::raise_event(CredentialEvent::Type type, CredentialState state, std::optional<ErrorKind> kind,
                                   const std::string &message) const {
  try {
    shared->here().metrics.credential_event(id(), to_string(type));
    CredentialEvent e;
    e.type = type;
    e.plugin_id = id();
    e.label = label();
    e.state = state;
    e.kind = kind;
    e.message = host::displayable(redactor.apply(message), host::kMaxLogLineBytes);
    e.unix_ms = host::unix_ms_now();
    if (g_test_events) g_test_events->push_back(e);
    if (shared->on_event) shared->on_event(e);
  } catch (...) {  // an embedder's callback that throws loses its event, never the token
  }
}

void Credential::Impl::collect_events(std::vector<CredentialEvent> *into) { g_test_events = into; }

void Credential::Impl::log_cache_event(const host::CacheEvent &event) const {
  // Transitions only: the first failure of a run, and the success that ends one.
  if (event.type == host::CacheEvent::Failed && event.failures == 1)
    raise_event(event.kind == ErrorKind::Reauthorize ? CredentialEvent::Type::NeedsReauthorization
                : event.retryable                    ? CredentialEvent::Type::Failing
                                                     : CredentialEvent::Type::Rejected,
                event.kind == ErrorKind::Reauthorize ? CredentialState::NeedsReauthorization
                : event.retryable                    ? CredentialState::Failing
                                                     : CredentialState::Rejected,
                event.kind, event.message);
  else if (event.type == host::CacheEvent::Obtained && event.failures > 0)
    raise_event(CredentialEvent::Type::Recovered, CredentialState::Ok, std::nullopt,
                "a token again after " + plural(event.failures, "failure", "failures") + " in " +
                    seconds(event.failing_for_ms));
  const host::Logger &log = shared->logger;
  if (!log.wants(CREDPLUG_LOG_ERROR)) return;
  try {
    Line line = event.type == host::CacheEvent::Obtained ? obtained(log, event)
                : event.type == host::CacheEvent::Failed ? failed(event)
                                                         : invalidated(log, event);
    if (line.level < 0) return;
    // The messages came redacted from the plugin's call; again, whole, in
    // case a token learnt since is in one, then made printable.
    log.write(line.level, about(), host::displayable(redactor.apply(line.text), host::kMaxLogLineBytes), line.event,
              line.fields);
  } catch (...) {  // a line that cannot be made (no memory) is dropped, never the token
  }
}

}  // namespace credplug
