#include "elf_exports.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstring>
#include <vector>

namespace credplug::host {
namespace {

#if UINTPTR_MAX == 0xffffffffffffffffu
using Ehdr = Elf64_Ehdr;
using Shdr = Elf64_Shdr;
using Sym = Elf64_Sym;
constexpr unsigned char kClass = ELFCLASS64;
inline unsigned char sym_type(const Sym &s) { return ELF64_ST_TYPE(s.st_info); }
inline unsigned char sym_bind(const Sym &s) { return ELF64_ST_BIND(s.st_info); }
#else
using Ehdr = Elf32_Ehdr;
using Shdr = Elf32_Shdr;
using Sym = Elf32_Sym;
constexpr unsigned char kClass = ELFCLASS32;
inline unsigned char sym_type(const Sym &s) { return ELF32_ST_TYPE(s.st_info); }
inline unsigned char sym_bind(const Sym &s) { return ELF32_ST_BIND(s.st_info); }
#endif

// Reads only the parts it needs (the header, the section table, the dynamic
// symbols and their strings: a few KiB), not the whole file: a plugin with
// debug information is megabytes, and every load, in every runner, checks it.
class ElfReader {
 public:
  explicit ElfReader(const std::string &path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) throw ElfError("cannot be opened");
    if (!S_ISREG(st.st_mode)) throw ElfError("is not a regular file");
    size_ = uint64_t(st.st_size);
  }
  ~ElfReader() { ::close(fd_); }
  ElfReader(const ElfReader &) = delete;
  ElfReader &operator=(const ElfReader &) = delete;

  template <class T>
  bool read_at(uint64_t offset, T &out) const {
    return fits(offset, sizeof(T)) && pread_all(reinterpret_cast<char *>(&out), sizeof(T), offset);
  }
  bool read_range(uint64_t offset, uint64_t n, std::vector<char> &out) const {
    if (!fits(offset, n)) return false;
    out.resize(size_t(n));
    return pread_all(out.data(), out.size(), offset);
  }

 private:
  bool fits(uint64_t offset, uint64_t n) const { return offset <= size_ && size_ - offset >= n; }
  bool pread_all(char *p, size_t n, uint64_t offset) const {
    while (n > 0) {
      ssize_t r = ::pread(fd_, p, n, off_t(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      p += r, n -= size_t(r), offset += uint64_t(r);
    }
    return true;
  }
  int fd_;
  uint64_t size_ = 0;
};

}  // namespace

namespace {

// Calls `visit` with each global function or object name `path` exports
// (its .dynsym), until it returns true. Throws ElfError.
template <class Visit>
void for_each_export(const std::string &path, Visit &&visit) {
  ElfReader file(path);
  Ehdr eh;
  if (!file.read_at(0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) throw ElfError("is not an ELF file");
  if (eh.e_ident[EI_CLASS] != kClass) throw ElfError("is an ELF file for another word size");
  const unsigned char native = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? ELFDATA2LSB : ELFDATA2MSB;
  if (eh.e_ident[EI_DATA] != native) throw ElfError("is an ELF file for another byte order");
  if (eh.e_type != ET_DYN) throw ElfError("is an ELF file but not a shared library");
  if (eh.e_shentsize != sizeof(Shdr)) throw ElfError("has a malformed section table");

  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    Shdr dynsym;
    if (!file.read_at(eh.e_shoff + i * sizeof(Shdr), dynsym)) throw ElfError("has a truncated section table");
    if (dynsym.sh_type != SHT_DYNSYM) continue;
    Shdr strtab;
    std::vector<char> strings, symbols;
    if (dynsym.sh_link >= eh.e_shnum || !file.read_at(eh.e_shoff + uint64_t(dynsym.sh_link) * sizeof(Shdr), strtab) ||
        !file.read_range(strtab.sh_offset, strtab.sh_size, strings))
      throw ElfError("has a malformed dynamic string table");
    if (!file.read_range(dynsym.sh_offset, dynsym.sh_size, symbols))
      throw ElfError("has a truncated dynamic symbol table");
    for (uint64_t off = 0; off + sizeof(Sym) <= symbols.size(); off += sizeof(Sym)) {
      Sym sym;
      std::memcpy(&sym, symbols.data() + off, sizeof sym);
      if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strings.size()) continue;
      if (sym_bind(sym) != STB_GLOBAL && sym_bind(sym) != STB_WEAK) continue;
      if (sym_type(sym) != STT_FUNC && sym_type(sym) != STT_OBJECT) continue;
      const char *name = strings.data() + sym.st_name;
      if (visit(std::string_view(name, strnlen(name, strings.size() - size_t(sym.st_name))))) return;
    }
    return;
  }
  // no dynamic symbol table: exports nothing
}

}  // namespace

bool elf_exports(const std::string &path, const std::string &symbol) {
  bool found = false;
  for_each_export(path, [&](std::string_view name) { return found = name == symbol; });
  return found;
}

std::vector<std::string> elf_exports_containing(const std::string &path, const std::string &fragment) {
  std::vector<std::string> out;
  for_each_export(path, [&](std::string_view name) {
    if (name.find(fragment) != std::string_view::npos) out.emplace_back(name);
    return false;
  });
  return out;
}

}  // namespace credplug::host
