// Held wakes: a thread that writes to many pipes in a burst wakes their readers together.
//
// Each wake of a sleeping reader in another process costs the writer a futex system call, and
// the woken reader, placed on the writer's CPU, usually preempts the writer as that call
// returns: a completion-port thread answering 64 clients was switched out once per reply. A
// thread that holds its wakes issues them later in one io_uring submission (one system call,
// one preemption at most), when it releases them: at the latest after kMaxHeldWakes. A keeper
// thread wakes whatever a thread has held for 50 to 100 ms (one that blocked outside sluice in
// mid-burst), so no reader waits without bound.
//
// Only wakes of words in shared segments are held (readers in other processes; a reader in
// this process sleeps on the same shared word and is held back alike). Where io_uring or its
// futex operation (Linux 6.7) is missing or refused, nothing is held.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sluice::os {

/// The most wakes a thread holds; the last one releases them all.
inline constexpr std::size_t kMaxHeldWakes = 16;

/// Starts (true) or stops (false) holding this thread's wakes of shared words. Stopping
/// releases what is held. Returns whether the thread now holds its wakes (false where they
/// cannot be held).
bool hold_wakes(bool hold) noexcept;

/// Wakes now every word whose wake this thread holds. Cheap when it holds none.
void release_held_wakes() noexcept;

/// Whether this thread holds any wake.
bool holds_wakes() noexcept;

/// Wakes every thread sleeping on the shared `word` (in any process): now, or when this thread
/// releases its held wakes if it holds them.
void wake_shared(const std::atomic<std::uint32_t>* word) noexcept;

/// For tests of the ways a thread lets its wakes go: while one lives, the keeper lets nothing
/// go, so a held reader wakes by the path under test or not at all (not 50–100 ms later).
class KeeperPause {
 public:
  KeeperPause() noexcept;
  ~KeeperPause();
  KeeperPause(const KeeperPause&) = delete;
  KeeperPause& operator=(const KeeperPause&) = delete;
};

}  // namespace sluice::os
