// Sanitizer builds (CI) only: where the runner's sanitizer reports go. Its
// stderr is /dev/null and its environment empty, so a report would be lost,
// and once sandboxed it cannot open a file; so each runner opens its own
// file in the build tree (CREDPLUG_SANITIZER_REPORT_DIR, set by
// cmake/Sanitizers.cmake) before the sandbox, and scripts/sanitize.sh fails
// on any that is not empty. In other builds both do nothing.
#pragma once

namespace credplug::runner {

// Opens <dir>/runner.<id>.log and sends every sanitizer report there. Call
// it in the process that loads the plugin: a sanitizer reopens its report
// file in any other process (it checks the pid), which the sandbox refuses.
// `id` is the runner's pid as the host knows it (inside its namespaces the
// runner is pid 1, as every other runner is).
void keep_sanitizer_reports(long id);
// Whether reports go to a file (the sandbox then allows writing one).
bool sanitizer_reports_kept();

}  // namespace credplug::runner
