// I/O completion ports: CreateIoCompletionPort, GetQueuedCompletionStatus(Ex),
// PostQueuedCompletionStatus, and the rule that decides which waiting thread a packet releases
// (PortQueue, dequeue). Packets come from overlapped_io.cpp (an associated end's completions),
// from PostQueuedCompletionStatus, and from other processes (remote_ports.cpp).
#include "win32/async.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "api/engine_access.hpp"
#include "core/blocked_threads.hpp"
#include "core/engine.hpp"
#include "os/linux/held_wakes.hpp"
#include "win32/ntstatus.hpp"
#include "win32/thread_io.hpp"

namespace sluice::win32 {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// ---- a thread that runs for a port and blocks
// ------------------------------------------------------

std::shared_ptr<PortQueue> stop_running_locked(ThreadIo& io) {
  if (!io.running_for) return nullptr;
  std::shared_ptr<PortQueue> port = std::move(io.running_for);
  io.running_for.reset();
  if (!io.blocked && port->running > 0) --port->running;
  if (port->packets.empty() || port->waiters.empty()) return nullptr;
  return port;
}

void wake_port_locked(PortQueue& port) noexcept {
  if (!port.waiters.empty()) port.waiters.back()->wake();
}

namespace {

// The calling thread stops counting for the port it runs for (with io_mutex() held); false
// when it runs for none or is counted out already.
bool count_out_locked() {
  ThreadIo& io = t_io;
  if (!io.running_for || io.blocked) return false;
  io.blocked = true;
  PortQueue& q = *io.running_for;
  if (q.running > 0) --q.running;
  // The place it leaves may release a waiter of the port right away.
  if (!q.packets.empty()) wake_port_locked(q);
  return true;
}

void count_in_locked() {
  ThreadIo& io = t_io;
  io.blocked = false;
  // Back, even above the port's concurrency value, as on Windows.
  if (io.running_for) ++io.running_for->running;
}

thread_local bool t_asleep_in_engine = false;  // counted out by the engine's sleep observer

}  // namespace

// A thread's own running_for is read without the lock: only that thread changes it.
PortWaitGuard::PortWaitGuard(bool sleeps)
    : counted_out_(sleeps && t_io.running_for && [] {
        std::lock_guard lock(io_mutex());
        return count_out_locked();
      }()) {
  if (sleeps) os::release_held_wakes();
}

PortWaitGuard::~PortWaitGuard() {
  if (!counted_out_) return;
  std::lock_guard lock(io_mutex());
  count_in_locked();
}

void install_port_sleep_observer() noexcept {
  core::set_sleep_observer(
      core::SleepObserver{[] {
                            if (!t_io.running_for)
                              return;  // this thread's own field: no lock needed to look
                            std::lock_guard lock(io_mutex());
                            t_asleep_in_engine = count_out_locked();
                          },
                          [] {
                            if (!t_asleep_in_engine) return;
                            std::lock_guard lock(io_mutex());
                            count_in_locked();
                            t_asleep_in_engine = false;
                          }});
}

// ---- port objects, found by id for other processes ---------------------------------------------

namespace {

std::uint64_t next_port_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1);
}

// The open ports by id (an entry from construction until the last port handle closes).
std::unordered_map<std::uint64_t, std::weak_ptr<PortQueue>>& open_ports() {  // io_mutex()
  static auto* ports = new std::unordered_map<std::uint64_t, std::weak_ptr<PortQueue>>;
  return *ports;
}

}  // namespace

std::shared_ptr<PortQueue> open_port_locked(std::uint64_t port_id) {
  auto it = open_ports().find(port_id);
  return it == open_ports().end() ? nullptr : it->second.lock();
}

PortObject::PortObject(unsigned concurrency)
    : Object(Kind::kPort), queue(std::make_shared<PortQueue>(concurrency, next_port_id())) {
  std::lock_guard lock(io_mutex());
  open_ports()[queue->id] = queue;
}

