// Threads blocked in a synchronous pipe operation, so that another thread can cancel it.
//
// CancelSynchronousIo addresses a thread, not an end or an engine, so the table is one per
// process. A thread enters it only once an operation has to wait (never on the fast path) and
// leaves when that operation returns.
#pragma once

#include <cstdint>

namespace sluice::core {

class PipeEndCore;

/// The calling thread is about to wait inside an operation on `end`; registers it until
/// leave_blocking() (idempotent within one operation).
void enter_blocking(PipeEndCore& end);
namespace detail {
// Every synchronous operation asks on its way out, so the answer must cost nothing: a TLS flag
// in the initial-exec model (no __tls_get_addr call, even in position-independent code).
extern thread_local bool t_blocking_registered __attribute__((tls_model("initial-exec")));
void leave_blocking_registered() noexcept;
}  // namespace detail

/// The calling thread's operation returns.
inline void leave_blocking() noexcept {
  if (detail::t_blocking_registered) detail::leave_blocking_registered();
}
/// Whether the calling thread's current operation was cancelled.
bool blocking_cancelled() noexcept;
/// Cancels the operation thread `tid` (a kernel thread id) waits in. false if it waits in none.
bool cancel_blocked_thread(std::uint32_t tid);

/// Told, on the thread itself, when a thread falls asleep inside a synchronous operation (after
/// its spin, if any) and when it wakes. The Win32 layer counts a thread that runs for a
/// completion port out while it sleeps, as Windows does ("I/O Completion Ports", Microsoft Learn).
struct SleepObserver {
  void (*asleep)() = nullptr;
  void (*awake)() = nullptr;
};
/// Installs the observer (once, before operations start; later calls replace it).
void set_sleep_observer(SleepObserver observer) noexcept;

/// Tells the observer about one sleep, and lets the thread's held wakes go first: constructed
/// right before it (or before a kernel call that may sleep), destroyed right after.
class SleepNotice {
 public:
  SleepNotice() noexcept;
  ~SleepNotice();
  SleepNotice(const SleepNotice&) = delete;
  SleepNotice& operator=(const SleepNotice&) = delete;

 private:
  void (*awake_)() = nullptr;
};

}  // namespace sluice::core
