#include "api/install_layout.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace credplug::host {
namespace {

// The file /proc/self/maps shows mapped at `address` (the kernel's absolute
// path), or "".
std::string mapped_file(const void *address) {
  std::ifstream maps("/proc/self/maps");
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2 || at < start || at >= end) continue;
    const size_t slash = line.find('/');
    return slash == std::string::npos ? std::string() : line.substr(slash);
  }
  return "";
}

fs::path runner_below(const fs::path &prefix) { return prefix / "libexec" / "credplug" / "credplug-plugin-runner"; }

std::string absolute_real(const std::string &path) {
  if (path.empty() || path.front() != '/') return "";
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  return ec ? std::string() : real.string();
}

}  // namespace

std::string code_file() {
  Dl_info info{};
  link_map *map = nullptr;
  const void *here = reinterpret_cast<const void *>(&code_file);
  if (dladdr1(here, &info, reinterpret_cast<void **>(&map), RTLD_DL_LINKMAP) == 0 || map == nullptr) return "";
  // The main program's record has no name (dli_fname is then argv[0]).
  if (map->l_name == nullptr || map->l_name[0] == '\0') {
    std::error_code ec;
    return absolute_real(fs::read_symlink("/proc/self/exe", ec).string());
  }
  if (map->l_name[0] == '/') return absolute_real(map->l_name);
  return absolute_real(mapped_file(here));  // loaded by a relative name
}

InstallLayout install_layout() { return layout_around(code_file()); }

InstallLayout layout_around(const std::string &file) {
  InstallLayout layout;
  if (file.empty()) return layout;
  const fs::path dir = fs::path(file).parent_path();  // <prefix>/bin, <prefix>/lib or <prefix>/lib/<multiarch>
  std::error_code ec;
  // The prefix is above bin/ or lib/; for a library in lib/<multiarch>, the
  // one above lib/ when that holds the runner.
  fs::path prefix = dir.parent_path();
  if (const fs::path above_lib = dir.parent_path().parent_path(); dir.parent_path().filename() == "lib" &&
                                                                  !fs::exists(runner_below(prefix), ec) &&
                                                                  fs::exists(runner_below(above_lib), ec))
    prefix = above_lib;
  layout.prefix = prefix.string();
  // Plugins sit beside a library in lib/<multiarch>, else in <prefix>/lib.
  const fs::path beside = dir / "credplug" / "plugins";
  layout.plugin_dir =
      fs::is_directory(beside, ec) ? beside.string() : (prefix / "lib" / "credplug" / "plugins").string();
  layout.runner_path = runner_below(prefix).string();
  layout.schema_dir = (prefix / "share" / "credplug" / "schemas").string();
  layout.doc_dir = (prefix / "share" / "doc" / "credplug").string();
  return layout;
}

}  // namespace credplug::host
