// `credplug new ID --lang c|cpp [DIR]`: a buildable out-of-tree plugin
// project, made from the examples (examples/c-plugin, examples/cpp-plugin)
// that the test suite builds and runs, with the id and names replaced.
#pragma once

#include <string>
#include <vector>

namespace credplug::cli {

struct ScaffoldReport {
  std::string dir;
  std::vector<std::string> files;  // written into dir, in order
  int source_lines = 0;
};

// Throws credplug::Error (InvalidInput) for a bad id or language, or a
// directory that exists and is not empty. Its test.sh finds credplug on
// PATH (or in $CREDPLUG_BIN): nothing of this machine is written into it.
ScaffoldReport write_scaffold(const std::string &id, const std::string &lang, std::string dir);

}  // namespace credplug::cli
