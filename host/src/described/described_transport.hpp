// A provider described in JSON (provider_description.hpp) as a plugin:
// the host interprets the description in its own process, whichever
// isolation the Host uses — no code of the author's runs, so there is
// nothing to wall in. Its calls take the same road as a plugin's: the
// credential_call, its redactor, output checks and egress policy, the token
// cache, the fleet cache.
#pragma once

#include "transport/plugin_transport.hpp"

#include <memory>
#include <string>

namespace credplug::host {

// Reads, checks and compiles the description at `path` (at most
// kMaxProviderDescriptionBytes). Throws LoadError naming the member that is
// wrong, or a template's field the credential schema does not define, or a
// secret the schema does not mark writeOnly.
std::shared_ptr<PluginTransport> load_described(const std::string &path);

}  // namespace credplug::host
