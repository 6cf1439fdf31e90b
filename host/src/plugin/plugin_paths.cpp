#include "plugin_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace credplug::host {
namespace {

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

std::optional<std::string> unsafe(const fs::path &path, bool is_file) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // a missing path is reported when it is opened
  const bool sticky_dir = !is_file && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
  if ((st.st_mode & S_IWOTH) && !sticky_dir)
    return std::string(is_file ? "it" : "the directory " + path.string()) + " is writable by every user (mode " +
           mode_text(st.st_mode) + ")";
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return std::string(is_file ? "it" : "the directory " + path.string()) + " is owned by user " +
           std::to_string(st.st_uid) + ", neither root nor the user running credplug (" + std::to_string(::geteuid()) +
           ")";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> unsafe_plugin_path(const std::string &file) {
  std::error_code ec;
  fs::path real = fs::weakly_canonical(file, ec);
  if (ec) real = fs::absolute(file, ec);
  if (auto why = unsafe(real, true)) return why;
  for (fs::path dir = real.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (auto why = unsafe(dir, false)) return why;
    if (dir == dir.root_path()) break;
  }
  return std::nullopt;
}

bool valid_plugin_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}

std::string conventional_plugin_id(const std::string &file) {
  std::string name = fs::path(file).filename().string();
  const std::string prefix = "credplug-";
  for (const std::string suffix : {".so", ".provider.json"})
    if (name.size() > prefix.size() + suffix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return "";
}

std::string canonical_path(const std::string &path) {
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(path, ec).string();
  return ec ? path : canonical;
}

}  // namespace credplug::host
