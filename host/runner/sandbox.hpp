// The runner's sandbox, in two stages: the first before the plugin file is
// opened, so that none of its code (constructors, credplug_get_interface(),
// init(), threads they start) ever runs unfiltered; the second, narrower,
// after init() and before the plugin sees a credential. What a plugin may
// do in each is listed in docs/SANDBOX.md; keep the two in step.
#pragma once

namespace credplug::runner {

enum class Stage {
  Load,  // the loader, constructors and init(): reading files too
  Call,  // after init(): computing and the descriptors already open
};

// Compiles both stages' filters (and what a stop reports) without applying
// anything: a spare runner does it before it knows its plugin. Once per
// process, after the namespaces (the filters name this process's id);
// enter_load_sandbox() does it where it was not done. Throws
// std::runtime_error.
void prepare_sandbox();

// No core dumps, not dumpable, no capabilities, no new privileges, rlimits, then a seccomp-bpf filter (libseccomp) on
// every thread that allows computing, the descriptors already open (the
// channel; 0-2 are /dev/null) and opening files read-only. Throws
// std::runtime_error saying which step failed.
void enter_load_sandbox();

// A second filter on every thread, stacked on the first (the kernel applies
// the stricter answer): no file is opened any more.
void enter_call_sandbox();

}  // namespace credplug::runner
