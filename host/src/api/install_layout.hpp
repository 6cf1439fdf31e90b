// Where an installation's files are, found from the file this code was
// loaded from: the `credplug` executable (<prefix>/bin) or the embedding
// library libcredplug-host.so (<prefix>/lib or <prefix>/lib/<multiarch>).
// Never from argv[0] and never relative to the current directory: whoever
// controls the working directory must not choose the runner that receives
// credentials, or the plugins that load.
#pragma once

#include <string>

namespace credplug::host {

// The absolute, symlink-free path of the executable or shared library this
// code is linked into: /proc/self/exe for an executable, the loader's record
// (made absolute through /proc/self/maps when it is relative) for a library.
// Empty when it cannot be told.
std::string code_file();

// Paths below the installation prefix, each empty when code_file() is.
struct InstallLayout {
  std::string prefix;       // /usr/local
  std::string plugin_dir;   // <prefix>/lib/credplug/plugins (beside the library when it is in lib/<multiarch>)
  std::string runner_path;  // <prefix>/libexec/credplug/credplug-plugin-runner
  std::string schema_dir;   // <prefix>/share/credplug/schemas
  std::string doc_dir;      // <prefix>/share/doc/credplug
};

// The layout around code_file().
InstallLayout install_layout();
// The layout around an executable or library at `file` (absolute).
InstallLayout layout_around(const std::string &file);

}  // namespace credplug::host
