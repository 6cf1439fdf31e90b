#include "command_words.hpp"

#include <algorithm>

namespace credplug::cli {

std::optional<std::string> command_word(const CLI::App &app, int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return i + 1 < argc ? std::optional<std::string>(argv[i + 1]) : std::nullopt;
    if (arg.empty() || arg[0] != '-') return arg;
    if (arg.find('=') != std::string::npos) continue;  // --name=value
    const CLI::Option *option = app.get_option_no_throw(arg);
    if (option != nullptr && option->get_items_expected_min() != 0) ++i;  // its value (flags take none)
  }
  return std::nullopt;
}

std::optional<std::string> nearest(const std::string &word, const std::vector<std::string> &choices) {
  // Optimal string alignment distance: Levenshtein plus swaps of neighbours.
  auto distance = [](const std::string &a, const std::string &b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
      for (size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  };
  std::optional<std::string> best;
  size_t best_distance = 3;
  for (const auto &choice : choices)
    if (size_t dist = distance(word, choice); dist < best_distance) best = choice, best_distance = dist;
  return best;
}

}  // namespace credplug::cli
