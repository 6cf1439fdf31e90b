// Which file a plugin was loaded from, as the file system says: a replaced
// or rewritten file has another inode or a newer ctime (which no one but
// root can set back). Cheaper than hashing a 2.6 MB plugin on every look.
#pragma once

#include <sys/stat.h>

#include <string>

namespace credplug::host {

struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  struct timespec mtime {
  }, ctime{};
  bool operator==(const FileIdentity &o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
  }
  bool operator!=(const FileIdentity &o) const { return !(*this == o); }
  // The same, as text: part of a loaded plugin's key, so a changed file is
  // loaded afresh.
  std::string key() const;
};

// Throws LoadError when the file cannot be read.
FileIdentity identity_of(const std::string &path);

}  // namespace credplug::host
