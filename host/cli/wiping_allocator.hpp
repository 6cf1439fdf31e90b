// A RapidJSON allocator whose memory is wiped (OPENSSL_cleanse) before it is
// freed: the sidecar's request bodies carry credentials and states, and
// every parsed copy of them lives in such memory. A size header in front of
// each block says how much to wipe (RapidJSON frees without a size).
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace credplug::cli {

class WipingAllocator {
 public:
  static const bool kNeedFree = true;

  void *Malloc(size_t size) {
    if (size == 0) return nullptr;
    auto *block = static_cast<unsigned char *>(std::malloc(size + kHeader));
    if (block == nullptr) return nullptr;
    std::memcpy(block, &size, sizeof size);
    return block + kHeader;
  }

  void *Realloc(void *original, size_t original_size, size_t new_size) {
    (void)original_size;
    if (new_size == 0) {
      Free(original);
      return nullptr;
    }
    void *moved = Malloc(new_size);
    if (moved && original) {
      const size_t old_size = size_of(original);
      std::memcpy(moved, original, old_size < new_size ? old_size : new_size);
      Free(original);
    }
    return moved;
  }

  static void Free(void *p) noexcept {
    if (p == nullptr) return;
    OPENSSL_cleanse(p, size_of(p));
    std::free(static_cast<unsigned char *>(p) - kHeader);
  }

  bool operator==(const WipingAllocator &) const noexcept { return true; }
  bool operator!=(const WipingAllocator &) const noexcept { return false; }

 private:
  static constexpr size_t kHeader = alignof(std::max_align_t);
  static size_t size_of(void *p) {
    size_t size = 0;
    std::memcpy(&size, static_cast<unsigned char *>(p) - kHeader, sizeof size);
    return size;
  }
};

}  // namespace credplug::cli
