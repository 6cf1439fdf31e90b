// What plugin code may do besides answering calls, bounded by the runner
// itself (the kernel counts neither per process): at most 128 threads, and
// CPU while no call runs drawn from a budget of 2 s that refills at a tenth
// of one core. Past either, the runner says why (a log line the host tags
// with the plugin's id) and ends; the host starts another for the next
// call. A thread left spinning after its call is so ended within seconds;
// one that keeps spinning between back-to-back calls meets RLIMIT_CPU
// (sandbox.cpp) instead. docs/SANDBOX.md, "Threads and CPU".
#pragma once

namespace credplug::runner {

// Opens the runner's own /proc/<pid>/stat, read again at each look: while
// the host's file system is still in view. Without it (no /proc), threads
// are not counted and only CPU is watched.
void open_own_stat();

// Starts the watching thread: after init(), before the first call.
void start_activity_watch();

// Around every call the host asks (create and destroy too).
void call_begins();
void call_ends();

}  // namespace credplug::runner
