#include "secrets/logger.hpp"

#include "base/unix_time.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace credplug::host {
namespace {

std::atomic<const Logger *> g_process_logger{nullptr};

const char *level_name(int lvl) {
  switch (lvl) {
    case CREDPLUG_LOG_ERROR:
      return "error";
    case CREDPLUG_LOG_WARN:
      return "warn";
    case CREDPLUG_LOG_INFO:
      return "info";
    default:
      return "debug";
  }
}

}  // namespace

std::string rfc3339_ms(int64_t unix_ms) {
  const time_t seconds = time_t(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, int(unix_ms % 1000));
  return buf;
}

std::string Logger::format_line(int lvl, const LogContext &about, const std::string &message, const char *event,
                                const std::vector<LogField> &fields, int64_t unix_ms) const {
  if (format == LogFormat::Text) {
    if (about.plugin.empty()) return message;
    std::string line = "[";
    line.append(about.plugin);
    if (!about.label.empty()) line.append(" '").append(about.label).append("'");
    return line.append("] ").append(message);
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> json(out);
  auto pair = [&](const char *key, std::string_view value) {
    json.Key(key);
    json.String(value.data(), rapidjson::SizeType(value.size()));
  };
  json.StartObject();
  pair("time", rfc3339_ms(unix_ms));
  pair("level", level_name(lvl));
  if (!about.plugin.empty()) pair("plugin", about.plugin);
  if (!about.label.empty()) pair("credential", about.label);
  if (event != nullptr) pair("event", event);
  pair("message", message);
  for (const auto &f : fields) {
    json.Key(f.name);
    if (auto *n = std::get_if<int64_t>(&f.value)) json.Int64(*n);
    if (auto *b = std::get_if<bool>(&f.value)) json.Bool(*b);
    if (auto *t = std::get_if<std::string>(&f.value)) json.String(t->data(), rapidjson::SizeType(t->size()));
  }
  json.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

void Logger::write(int lvl, const LogContext &about, const std::string &message, const char *event,
                   const std::vector<LogField> &fields) const {
  if (wants(lvl)) sink(lvl, format_line(lvl, about, message, event, fields, unix_ms_now()));
}

void set_process_logger(const Logger *logger) { g_process_logger.store(logger); }

void clear_process_logger(const Logger *logger) { g_process_logger.compare_exchange_strong(logger, nullptr); }

const Logger *process_logger() { return g_process_logger.load(); }

}  // namespace credplug::host
