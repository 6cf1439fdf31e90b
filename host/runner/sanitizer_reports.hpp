// Sanitizer builds (CI) only: where the runner's sanitizer reports go. Its
// stderr is /dev/null and its environment empty, so a report would be lost,
// and once sandboxed it cannot open a file; so each runner opens its own
// file in the build tree (CREDPLUG_SANITIZER_REPORT_DIR, set by
// cmake/Sanitizers.cmake) before the sandbox, and scripts/sanitize.sh fails
// on any that is not empty. In other builds both do nothing.
#pragma once

namespace credplug::runner {

// Opens <dir>/runner.<pid>.log and sends every sanitizer report there.
void keep_sanitizer_reports();
// Whether reports go to a file (the sandbox then allows writing one).
bool sanitizer_reports_kept();

}  // namespace credplug::runner
