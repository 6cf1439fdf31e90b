#include "elf_exports.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
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

constexpr size_t kMaxFile = size_t(1) << 30;  // refuse to read absurd files

template <class T>
bool read_at(const std::vector<char> &file, uint64_t offset, T &out) {
  if (offset > file.size() || file.size() - offset < sizeof(T)) return false;
  std::memcpy(&out, file.data() + offset, sizeof(T));
  return true;
}

}  // namespace

bool elf_exports(const std::string &path, const std::string &symbol) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ElfError("cannot be opened");
  in.seekg(0, std::ios::end);
  auto size = static_cast<uint64_t>(in.tellg());
  if (size > kMaxFile) throw ElfError("is larger than 1 GiB");
  in.seekg(0);
  std::vector<char> file(static_cast<size_t>(size));
  if (!in.read(file.data(), std::streamsize(file.size()))) throw ElfError("cannot be read");

  Ehdr eh;
  if (!read_at(file, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) throw ElfError("is not an ELF file");
  if (eh.e_ident[EI_CLASS] != kClass) throw ElfError("is an ELF file for another word size");
  const unsigned char native = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? ELFDATA2LSB : ELFDATA2MSB;
  if (eh.e_ident[EI_DATA] != native) throw ElfError("is an ELF file for another byte order");
  if (eh.e_type != ET_DYN) throw ElfError("is an ELF file but not a shared library");
  if (eh.e_shentsize != sizeof(Shdr)) throw ElfError("has a malformed section table");

  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    Shdr dynsym;
    if (!read_at(file, eh.e_shoff + i * sizeof(Shdr), dynsym)) throw ElfError("has a truncated section table");
    if (dynsym.sh_type != SHT_DYNSYM) continue;
    Shdr strtab;
    if (dynsym.sh_link >= eh.e_shnum || !read_at(file, eh.e_shoff + uint64_t(dynsym.sh_link) * sizeof(Shdr), strtab) ||
        strtab.sh_offset > file.size() || file.size() - strtab.sh_offset < strtab.sh_size)
      throw ElfError("has a malformed dynamic string table");
    const char *strings = file.data() + strtab.sh_offset;
    for (uint64_t off = 0; off + sizeof(Sym) <= dynsym.sh_size; off += sizeof(Sym)) {
      Sym sym;
      if (!read_at(file, dynsym.sh_offset + off, sym)) throw ElfError("has a truncated dynamic symbol table");
      if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strtab.sh_size) continue;
      if (sym_bind(sym) != STB_GLOBAL && sym_bind(sym) != STB_WEAK) continue;
      if (sym_type(sym) != STT_FUNC && sym_type(sym) != STT_OBJECT) continue;
      const char *name = strings + sym.st_name;
      size_t max = size_t(strtab.sh_size - sym.st_name);
      if (strnlen(name, max) == symbol.size() && std::memcmp(name, symbol.data(), symbol.size()) == 0) return true;
    }
    return false;
  }
  return false;  // no dynamic symbol table: exports nothing
}

}  // namespace credplug::host
