#include "transport/file_identity.hpp"

#include "plugin/errno_text.hpp"
#include "plugin/plugin_open.hpp"

#include <cerrno>

namespace credplug::host {

std::string FileIdentity::key() const {
  return std::to_string(dev) + ':' + std::to_string(ino) + ':' + std::to_string(size) + ':' +
         std::to_string(mtime.tv_sec) + '.' + std::to_string(mtime.tv_nsec) + ':' + std::to_string(ctime.tv_sec) + '.' +
         std::to_string(ctime.tv_nsec);
}

FileIdentity identity_of(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw LoadError("cannot read " + path + ": " + errno_text(errno));
  return FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

}  // namespace credplug::host
