// Per-thread readers: how a value read by every thread (a cached token) is
// read with no lock and no write to memory another thread touches.
//
// Each owner (a TokenCache) gives each thread that reads it a reader of its
// own, filled under the owner's lock and validated on each read by the
// owner's version number (an acquire load of a line only writers change).
// The calling thread finds its reader for an owner through a small table of
// its own, keyed by the owner's id: ids are never reused in a process, so a
// slot of an owner since destroyed never matches again.
//
// A reader belongs to the owner and is freed with it; its thread is known by
// a ReaderThread, which says when that thread has exited, so the owner can
// give the reader to a new thread instead of growing one per thread ever
// started.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace credplug::host {

struct ReaderThread {
  std::atomic<bool> alive{true};  // false once its thread has exited (release)
};

// The calling thread's ReaderThread (and its table), made on first use; null
// while the thread's thread-local objects are being destroyed (then read
// through the owner's lock instead).
const std::shared_ptr<ReaderThread> *this_reader_thread();

// A new owner id: 1, 2, ...; never reused in this process.
uint64_t new_reader_owner_id();

// One entry of the calling thread's table: an owner's id and the reader it
// gave this thread.
struct ReaderSlot {
  uint64_t owner;
  void *reader;
};
inline constexpr size_t kReaderSlots = 64;  // a thread reading more owners than this in turn looks some up again

// The calling thread's table, made with its ReaderThread; null before, and
// again once the thread exits. `__thread`: no dynamic initialiser to check
// for on each read. (Not the initial-exec model, one load fewer: a library
// loaded by dlopen() after the process's static TLS is spent then fails to
// load, as Python's ctypes showed.)
extern __thread ReaderSlot *t_reader_table;

// The calling thread's slot for `owner`, or null when the thread has no table.
inline ReaderSlot *reader_slot(uint64_t owner) {
  ReaderSlot *table = t_reader_table;
  return table == nullptr ? nullptr : &table[owner % kReaderSlots];
}

}  // namespace credplug::host
