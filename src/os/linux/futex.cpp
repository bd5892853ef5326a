#include "os/linux/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449  // Linux 5.16; Debian 12's glibc headers predate it.
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE 128
#endif

namespace sluice::os {

bool futex_wait_any(const FutexWaiter* waiters, int count,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  // futex_waitv is what lets one sleeper watch the peer's word (shared) and its own abort word
  // (private) at once: a futex alone is never woken by a peer's death.
  // Only the entries in use are cleared: the pipe wait path passes 1 or 2.
  struct futex_waitv v[kMaxFutexWaiters];
  count = count < kMaxFutexWaiters ? count : kMaxFutexWaiters;
  for (int i = 0; i < count; ++i) {
    v[i] = {};
    v[i].val = waiters[i].expected;
    v[i].uaddr = reinterpret_cast<std::uintptr_t>(waiters[i].word);
    v[i].flags = FUTEX2_SIZE_U32 | (waiters[i].shared ? 0 : FUTEX2_PRIVATE);
  }
  struct timespec ts {};
  struct timespec* tsp = nullptr;
  if (deadline) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline->time_since_epoch());
    ts.tv_sec = static_cast<time_t>(ns.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(ns.count() % 1000000000);
    tsp = &ts;
  }
  long rc = ::syscall(SYS_futex_waitv, v, count, 0, tsp, CLOCK_MONOTONIC);
  return !(rc < 0 && errno == ETIMEDOUT);
}

void futex_wake_all(const std::atomic<std::uint32_t>* word, bool shared) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(word),
            shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace sluice::os
