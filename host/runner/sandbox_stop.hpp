// Which system call the sandbox stopped a plugin for. The filters' default
// action traps: the kernel sends SIGSYS with the call's number, and the
// handler sends the host a Stopped frame made for that number before the
// filter was loaded (a handler may only write), then ends the runner by
// SIGSYS, as before: setting SIGSYS's action is what the filters kill for,
// so a plugin cannot take the handler over either.
#pragma once

namespace credplug::runner {

// Makes the frames (once; a spare runner, while it waits).
void prepare_sandbox_stops();

// Makes them where not yet made, and installs the handler; before the first
// filter. Throws std::runtime_error.
void report_sandbox_stops();

}  // namespace credplug::runner
