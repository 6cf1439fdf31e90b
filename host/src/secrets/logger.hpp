// Where the host's log lines go: the embedder's sink, at or below its level,
// as text or as JSON lines (LogFormat). Every message is redacted and made
// printable before it reaches a Logger; the Logger adds who it is about.
#pragma once

#include <credplug/plugin.h>
#include <credplug/types.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace credplug::host {

// Which credential a line is about: its plugin and the label the embedder
// gave it (either may be empty), as views of the credential's own, valid
// while it is open (a line is written during the call it is about). Never a
// secret: a label is the embedder's name for the credential (a tenant id),
// checked printable at open.
struct LogContext {
  std::string_view plugin;
  std::string_view label;
};

// One figure of an event, for JSON lines: a name and a number, flag or text.
struct LogField {
  const char *name;
  std::variant<int64_t, bool, std::string> value;
};
// RFC 3339 UTC with milliseconds: "2026-12-06T04:01:02.345Z".
std::string rfc3339_ms(int64_t unix_ms);

struct Logger {
  LogSink sink;
  int level = CREDPLUG_LOG_WARN;
  LogFormat format = LogFormat::Text;

  bool wants(int lvl) const { return sink && lvl <= level; }
  // A line about no credential in particular.
  void write(int lvl, const std::string &message) const { write(lvl, {}, message); }
  // A line about `about`; `event` (a stable snake_case name, or nullptr) and
  // `fields` appear only in JSON lines, where the text says the same in words.
  void write(int lvl, const LogContext &about, const std::string &message, const char *event = nullptr,
             const std::vector<LogField> &fields = {}) const;
  // What write() hands the sink.
  std::string format_line(int lvl, const LogContext &about, const std::string &message, const char *event,
                          const std::vector<LogField> &fields, int64_t unix_ms) const;
};

// Where lines with no call (a plugin's init/shutdown, a runner's destroy())
// go: the most recent Host's logger, or nowhere.
void set_process_logger(const Logger *logger);
// Stops using `logger` if it is the current one (another Host's stays).
void clear_process_logger(const Logger *logger);
const Logger *process_logger();

}  // namespace credplug::host
