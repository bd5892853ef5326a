// IoMutex: the lock that serialises the synchronous operations of one pipe end. Taken twice per
// message (once by the writer's end, once by the reader's), uncontended almost always: its fast
// path is one compare-and-swap and one exchange, where glibc's mutex spends about 110
// instructions on a lock and unlock pair (callgrind, BM_Ring_PipeEndWriteThenRead/64).
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::core {

/// A mutex (Lockable) of three states: free, held, held with waiters; waiters sleep in
/// std::atomic::wait (a futex on Linux), and an unlock wakes one only when one may sleep.
class IoMutex {
 public:
  void lock() noexcept {
    std::uint32_t seen = kFree;
    if (state_.compare_exchange_strong(seen, kHeld, std::memory_order_acquire)) return;
    if (seen != kContended) seen = state_.exchange(kContended, std::memory_order_acquire);
    while (seen != kFree) {
      state_.wait(kContended, std::memory_order_relaxed);
      seen = state_.exchange(kContended, std::memory_order_acquire);
    }
  }
  bool try_lock() noexcept {
    std::uint32_t seen = kFree;
    return state_.compare_exchange_strong(seen, kHeld, std::memory_order_acquire);
  }
  void unlock() noexcept {
    if (state_.exchange(kFree, std::memory_order_release) == kContended) state_.notify_one();
  }

 private:
  static constexpr std::uint32_t kFree = 0, kHeld = 1, kContended = 2;
  std::atomic<std::uint32_t> state_{kFree};
};

}  // namespace sluice::core
