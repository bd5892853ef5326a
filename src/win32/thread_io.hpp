// What each thread keeps for asynchronous I/O (its APC queue, the operations it issued, the
// completion port it runs for). Internal to the files of async.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "win32/async.hpp"

namespace sluice::win32 {

/// The calling thread's part of asynchronous I/O. Destroyed as the thread exits, which is when
/// Windows drops its APCs and cancels its I/O (see the destructor).
struct ThreadIo {
  std::shared_ptr<ApcQueue> apc;
  std::vector<std::weak_ptr<PendingIo>> issued;
  // The completion port this thread last took a packet from, while it counts as running there
  // (PortQueue::running). Guarded by io_mutex(): other threads never touch it, but it changes
  // together with the port's count.
  std::shared_ptr<PortQueue> running_for;
  bool blocked = false;  // guarded by io_mutex(): in a wait, so not counted in running_for
  ~ThreadIo();
};
extern thread_local ThreadIo t_io;

std::uint32_t current_tid();

/// Remembers an operation of this thread (thread exit cancels it); prunes finished ones.
void remember(const std::shared_ptr<PendingIo>& op);

/// The thread of `io` stops running for the port it took its last packet from. Returns that port
/// when it has packets and waiters, which the freed place may release (the caller wakes them
/// with wake_port_locked), else null. Called with io_mutex() held; defined with the ports
/// (completion_ports.cpp).
std::shared_ptr<PortQueue> stop_running_locked(ThreadIo& io);

}  // namespace sluice::win32