PortObject::~PortObject() {
  std::lock_guard lock(io_mutex());
  open_ports().erase(queue->id);
  queue->closed = true;
  queue->packets.clear();
  for (objects::Waiter* w : queue->waiters) w->wake();  // every wait on it ends
}

bool post_to_local_port(std::uint64_t port_id, const Packet& packet) {
  std::lock_guard lock(io_mutex());
  auto port = open_port_locked(port_id);
  if (!port || port->closed) return false;
  port->packets.push_back(packet);
  wake_port_locked(*port);
  return true;
}

namespace {

HANDLE fail_null(DWORD code) {
  set_last_error(code);
  return nullptr;
}

// NumberOfConcurrentThreads of a new port: 0 means as many as the machine has processors.
unsigned concurrency_limit(DWORD requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

HANDLE create_port(HANDLE file, HANDLE existing, ULONG_PTR key, DWORD concurrency) {
  if (file == INVALID_HANDLE_VALUE) {
    if (existing) return fail_null(ERROR_INVALID_PARAMETER);
    return globals().handles.insert(std::make_shared<PortObject>(concurrency_limit(concurrency)),
                                    0);
  }
  auto object = globals().handles.get(file);
  if (!object) return fail_null(ERROR_INVALID_HANDLE);
  NamedPipeObject* pipe = overlapped_pipe(object);
  // Only overlapped handles can be associated; anonymous pipes are synchronous.
  if (!pipe) return fail_null(ERROR_INVALID_PARAMETER);
  std::shared_ptr<PortQueue> queue;
  std::shared_ptr<Object> port_object;
  HANDLE result = existing;
  if (existing) {
    port_object = globals().handles.get(existing);
    if (!port_object || port_object->kind() != Kind::kPort) return fail_null(ERROR_INVALID_HANDLE);
    queue = static_cast<PortObject&>(*port_object).queue;
  } else {
    port_object = std::make_shared<PortObject>(concurrency_limit(concurrency));
    queue = static_cast<PortObject&>(*port_object).queue;
  }
  // The engine that serves the end: this layer's pipe ends all come from the default registry.
  std::shared_ptr<core::Engine> engine;
  std::error_code registry_error;
  if (Registry* r = registry(&registry_error)) engine = EngineAccess::engine(*r);
  {
    std::lock_guard lock(io_mutex());
    if (associated_locked(*pipe->async)) return fail_null(ERROR_INVALID_PARAMETER);
    pipe->async->port = queue;
    pipe->async->key = key;
    if (engine && queue->engine.expired()) queue->engine = engine;
  }
  if (!existing) result = globals().handles.insert(std::move(port_object), 0);
  return result;
}

std::shared_ptr<PortQueue> port_queue(HANDLE port) {
  auto object = globals().handles.get(port);
  if (!object || object->kind() != Kind::kPort) return nullptr;
  return static_cast<PortObject&>(*object).queue;
}

// Waits for packets; removes up to `max`. Returns how many, or 0 with the last error set.
//
// Release rule (PortQueue): the calling thread first stops running for the port it last took a
// packet from (it is back, so its place is free), then waits on top of the port's waiter stack
// and takes packets when it is the most recent waiter and fewer than `concurrency` threads run.
// A thread back from its packet therefore takes the next one itself while older waiters sleep on,
// as on Windows. While a running thread blocks in one of this layer's waits (PortWaitGuard) or
// sleeps in a synchronous pipe operation or WaitNamedPipe (the engine's sleep observer, which
// anonymous pipes' and stream descriptors' kernel reads and writes tell too) it does not count,
// as on Windows, where that holds for any wait; blocking outside sluice (read(2) called
// directly, a pthread wait) still counts (TODO(compat)). One that returns
// with a time-out, WAIT_IO_COMPLETION or ERROR_ABANDONED_WAIT_0 does not count.
//
// Waiting (leader/follower): on a port with associated pipe ends, the waiting thread serves
// their engine (Engine::drive) rather than sleep on its Waiter, one thread at a time (the others
// sleep as before). A doorbell then wakes this thread, which runs the completion itself and
// finds the packet in its own port: one wake-up per completion instead of two (the agent
// thread's, then this thread's). While driving, its Waiter forwards wake-ups to the engine
// (Waiter::DriveScope), so that whatever changes what it waits for (a packet, an APC, the port
// closing, a running thread leaving) ends the drive.
//
// Held wakes (os/linux/held_wakes.hpp): a thread that takes packets while more stay queued
// holds the wakes of the readers its writes reach, and lets them go together, in one system
// call, when it will not go straight on to another packet: when it takes the last one queued,
// finds none, or waits for anything else (PortWaitGuard, a sleep the observer is told of), after
// kMaxHeldWakes, or when it ends. A server answering many clients is then switched out once
// per burst rather than once per reply (each woken reader used to preempt it). The data
// itself is in the pipe at once; a reader that looks without sleeping sees it. A reader in
// another process may wait longer than on Windows when the thread, in a burst, blocks outside
// sluice or computes long after its write (TODO(compat), as for the concurrency rule).
ULONG dequeue(const std::shared_ptr<PortQueue>& port, Packet* out, ULONG max, DWORD ms,
              bool alertable) {
  PortQueue& q = *port;
  objects::Waiter& me = *objects::Waiter::current();
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  std::shared_ptr<core::Engine> engine;  // released after the lock (it may be the last reference)
  std::unique_lock lock(io_mutex());
  engine = q.engine.lock();
  // Serves the engine until something may have changed; false when another thread serves it.
  auto drive = [&](std::uint32_t ticket) {
    int timeout = -1;
    if (ms != INFINITE) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      timeout = static_cast<int>(std::max<decltype(left)>(left, 0));
    }
    // A packet posted from here on wakes the engine for this thread; another thread driving
    // meanwhile may take that wake-up, so the ticket carries it over to this thread's turn.
    const std::uint64_t engine_ticket = engine->wake_ticket();
    objects::Waiter::DriveScope driving(me, *engine);
    // A wake-up between the look and the scope reached only the waiter: look again.
    if (me.ticket() != ticket) return true;
    lock.unlock();
    bool drove = engine->drive(timeout, nullptr, engine_ticket);
    lock.lock();
    return drove;
  };
  // Another port's waiters may take the place this thread leaves; this port's are behind it on
  // the stack, and it takes what it can itself.
  if (auto freed = stop_running_locked(t_io); freed && freed != port) wake_port_locked(*freed);
  q.waiters.push_back(&me);
  auto releasable = [&] {
    return !q.packets.empty() && q.running < q.concurrency && q.waiters.back() == &me;
  };
  // Leaves the waiter stack; when this thread was on top, the next waiter may be releasable.
  auto leave = [&] {
    bool top = q.waiters.back() == &me;
    std::erase(q.waiters, &me);
    if (top && !q.packets.empty()) wake_port_locked(q);
  };
  ULONG n = 0;
  bool burst = false;          // packets still queued after those this thread takes
  bool drive_refused = false;  // its last try to serve the engine found another thread there
  for (;;) {
    const std::uint32_t ticket = me.ticket();
    if (os::holds_wakes() && !releasable()) {
      // It will not go straight to its next packet: its readers wait no longer.
      lock.unlock();
      os::release_held_wakes();
      lock.lock();
      continue;
    }
    if (q.closed) {
      leave();
      set_last_error(ERROR_ABANDONED_WAIT_0);
      break;
    }
    if (releasable()) {
      while (n < max && !q.packets.empty()) {
        out[n++] = q.packets.front();
        q.packets.pop_front();
      }
      burst = !q.packets.empty();
      ++q.running;
      t_io.running_for = port;
      leave();
      break;
    }
    if (alertable && has_apcs()) {
      // Out of the stack first: the routines run unlocked and may take long.
      leave();
      lock.unlock();
      (void)run_apcs();
      lock.lock();
      set_last_error(WAIT_IO_COMPLETION);
      break;
    }
    if (ms == 0) {
      leave();
      set_last_error(WAIT_TIMEOUT);
      break;
    }
    bool timed_out = false;
    if (engine && !drive_refused && !thread_impersonates()) {
      if (!drive(ticket)) {
        // Another thread serves the engine. A packet posted while this one asked to drive woke
        // the engine for it, not this waiter: look again before sleeping.
        drive_refused = true;
        continue;
      }
      timed_out = ms != INFINITE && Clock::now() >= deadline;
    } else {
      drive_refused = false;
      lock.unlock();
      timed_out = !me.sleep(ticket, ms == INFINITE ? std::nullopt : std::optional(deadline));
      lock.lock();
    }
    if (timed_out) {
      if (releasable() || q.closed) continue;  // came with the time-out: taken above
      leave();
      set_last_error(WAIT_TIMEOUT);
      break;
    }
  }
  lock.unlock();
  engine.reset();
  os::hold_wakes(burst);
  return n;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
                                     ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads) {
  return guarded<HANDLE>(nullptr, [&] {
    return create_port(FileHandle, ExistingCompletionPort, CompletionKey,
                       NumberOfConcurrentThreads);
  });
}

BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD lpNumberOfBytesTransferred,
                                      PULONG_PTR lpCompletionKey, LPOVERLAPPED* lpOverlapped,
                                      DWORD dwMilliseconds) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpOverlapped || !lpNumberOfBytesTransferred || !lpCompletionKey) {
      return fail(ERROR_INVALID_PARAMETER);
    }
    auto queue = port_queue(CompletionPort);
    if (!queue) return fail(ERROR_INVALID_HANDLE);
    Packet p;
    if (dequeue(queue, &p, 1, dwMilliseconds, false) == 0) {
      *lpOverlapped = nullptr;
      return FALSE;
    }
    *lpNumberOfBytesTransferred = p.bytes;
    *lpCompletionKey = p.key;
    *lpOverlapped = p.overlapped;
    DWORD error = error_of_status(p.status);
    if (error != ERROR_SUCCESS) return fail(error);
    return TRUE;
  });
}

BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort,
                                        LPOVERLAPPED_ENTRY lpCompletionPortEntries, ULONG ulCount,
                                        PULONG ulNumEntriesRemoved, DWORD dwMilliseconds,
                                        BOOL fAlertable) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpCompletionPortEntries || ulCount == 0 || !ulNumEntriesRemoved) {
      return fail(ERROR_INVALID_PARAMETER);
    }
    *ulNumEntriesRemoved = 0;
    auto queue = port_queue(CompletionPort);
    if (!queue) return fail(ERROR_INVALID_HANDLE);
    std::vector<Packet> packets(ulCount);
    ULONG n = dequeue(queue, packets.data(), ulCount, dwMilliseconds, fAlertable != FALSE);
    if (n == 0) return FALSE;
    for (ULONG i = 0; i < n; ++i) {
      lpCompletionPortEntries[i].lpCompletionKey = packets[i].key;
      lpCompletionPortEntries[i].lpOverlapped = packets[i].overlapped;
      lpCompletionPortEntries[i].Internal = packets[i].status;
      lpCompletionPortEntries[i].dwNumberOfBytesTransferred = packets[i].bytes;
    }
    *ulNumEntriesRemoved = n;
    return TRUE;
  });
}

BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
                                       ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto queue = port_queue(CompletionPort);
    if (!queue) return fail(ERROR_INVALID_HANDLE);
    std::lock_guard lock(io_mutex());
    queue->packets.push_back(
        Packet{dwCompletionKey, lpOverlapped, STATUS_SUCCESS, dwNumberOfBytesTransferred});
    wake_port_locked(*queue);
    return TRUE;
  });
}

BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle, UCHAR Flags) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(FileHandle);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if ((Flags & ~(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE)) != 0) {
      return fail(ERROR_INVALID_PARAMETER);
    }
    if (object->kind() != Kind::kNamedPipe) return fail(ERROR_INVALID_PARAMETER);
    auto& pipe = static_cast<NamedPipeObject&>(*object);
    std::lock_guard lock(io_mutex());
    pipe.async->modes |= Flags;  // modes cannot be turned off again (Windows)
    return TRUE;
  });
}

}  // extern "C"
