// The rules for a credential's state (plugin.h, minor 4: state, out_state):
// what a plugin may hand the embedder to persist, and what of it is secret.
#pragma once

#include "secrets/redactor.hpp"

#include <credplug/types.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

// How deep a state may nest: a refresh token and a few scopes need 3.
constexpr unsigned kMaxStateDepth = 16;

// Why `json` cannot be a credential's state (not a JSON object, over
// CREDPLUG_MAX_STATE_BYTES, deeper than kMaxStateDepth, not UTF-8, "\u0000"),
// naming the limit and position but never the text; nullopt when it can.
std::optional<std::string> state_problem(std::string_view json);

// Every string in a state that passed state_problem(), keys aside: each is
// a secret wherever the credential's text goes.
std::vector<SecretString> state_secrets(std::string_view json);

// What every door a state comes in by does: its strings become secrets of
// `redactor` first (even a refused state may be quoted by whoever refused
// it), then state_problem(). nullopt when the state can be kept.
// `epoch`: as Redactor::add's (a token request's new state: its epoch).
std::optional<std::string> accept_state(Redactor &redactor, std::string_view json, uint64_t epoch = 0);

}  // namespace credplug::host
