// The ELF reader that decides, before any plugin code runs, whether a file
// exports the entry point: any bytes, no crash, no read out of bounds.
#include "plugin/elf_exports.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int fd = memfd_create("fuzz-elf", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) return 0;
  try {
    (void)credplug::host::elf_exports(path, "credplug_get_interface");
  } catch (const credplug::host::ElfError &) {
  }
  return 0;
}
