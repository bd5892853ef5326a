// What each thread keeps for asynchronous I/O (its APC queue, the operations it issued, the
// completion port it runs for), and how a change under wait_mutex() reaches the threads that
// wait for it: wait_cv() for the sleeping ones, Engine::wake() for one serving an engine in
// dequeue (completion_ports.cpp). Internal to the files of async.hpp.
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
  // (PortQueue::running). Guarded by wait_mutex(): other threads never touch it, but it changes
  // together with the port's count.
  std::shared_ptr<PortQueue> running_for;
  bool blocked = false;  // guarded by wait_mutex(): in a wait, so not counted in running_for
  ~ThreadIo();
};
extern thread_local ThreadIo t_io;

std::uint32_t current_tid();

/// Remembers an operation of this thread (thread exit cancels it); prunes finished ones.
void remember(const std::shared_ptr<PendingIo>& op);

/// A thread inside core::Engine::drive: wait_cv() does not reach it, Engine::wake() does.
struct Driver {
  const void* thread;  // &t_io of that thread
  std::shared_ptr<core::Engine> engine;
};

/// The threads serving an engine while they wait for a packet (dequeue). Guarded by wait_mutex().
std::vector<Driver>& drivers();

/// Engines to wake along with wait_cv(), collected under wait_mutex() where the change was made;
/// not the calling thread's own (it looks again when its drive() returns).
using Kicks = std::vector<std::shared_ptr<core::Engine>>;
Kicks kicks_locked();

/// Wakes every waiting thread of this layer (Engine::wake takes no lock, so this may run with
/// or without wait_mutex() held).
void notify_waiters(const Kicks& kicks);

/// The thread of `io` stops running for the port it took its last packet from. True when that
/// port has packets and waiters, which the freed place may release (the caller notifies).
/// Called with wait_mutex() held; defined with the ports (completion_ports.cpp).
bool stop_running_locked(ThreadIo& io);

}  // namespace sluice::win32
