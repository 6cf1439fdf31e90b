// The runner's sandbox, entered after the plugin is loaded and initialised
// and before it sees a credential. What a plugin may do inside it is listed
// in docs/SANDBOX.md; keep the two in step.
#pragma once

namespace credplug::runner {

// No core dumps, no new privileges, rlimits, then a seccomp-bpf filter
// (libseccomp) that allows only computing and talking over the descriptors
// already open (the channel; 0-2 are /dev/null). Throws std::runtime_error
// saying which step failed.
void enter_sandbox();

}  // namespace credplug::runner
