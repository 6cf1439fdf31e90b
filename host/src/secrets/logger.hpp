// Where the host's log lines go: the embedder's sink, at or below its level.
// Every line is redacted and made printable before it reaches a Logger.
#pragma once

#include <credplug/plugin.h>
#include <credplug/types.hpp>

#include <string>

namespace credplug::host {

struct Logger {
  LogSink sink;
  int level = CREDPLUG_LOG_WARN;
  void write(int lvl, const std::string &message) const {
    if (sink && lvl <= level) sink(lvl, message);
  }
};

// Where lines with no call (a plugin's init/shutdown, a runner's destroy())
// go: the most recent Host's logger, or nowhere.
void set_process_logger(const Logger *logger);
// Stops using `logger` if it is the current one (another Host's stays).
void clear_process_logger(const Logger *logger);
const Logger *process_logger();

}  // namespace credplug::host
