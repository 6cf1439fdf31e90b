// The command a command line names, found before CLI11 parses it: CLI11
// answers a mistyped command ("credplug tset") only with "A subcommand is
// required"; this finds the word and the nearest command to suggest.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace credplug::cli {

// The first word of argv that is neither an option of `app` nor an option's
// value, or nullopt.
std::optional<std::string> command_word(const CLI::App &app, int argc, char **argv);

// The choice nearest to `word` (at most 2 edits: insertions, deletions,
// substitutions or swaps of neighbours), or nullopt.
std::optional<std::string> nearest(const std::string &word, const std::vector<std::string> &choices);

}  // namespace credplug::cli
