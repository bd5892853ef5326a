// Overlapped I/O, APC queues and completion ports of the Win32 layer (Microsoft Learn:
// "Synchronous and Asynchronous I/O", "Asynchronous Procedure Calls", "I/O Completion Ports").
//
// The bookkeeping of operations and ports (the pending operations of an end, its association,
// the queues of packets, which threads run for a port) changes under io_mutex(). What a thread
// waits for is a waitable object or its own Waiter (objects/waitable.hpp): a completion stores
// OVERLAPPED.Internal first, then sets the event, signals the pipe handle, queues the packet and
// the completion routine, each waking only the threads that wait for that object, that port or
// that thread's APCs. A thread woken by any of them therefore sees the status (as on Windows:
// the OVERLAPPED is written before any notification).
//
// Lock order: io_mutex(), then an object's own mutex (an event, the pipe handle's signal), then
// an APC queue's. io_mutex() is never held while calling into the engine or while
// releasing an Object (whose destructor may close a pipe end). An engine lock is not held either
// while this layer takes io_mutex() (engine completions run outside engine locks), with one
// exception: the engine's sleep observer (install_port_sleep_observer) runs on a thread that
// keeps its own synchronous operation's lock while it sleeps; as the layer never takes an engine
// lock under io_mutex(), that makes no cycle.
#pragma once

#include <windows.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "win32/objects.hpp"

namespace sluice::core {
class Engine;
class PipeEndCore;
}  // namespace sluice::core

namespace sluice::win32 {

/// A thread's APC queue: user APCs and completion routines, run only in its alertable waits.
struct ApcQueue {
  std::mutex mu;
  std::deque<std::function<void()>> apcs;  // guarded by mu
  bool alive = true;                       // guarded by mu; false once the thread left
  std::shared_ptr<objects::Waiter> owner;  // guarded by mu: woken by queue_apc; null until set
};

/// The calling thread's APC queue (made on first use).
const std::shared_ptr<ApcQueue>& current_apc_queue();
/// Makes `queue` the calling thread's queue (CreateThread's threads get theirs before they run).
void adopt_apc_queue(std::shared_ptr<ApcQueue> queue);
/// Queues `apc` to a thread and wakes it; false when that thread has exited.
bool queue_apc(ApcQueue& queue, std::function<void()> apc);
/// The queue's thread has left: its queued APCs are dropped, and queue_apc fails from now on.
void close_apc_queue(ApcQueue& queue);
/// Whether the calling thread has APCs queued.
bool has_apcs();
/// Runs the calling thread's APCs (also those queued meanwhile); false when it had none. Called
/// with no lock held.
bool run_apcs();

/// Around the sleeps of one of this layer's waits (no lock held): a thread that runs for a
/// completion port does not count as running while it blocks, so that another waiter of the port
/// may take a packet meanwhile, as on Windows ("I/O Completion Ports").
class PortWaitGuard {
 public:
  /// `sleeps`: false for a wait with a time-out of 0, which is a look, not a wait.
  explicit PortWaitGuard(bool sleeps = true);
  ~PortWaitGuard();
  PortWaitGuard(const PortWaitGuard&) = delete;
  PortWaitGuard& operator=(const PortWaitGuard&) = delete;

