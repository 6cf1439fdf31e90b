#include "transport/plugin_pins.hpp"

#include "base/fork_gate.hpp"
#include "plugin/errno_text.hpp"
#include "plugin/plugin_paths.hpp"

#include <credplug/kit/encoding.hpp>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace credplug::host {
namespace {

constexpr size_t kMaxPinFileBytes = 1 << 20;

bool valid_sha256(const std::string &hex) {
  if (hex.size() != 64) return false;
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

PinFile read_pin_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the pin file '" + path + "': " + errno_text(errno));
  std::string text;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    if (text.size() > kMaxPinFileBytes)
      throw std::runtime_error("the pin file '" + path + "' is larger than " + std::to_string(kMaxPinFileBytes) +
                               " bytes");
  }
  PinFile pins;
  pins.path = path;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    line = line.substr(0, line.find('#'));  // comments, whole-line or trailing
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string id, hash, extra;
    fields >> id >> hash >> extra;
    for (auto &c : hash) c = char(std::tolower(static_cast<unsigned char>(c)));
    const std::string where = "the pin file '" + path + "', line " + std::to_string(number) + ": ";
    if (!extra.empty() || hash.empty()) throw std::runtime_error(where + "expected '<plugin id> <sha256 hex>'");
    if (!valid_plugin_id(id)) throw std::runtime_error(where + "'" + id + "' is not a plugin id (1-64 of [a-z0-9_-])");
    if (!valid_sha256(hash)) throw std::runtime_error(where + "the hash is not 64 hexadecimal digits (SHA-256)");
    if (!pins.sha256_by_id.emplace(id, hash).second)
      throw std::runtime_error(where + "plugin '" + id + "' is pinned twice");
  }
  return pins;
}

std::string file_sha256(const std::string &path) {
  OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "' to hash it: " + errno_text(errno));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf, size_t(in.gcount()));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return kit::hex_encode(std::string_view(reinterpret_cast<const char *>(digest), len));
}

std::string pinned_id(const PinFile &pins, const std::string &named, const std::string &sha256) {
  if (!named.empty()) {
    auto pin = pins.sha256_by_id.find(named);
    if (pin == pins.sha256_by_id.end())
      throw std::runtime_error("plugin '" + named + "' is not in the pin file " + pins.path + " (its sha256 is " +
                               sha256 + ")");
    if (pin->second != sha256)
      throw std::runtime_error("its sha256 is " + sha256 + ", but the pin file " + pins.path + " pins plugin '" +
                               named + "' to " + pin->second + " (a changed or replaced file)");
    return named;
  }
  for (const auto &[id, hash] : pins.sha256_by_id)
    if (hash == sha256) return id;
  throw std::runtime_error("its sha256 (" + sha256 + ") is not in the pin file " + pins.path);
}

}  // namespace credplug::host
