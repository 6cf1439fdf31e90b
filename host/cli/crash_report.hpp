// When a plugin running in this process (--isolation in-process) crashes,
// the CLI says which plugin and which operation, and exits 7 (plugin
// failure) instead of dying by the signal with no word. A crash outside
// plugin code is credplug's own: the signal goes on as before (core dumps
// stay disabled: the CLI holds secrets).
#pragma once

namespace credplug::cli {

// Installs the handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT.
void install_crash_report();

}  // namespace credplug::cli
