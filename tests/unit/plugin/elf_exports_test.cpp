#include "plugin/elf_exports.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

using credplug::host::elf_exports;
using credplug::host::ElfError;

namespace {
std::string temp_copy(const std::string &from, const std::string &name, size_t truncate_to = 0) {
  std::string to = std::filesystem::temp_directory_path() / ("credplug-elf-" + std::to_string(::getpid()) + "-" + name);
  std::ifstream in(from, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (truncate_to) bytes.resize(truncate_to);
  std::ofstream(to, std::ios::binary) << bytes;
  return to;
}
}  // namespace

TEST_CASE("the entry symbol is found in .dynsym, also in a stripped plugin") {
  CHECK(elf_exports(CREDPLUG_AINUA_PLUGIN, "credplug_get_interface"));
  CHECK_FALSE(elf_exports(CREDPLUG_AINUA_PLUGIN, "credplug_get_interfac"));
  CHECK_FALSE(elf_exports(CREDPLUG_AINUA_PLUGIN, "main"));
  std::string stripped = temp_copy(CREDPLUG_AINUA_PLUGIN, "stripped.so");
  REQUIRE(std::system(("strip --strip-all " + stripped).c_str()) == 0);
  CHECK(elf_exports(stripped, "credplug_get_interface"));
  std::filesystem::remove(stripped);
}

TEST_CASE("files that are not shared libraries are refused with a reason") {
  std::string text = temp_copy(CREDPLUG_SCHEMA_DIR "/ainua.schema.json", "text.so");
  CHECK_THROWS_WITH_AS(elf_exports(text, "x"), "is not an ELF file", ElfError);
  std::string truncated = temp_copy(CREDPLUG_AINUA_PLUGIN, "truncated.so", 100);
  CHECK_THROWS_AS(elf_exports(truncated, "credplug_get_interface"), ElfError);
  CHECK_THROWS_WITH_AS(elf_exports("/nonexistent/x.so", "x"), "cannot be opened", ElfError);
  // Every prefix of a real plugin: refused or answered, never a crash.
  for (size_t n : {16u, 64u, 65u, 200u, 4096u, 8192u}) {
    std::string cut = temp_copy(CREDPLUG_AINUA_PLUGIN, "cut.so", n);
    try {
      elf_exports(cut, "credplug_get_interface");
    } catch (const ElfError &) {
    }
    std::filesystem::remove(cut);
  }
  std::filesystem::remove(text);
  std::filesystem::remove(truncated);
}
