// The runner's second wall: new user, mount, network, PID, IPC and UTS
// namespaces, entered before the plugin file is opened. Inside them
// the runner has no network at all (the host does every request), sees no
// process but its own, and sees a read-only file view: the system's
// libraries (/usr and its links), the loader's cache, a few devices and the
// plugin's directory. The seccomp filter (sandbox.hpp) is the first wall;
// this one holds where a filter rule would be too coarse (which files a
// read-only open may reach at load). docs/SANDBOX.md, "Namespaces".
#pragma once

#include <functional>
#include <string>

namespace credplug::runner {

struct NamespaceOutcome {
  bool entered = false;
  std::string why_not;  // when not entered: what the kernel said, and what usually causes it
};

// Enters the namespaces and begins the file view (the system's part, on a
// new root not yet made the root), then returns in the process that goes on
// to load the plugin: the first process of a new PID namespace (no other can
// start there: the filter refuses processes). The process the host started
// stays outside it, waiting, and ends as that process ends (by the same exit
// status or signal). Where the kernel refuses a user namespace (or lacks the
// mount API of Linux 5.12), returns in the calling process with `why_not`
// said, having changed nothing. Throws std::runtime_error when a namespace
// was entered but the view could not be begun: the runner must not go on
// behind half a wall.
//
// `before_view` runs in the process that goes on, while the host's file
// system is still in view (to open what the runner keeps: its own
// /proc/<pid>/stat). `named_outside` runs in the process outside when the
// runner calls name_outside(). Must be called while the runner is a single
// thread.
NamespaceOutcome enter_namespaces(const std::function<void()> &before_view,
                                  const std::function<void(const char *)> &named_outside);

// Adds the plugin's directory to the view and makes the view the root: the
// host's file system is out of sight from then on. `plugin_file` is an
// absolute path, opened afterwards at the same path. Only after
// enter_namespaces() entered them; throws std::runtime_error.
void finish_view(const std::string &plugin_file);

// Tells the process outside which plugin file this runner serves, for its
// command line (a spare runner learns it after the namespaces are entered).
void name_outside(const std::string &plugin_file);

}  // namespace credplug::runner
