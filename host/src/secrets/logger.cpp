#include "secrets/logger.hpp"

#include <atomic>

namespace credplug::host {
namespace {

std::atomic<const Logger *> g_process_logger{nullptr};

}  // namespace

void set_process_logger(const Logger *logger) { g_process_logger.store(logger); }

void clear_process_logger(const Logger *logger) { g_process_logger.compare_exchange_strong(logger, nullptr); }

const Logger *process_logger() { return g_process_logger.load(); }

}  // namespace credplug::host
