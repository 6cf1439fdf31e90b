// A process holding secrets must not leave them in a core file.
#pragma once

namespace credplug::host {

// This process will not dump core: PR_SET_DUMPABLE 0 (which also keeps
// other users' ptrace and /proc/<pid>/mem out) and RLIMIT_CORE 0. Lasts for
// the life of the process. Returns false if either call failed.
bool disable_core_dumps() noexcept;

}  // namespace credplug::host
