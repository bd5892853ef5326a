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
/// The calling thread's operation returns.
void leave_blocking() noexcept;
/// Whether the calling thread's current operation was cancelled.
bool blocking_cancelled() noexcept;
/// Cancels the operation thread `tid` (a kernel thread id) waits in. false if it waits in none.
bool cancel_blocked_thread(std::uint32_t tid);

}  // namespace sluice::core
