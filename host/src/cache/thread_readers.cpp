#include "cache/thread_readers.hpp"

namespace credplug::host {

__thread ReaderSlot *t_reader_table = nullptr;

namespace {

thread_local bool t_exiting = false;

// Destroyed with the thread's other thread-local objects: from then on the
// thread has no readers (the table is cleared, so the fast path misses) and
// its readers may go to other threads.
struct ThisThread {
  std::shared_ptr<ReaderThread> mark = std::make_shared<ReaderThread>();
  std::unique_ptr<ReaderSlot[]> table{new ReaderSlot[kReaderSlots]()};
  ThisThread() { t_reader_table = table.get(); }
  ~ThisThread() {
    t_exiting = true;
    t_reader_table = nullptr;
    mark->alive.store(false, std::memory_order_release);
  }
};

}  // namespace

const std::shared_ptr<ReaderThread> *this_reader_thread() {
  if (t_exiting) return nullptr;
  thread_local ThisThread self;
  return &self.mark;
}

uint64_t new_reader_owner_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace credplug::host
