// Does a file export a symbol — read from its ELF dynamic symbol table
// (.dynsym, what dlopen() resolves against), without loading it, so that no
// code in a file that is not a plugin ever runs.
//
// Not Boost.DLL's library_info: in Boost 1.74 it reads .symtab (absent from
// stripped libraries) and pairs it with the last string table in the file
// rather than the one sh_link names, so whether it finds a symbol depends on
// section layout.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace credplug::host {

class ElfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when `path` is an ELF shared object of this machine's class and byte
// order whose .dynsym defines a global function or object named `symbol`.
// Throws ElfError saying why the file is not a loadable shared library.
bool elf_exports(const std::string &path, const std::string &symbol);

// The global functions and objects `path` exports whose names contain
// `fragment` (a C++-mangled "credplug_get_interface", say). Throws ElfError.
std::vector<std::string> elf_exports_containing(const std::string &path, const std::string &fragment);

}  // namespace credplug::host
