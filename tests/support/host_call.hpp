// A credplug_call as the host makes one, for unit tests that call the host
// API table directly (as an in-process plugin does): its own redactor, and
// whether a value has become a secret of the call.
#pragma once

#include "transport/host_services.hpp"

#include <string>

namespace credplug::testing {

struct HostCall {
  host::Redactor redactor;
  credplug_call call;
  HostCall() { call.redactor = &redactor; }
  bool secret(const std::string &value) const { return redactor.apply(value) != value; }
};

}  // namespace credplug::testing
