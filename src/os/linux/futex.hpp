// Futex waits and wakes, on process-local words and on words in shared segments.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace sluice::os {

/// One word to wait on and the value it must still hold for the wait to sleep.
struct FutexWaiter {
  const std::atomic<std::uint32_t>* word;
  std::uint32_t expected;
  bool shared;  ///< in memory shared with other processes (a mapped segment)
};

/// The most words one futex_wait_any may watch (the kernel's FUTEX_WAITV_MAX).
inline constexpr int kMaxFutexWaiters = 128;

/// Sleeps until one of the words (at most kMaxFutexWaiters) is woken or no longer holds its
/// expected value, or until `deadline` (steady clock; nullopt = no time-out). Returns false on
/// time-out. Spurious returns are possible: callers re-check their condition.
bool futex_wait_any(const FutexWaiter* waiters, int count,
                    std::optional<std::chrono::steady_clock::time_point> deadline);

/// Wakes every thread sleeping on `word` in any process.
void futex_wake_all(const std::atomic<std::uint32_t>* word, bool shared) noexcept;

}  // namespace sluice::os
