// Installed files are found from the file the code was loaded from: here the
// unit_tests executable in <build>/bin, whose tree mirrors an installation.
#include "api/install_layout.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace credplug::host;

TEST_CASE("install layout: the executable itself, whatever the working directory") {
  const std::string self = fs::canonical("/proc/self/exe").string();
  CHECK(code_file() == self);
  const fs::path before = fs::current_path();
  fs::current_path("/");  // a relative lookup would now land elsewhere
  const InstallLayout layout = install_layout();
  fs::current_path(before);
  const fs::path prefix = fs::path(self).parent_path().parent_path();
  CHECK(layout.prefix == prefix.string());
  CHECK(layout.runner_path == (prefix / "libexec/credplug/credplug-plugin-runner").string());
  CHECK(fs::exists(layout.runner_path));
  CHECK(layout.plugin_dir == (prefix / "lib/credplug/plugins").string());
  CHECK(layout.schema_dir == (prefix / "share/credplug/schemas").string());
  CHECK(layout.doc_dir == (prefix / "share/doc/credplug").string());
}

TEST_CASE("install layout: a library in lib/<multiarch> finds the runner above lib/ and its plugins beside it") {
  const fs::path root = fs::temp_directory_path() / ("credplug-layout-" + std::to_string(::getpid()));
  fs::create_directories(root / "usr/lib/x86_64-linux-gnu/credplug/plugins");
  fs::create_directories(root / "usr/libexec/credplug");
  std::ofstream(root / "usr/libexec/credplug/credplug-plugin-runner").put('\n');
  const InstallLayout lib = layout_around((root / "usr/lib/x86_64-linux-gnu/libcredplug-host.so.0").string());
  CHECK(lib.prefix == (root / "usr").string());
  CHECK(lib.runner_path == (root / "usr/libexec/credplug/credplug-plugin-runner").string());
  CHECK(lib.plugin_dir == (root / "usr/lib/x86_64-linux-gnu/credplug/plugins").string());
  // A program in some bin/ that is not an installation's finds nothing above it.
  const InstallLayout stray = layout_around((root / "usr/lib/x86_64-linux-gnu/bin/credplug").string());
  CHECK(stray.prefix == (root / "usr/lib/x86_64-linux-gnu").string());
  CHECK(layout_around("").prefix.empty());
  fs::remove_all(root);
}