 private:
  const bool counted_out_;  // it was counted out here (and counts in again on destruction)
};

/// Has the engine tell this layer when a thread falls asleep inside a synchronous pipe operation,
/// so that a thread running for a completion port does not count meanwhile, as on Windows.
/// Called once at initialisation.
void install_port_sleep_observer() noexcept;

/// A completion-port packet.
struct Packet {
  ULONG_PTR key = 0;
  LPOVERLAPPED overlapped = nullptr;
  DWORD status = STATUS_SUCCESS;  // NT status
  DWORD bytes = 0;
};

/// The queue of a completion port. Associated ends hold it too, so packets of an end whose port
/// handle was closed go nowhere harmful.
///
/// Release rule ("I/O Completion Ports", Microsoft Learn): a thread waiting in
/// GetQueuedCompletionStatus(Ex) takes packets only while fewer than `concurrency` threads run for
/// the port and only if it is the most recent waiter (`waiters.back()`): last in, first out. A
/// thread runs for the port from taking a packet until it calls GetQueuedCompletionStatus(Ex) again
/// (on any port) or exits.
///
/// Waiting: once pipe ends are associated, one waiting thread at a time serves their engine
/// itself (core::Engine::drive) instead of sleeping on its Waiter, so that a doorbell wakes the
/// thread that takes the packet and not first the agent thread; see dequeue(). A change that may
/// release a waiter wakes the top of `waiters` only (the one the rule lets take a packet);
/// closing the port wakes them all.
struct PortQueue {
  PortQueue(unsigned limit, std::uint64_t port_id) : id(port_id), concurrency(limit) {}
  const std::uint64_t id;      // names the port to other processes (post_to_local_port)
  std::deque<Packet> packets;  // guarded by io_mutex()
  bool closed = false;         // guarded by io_mutex(): every port handle was closed
  const unsigned concurrency;  // NumberOfConcurrentThreads, 0 already replaced by the CPU count
  unsigned running = 0;        // guarded by io_mutex(): threads that took a packet, not back
  std::vector<objects::Waiter*> waiters;  // guarded by io_mutex(): the waiting threads, in order
  std::weak_ptr<core::Engine> engine;     // guarded by io_mutex(): serves the associated ends
};

/// A completion port (CreateIoCompletionPort). Its last handle closing ends the waits on it
/// (ERROR_ABANDONED_WAIT_0).
class PortObject final : public Object {
 public:
  explicit PortObject(unsigned concurrency);
  ~PortObject() override;
  const std::shared_ptr<PortQueue> queue;
};

/// The completion port of another process that an end which came from there is associated with:
/// on Windows the association belongs to the end, so an operation this process issues on it
/// completes to that port (remote_ports.hpp). pid 0: none.
struct RemotePort {
  std::uint32_t pid = 0;
  std::uint64_t port_id = 0;
};

/// A started operation, known to its end until it completes (for cancellation).
struct PendingIo {
  LPOVERLAPPED ov = nullptr;
  std::uint64_t id = 0;   // the engine's id; 0 until the start returned pending
  std::uint32_t tid = 0;  // issuing thread (CancelIo, thread exit)
  bool done = false;      // guarded by io_mutex()
  LPOVERLAPPED_COMPLETION_ROUTINE routine = nullptr;
  std::shared_ptr<ApcQueue> apc;  // the issuing thread's, for `routine`
  std::weak_ptr<core::PipeEndCore> core;
  RemotePort remote;               // announced to this port of another process (remote_ports)
  std::uint64_t remote_token = 0;  // under this token; 0: not announced
};

/// One end's overlapped-I/O state, shared by every handle to the end in this process and by the
/// completions of its pending operations. As a waitable object it is the pipe handle, signalled
/// while no overlapped operation is outstanding on the end (docs/architecture.md, "Waitable
/// state of a pipe handle").
struct AsyncState final : objects::Waitable {
  bool signalled_locked() noexcept override { return signaled; }
  /// Whether the server has read from the current client (ImpersonateNamedPipeClient needs it).
  std::atomic<bool> data_read{false};
  bool signaled = true;  // guarded by mutex()
  // All below guarded by io_mutex().
  std::size_t outstanding = 0;  // operations started and not completed
  std::shared_ptr<PortQueue> port;
  RemotePort remote_port;  // instead of `port`, for an end associated in another process
  ULONG_PTR key = 0;
  UCHAR modes = 0;  // FILE_SKIP_* (SetFileCompletionNotificationModes)
  std::vector<std::shared_ptr<PendingIo>> pending;
};

/// Whether the calling thread impersonates a pipe client (ImpersonateNamedPipeClient, until
/// RevertToSelf). Such a thread must not serve the pipe engine: what the engine creates (a new
/// instance's listener, segments) would belong to the client.
bool thread_impersonates() noexcept;

/// Whether `state`'s end is associated with a completion port, here or in another process.
inline bool associated_locked(const AsyncState& state) noexcept {
  return state.port != nullptr || state.remote_port.pid != 0;
}

/// Queues `packet` on this process's port `port_id` for another process (its handle inbox
/// calls this); false when no such port is open.
bool post_to_local_port(std::uint64_t port_id, const Packet& packet);
/// This process's open port `port_id`, or null. Called with io_mutex() held.
std::shared_ptr<PortQueue> open_port_locked(std::uint64_t port_id);
/// With io_mutex() held, after a change that may release a waiter of `port` (a packet, a freed
/// place): wakes the waiter the release rule lets take packets, the most recent one.
void wake_port_locked(PortQueue& port) noexcept;

/// The event of an OVERLAPPED without the "no port packet" low bit.
inline HANDLE event_of(LPOVERLAPPED ov) noexcept {
  return reinterpret_cast<HANDLE>(reinterpret_cast<std::uintptr_t>(ov->hEvent) &
                                  ~std::uintptr_t{1});
}
/// OVERLAPPED.Internal, read and written atomically (other threads poll it).
inline DWORD load_internal(const OVERLAPPED* ov) noexcept {
  return static_cast<DWORD>(__atomic_load_n(&ov->Internal, __ATOMIC_ACQUIRE));
}
inline void store_internal(LPOVERLAPPED ov, DWORD status) noexcept {
  __atomic_store_n(&ov->Internal, static_cast<ULONG_PTR>(status), __ATOMIC_RELEASE);
}
/// The event object behind `h`, or null (looked up without io_mutex(): releasing a table
/// reference may run an object's destructor).
std::shared_ptr<Object> event_object(HANDLE h);

/// The named pipe behind `object` if it was opened for overlapped I/O, else null.
NamedPipeObject* overlapped_pipe(const std::shared_ptr<Object>& object);

/// The operations on an overlapped named-pipe handle given an OVERLAPPED, or, with `routine`,
/// ReadFileEx/WriteFileEx. Return value, last error and OVERLAPPED fields as Windows has them
/// (ReadFile, ReadFileEx, GetOverlappedResult on Microsoft Learn; overlapped_test.cpp pins them).
BOOL overlapped_read(NamedPipeObject& pipe, std::span<std::byte> buffer, LPDWORD count,
                     LPOVERLAPPED ov, LPOVERLAPPED_COMPLETION_ROUTINE routine = nullptr);
BOOL overlapped_write(NamedPipeObject& pipe, std::span<const std::byte> data, LPDWORD count,
                      LPOVERLAPPED ov, LPOVERLAPPED_COMPLETION_ROUTINE routine = nullptr);
BOOL overlapped_transact(NamedPipeObject& pipe, std::span<const std::byte> request,
                         std::span<std::byte> reply, LPDWORD count, LPOVERLAPPED ov);
BOOL overlapped_connect(NamedPipeObject& pipe, LPOVERLAPPED ov);

}  // namespace sluice::win32
