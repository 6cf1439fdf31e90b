#include "sanitizer_reports.hpp"

#if defined(CREDPLUG_SANITIZER_REPORT_DIR)
#include <sanitizer/common_interface_defs.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#endif

namespace credplug::runner {
namespace {
bool kept = false;
}  // namespace

void keep_sanitizer_reports([[maybe_unused]] long id) {
#if defined(CREDPLUG_SANITIZER_REPORT_DIR)
  mkdir(CREDPLUG_SANITIZER_REPORT_DIR, 0755);  // NOLINT(cppcoreguidelines-pro-type-vararg): may exist
  const std::string path = std::string(CREDPLUG_SANITIZER_REPORT_DIR) + "/runner." + std::to_string(id) + ".log";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);  // NOLINT
  if (fd < 0) return;
  __sanitizer_set_report_fd(reinterpret_cast<void *>(intptr_t(fd)));  // NOLINT(performance-no-int-to-ptr)
  kept = true;
#endif
}

bool sanitizer_reports_kept() { return kept; }

}  // namespace credplug::runner
