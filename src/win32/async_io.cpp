// Overlapped I/O on named-pipe handles, completion routines, completion ports and cancellation
// (Microsoft Learn: "Synchronous and Asynchronous I/O", "I/O Completion Ports", CancelIoEx),
// over the engine's asynchronous operations (PipeEndCore::start_*).
//
// The engine tells "finished at once" (Started::now) from "pending" (a callback later), which is
// exactly the distinction Windows makes visible: TRUE / ERROR_MORE_DATA / a failure now versus
// ERROR_IO_PENDING. Both paths end in deliver(), which fills the OVERLAPPED and then signals,
// posts and queues under wait_mutex() (see async.hpp).
#include "win32/async.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <unordered_map>

#include "core/blocked_threads.hpp"
#include "core/engine.hpp"
#include "core/pipe_end_core.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/held_wakes.hpp"
#include "win32/ntstatus.hpp"
#include "win32/remote_ports.hpp"
#include "win32/thread_io.hpp"

namespace sluice::win32 {

namespace {

using Clock = std::chrono::steady_clock;
using IoResult = core::PipeEndCore::IoResult;

}  // namespace

bool stop_running_locked(ThreadIo& io) {
  if (!io.running_for) return false;
  PortQueue& q = *io.running_for;
  if (!io.blocked && q.running > 0) --q.running;
  bool release = !q.packets.empty() && !q.waiters.empty();
  io.running_for.reset();
  return release;
}

// ---- a thread that runs for a port and blocks ------------------------------------------------------

namespace {

// The calling thread stops counting for the port it runs for (with wait_mutex() held); false
// when it runs for none or is counted out already.
bool count_out_locked() {
  ThreadIo& io = t_io;
  if (!io.running_for || io.blocked) return false;
  io.blocked = true;
  PortQueue& q = *io.running_for;
  if (q.running > 0) --q.running;
  // The place it leaves may release a waiter of the port right away.
  if (!q.packets.empty() && !q.waiters.empty()) notify_waiters(kicks_locked());
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

PortWaitGuard::PortWaitGuard(bool sleeps) : counted_out_(sleeps && count_out_locked()) {
  if (sleeps) os::release_held_wakes();
}

PortWaitGuard::~PortWaitGuard() {
  if (counted_out_) count_in_locked();
}

void install_port_sleep_observer() noexcept {
  core::set_sleep_observer(core::SleepObserver{
      [] {
        if (!t_io.running_for) return;  // this thread's own field: no lock needed to look
        std::lock_guard lock(wait_mutex());
        t_asleep_in_engine = count_out_locked();
      },
      [] {
        if (!t_asleep_in_engine) return;
        std::lock_guard lock(wait_mutex());
        count_in_locked();
        t_asleep_in_engine = false;
      }});
}

// ---- events and completions ---------------------------------------------------------------------

std::shared_ptr<Object> event_object(HANDLE h) {
  if (!h) return nullptr;
  auto object = globals().handles.get(h);
  if (!object || object->kind() != Kind::kEvent) return nullptr;
  return object;
}

// ---- ports other processes post to, ends associated with another process's port ---------------

namespace {

std::uint64_t next_port_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1);
}

// The open ports by id (an entry from construction until the last port handle closes).
std::unordered_map<std::uint64_t, std::weak_ptr<PortQueue>>& open_ports() {  // wait_mutex()
  static auto* ports = new std::unordered_map<std::uint64_t, std::weak_ptr<PortQueue>>;
  return *ports;
}

// Ends associated with another process's port, whose pending operations the exit of this
// process cancels (and so reports to that port).
std::vector<std::weak_ptr<AsyncState>>& remotely_associated() {  // guarded by wait_mutex()
  static auto* ends = new std::vector<std::weak_ptr<AsyncState>>;
  return *ends;
}

// atexit: cancelling them does what Windows does when a process exits: a pending write's
// unread data leaves the pipe, and the packets go out before the process is gone. A killed
// process cannot do this; its port's process then reports its announced operations aborted
// (remote_ports.hpp), but a pending write's data stays in the pipe (TODO(compat)).
void cancel_remotely_associated_io() {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<core::PipeEndCore>>> pending;
  {
    std::lock_guard lock(wait_mutex());
    for (auto& weak : remotely_associated()) {
      auto state = weak.lock();
      if (!state) continue;
      for (auto& op : state->pending) {
        if (op->done || op->id == 0) continue;
        if (auto core = op->core.lock()) pending.emplace_back(op->id, std::move(core));
      }
    }
  }
  for (auto& [id, core] : pending) (void)core->cancel(id);
}

}  // namespace

PortObject::PortObject(unsigned concurrency)
    : Object(Kind::kPort),
      queue(std::make_shared<PortQueue>(concurrency, next_port_id())) {
  std::lock_guard lock(wait_mutex());
  open_ports()[queue->id] = queue;
}

PortObject::~PortObject() {
  Kicks kicks;
  {
    std::lock_guard lock(wait_mutex());
    open_ports().erase(queue->id);
    queue->closed = true;
    queue->packets.clear();
    kicks = kicks_locked();
  }
  notify_waiters(kicks);
}

bool post_to_local_port(std::uint64_t port_id, const Packet& packet) {
  Kicks kicks;
  {
    std::lock_guard lock(wait_mutex());
    auto it = open_ports().find(port_id);
    auto port = it == open_ports().end() ? nullptr : it->second.lock();
    if (!port || port->closed) return false;
    port->packets.push_back(packet);
    kicks = kicks_locked();
  }
  notify_waiters(kicks);
  return true;
}

void adopt_association(const std::shared_ptr<AsyncState>& state, std::uint32_t pid,
                       std::uint64_t port_id, ULONG_PTR key) {
  if (pid != os::current_process_id()) {
    static const bool exit_cancels = std::atexit(cancel_remotely_associated_io) == 0;
    (void)exit_cancels;
  }
  std::lock_guard lock(wait_mutex());
  state->key = key;
  if (pid == os::current_process_id()) {  // back home: the port itself, if it is still open
    auto it = open_ports().find(port_id);
    if (it != open_ports().end()) state->port = it->second.lock();
    return;
  }
  state->remote_port = RemotePort{pid, port_id};
  auto& ends = remotely_associated();
  std::erase_if(ends, [](const std::weak_ptr<AsyncState>& w) { return w.expired(); });
  ends.push_back(state);
}

namespace {

// Fills the OVERLAPPED and delivers the notifications of a finished operation: the event (or,
// always unless FILE_SKIP_SET_EVENT_ON_HANDLE, the handle when no operation is left), the port
// packet (unless the event's low bit, or skip-on-success for an immediate success), the
// completion routine. `immediate`: the start itself finished it.
void deliver(AsyncState& state, PendingIo& op, const IoResult& r, bool immediate) {
  DWORD error = win32_code(r.error);
  DWORD status = error ? status_of_error(error) : r.more_data ? STATUS_BUFFER_OVERFLOW : 0;
  auto bytes = static_cast<DWORD>(error ? 0 : r.bytes);
  LPOVERLAPPED ov = op.ov;
  bool no_packet = (reinterpret_cast<std::uintptr_t>(ov->hEvent) & 1) != 0;
  // Looked up before the lock: releasing a handle-table reference may run a destructor.
  auto event = op.routine ? nullptr : event_object(event_of(ov));
  Kicks kicks;
  RemotePort remote;  // set when the packet goes to another process's port
  Packet packet{0, ov, status, bytes};  // the key is read under the lock
  {
    std::lock_guard lock(wait_mutex());
    ov->InternalHigh = bytes;
    store_internal(ov, status);
    op.done = true;
    std::erase_if(state.pending, [&](const auto& p) { return p.get() == &op; });
    if (state.outstanding > 0) --state.outstanding;
    if (state.outstanding == 0 && !(state.modes & FILE_SKIP_SET_EVENT_ON_HANDLE)) {
      state.signaled = true;
    }
    if (event) static_cast<EventObject&>(*event).set_locked();
    bool skip = immediate && status == STATUS_SUCCESS &&
                (state.modes & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    packet.key = state.key;
    if (state.port && !op.routine && !no_packet && !skip && !state.port->closed) {
      state.port->packets.push_back(packet);
    }
    if (!op.routine && !no_packet && !skip) remote = state.remote_port;  // the packet goes there
    if (op.routine && op.apc && op.apc->alive) {
      // Warnings count as success for the routine: Windows gives it 0 for a partial message,
      // which only GetOverlappedResult reports as ERROR_MORE_DATA.
      DWORD code = status == STATUS_BUFFER_OVERFLOW ? 0 : error;
      auto routine = op.routine;
      op.apc->apcs.push_back([routine, code, bytes, ov] { routine(code, bytes, ov); });
    }
    kicks = kicks_locked();
  }
  notify_waiters(kicks);
  if (remote.pid != 0) {
    post_to_remote_port(remote, packet, op.remote_token);
  } else if (op.remote_token != 0) {
    retire_remote_operation(op.remote, op.remote_token);  // skipped: no packet after all
  }
}

enum class OpKind { kRead, kWrite, kTransact, kConnect };

struct OpArgs {
  OpKind kind;
  std::span<std::byte> in;         // read buffer / transact reply
  std::span<const std::byte> out;  // write data / transact request
};

BOOL start(NamedPipeObject& pipe, const OpArgs& args, LPDWORD count, LPOVERLAPPED ov,
           LPOVERLAPPED_COMPLETION_ROUTINE routine) {
  const std::shared_ptr<AsyncState>& state = pipe.async;
  const auto& core = pipe.end().core();
  if (!core) return fail(ERROR_INVALID_HANDLE);
  if (routine) {
    std::lock_guard lock(wait_mutex());
    // Completion routines and completion ports exclude each other (CreateIoCompletionPort on
    // Microsoft Learn).
    if (associated_locked(*state)) return fail(ERROR_INVALID_PARAMETER);
  }
  auto op = std::make_shared<PendingIo>();
  op->ov = ov;
  op->tid = current_tid();
  op->routine = routine;
  if (routine) op->apc = current_apc_queue();
  op->core = core;
  // Entry, as on Windows: Internal = STATUS_PENDING, the event and the handle reset.
  store_internal(ov, STATUS_PENDING);
  auto event = routine ? nullptr : event_object(event_of(ov));
  RemotePort remote;
  ULONG_PTR key = 0;
  {
    std::lock_guard lock(wait_mutex());
    if (event) static_cast<EventObject&>(*event).reset_locked();
    state->signaled = false;
    ++state->outstanding;
    remote = state->remote_port;
    key = state->key;
  }
  // An operation that will complete to another process's port is announced there first, so
  // that port still hears of it if this process is killed (remote_ports.hpp).
  if (remote.pid != 0 && !routine && (reinterpret_cast<std::uintptr_t>(ov->hEvent) & 1) == 0) {
    op->remote = remote;
    op->remote_token = announce_remote_operation(remote, key, ov);
  }
  bool server = pipe.is_server();
  OpKind kind = args.kind;
  auto callback = [state, op, server, kind](const IoResult& r) {
    if (!r.error && server && (kind == OpKind::kRead || kind == OpKind::kTransact)) {
      state->data_read = true;
    }
    if (!r.error && kind == OpKind::kConnect) state->data_read = false;
    deliver(*state, *op, r, false);
  };
  core::PipeEndCore::Started started;
  switch (args.kind) {
    case OpKind::kRead: started = core->start_read(args.in, callback); break;
    case OpKind::kWrite: started = core->start_write(args.out, callback); break;
    case OpKind::kTransact: started = core->start_transact(args.out, args.in, callback); break;
    case OpKind::kConnect: started = core->start_connect(callback); break;
  }
  if (!started.now) {
    bool port = false;
    {
      std::lock_guard lock(wait_mutex());
      op->id = started.id;
      if (!op->done) state->pending.push_back(op);
      port = associated_locked(*state);
    }
    // I/O on an end with a completion port is not cancelled at thread exit
    // (docs/architecture.md, "Where Windows is unclear").
    if (!port) remember(op);
    if (routine) {
      set_last_error(ERROR_SUCCESS);
      return TRUE;
    }
    return fail(ERROR_IO_PENDING);
  }
  const IoResult& r = *started.now;
  if (r.error) {
    // Failed now: no completion (as on Windows); Internal stays STATUS_PENDING and the event and
    // the handle stay reset.
    {
      std::lock_guard lock(wait_mutex());
      if (state->outstanding > 0) --state->outstanding;
    }
    if (op->remote_token != 0) retire_remote_operation(op->remote, op->remote_token);
    return fail(r.error);
  }
  if (server && (kind == OpKind::kRead || kind == OpKind::kTransact)) state->data_read = true;
  bool port = false;
  {
    std::lock_guard lock(wait_mutex());
    port = associated_locked(*state) && (reinterpret_cast<std::uintptr_t>(ov->hEvent) & 1) == 0;
  }
  deliver(*state, *op, r, true);
  if (routine) {
    set_last_error(r.more_data ? ERROR_MORE_DATA : ERROR_SUCCESS);
    return TRUE;
  }
  if (r.more_data) {
    // The count output stays 0; on a port-associated handle Windows 8+ reports the partial read
    // as pending and lets the packet carry it.
    return fail(port ? ERROR_IO_PENDING : ERROR_MORE_DATA);
  }
  if (count) *count = static_cast<DWORD>(r.bytes);
  return TRUE;
}

}  // namespace

BOOL overlapped_read(NamedPipeObject& pipe, std::span<std::byte> buffer, LPDWORD count,
                     LPOVERLAPPED ov, LPOVERLAPPED_COMPLETION_ROUTINE routine) {
  return start(pipe, OpArgs{OpKind::kRead, buffer, {}}, count, ov, routine);
}

BOOL overlapped_write(NamedPipeObject& pipe, std::span<const std::byte> data, LPDWORD count,
                      LPOVERLAPPED ov, LPOVERLAPPED_COMPLETION_ROUTINE routine) {
  return start(pipe, OpArgs{OpKind::kWrite, {}, data}, count, ov, routine);
}

BOOL overlapped_transact(NamedPipeObject& pipe, std::span<const std::byte> request,
                         std::span<std::byte> reply, LPDWORD count, LPOVERLAPPED ov) {
  return start(pipe, OpArgs{OpKind::kTransact, reply, request}, count, ov, nullptr);
}

BOOL overlapped_connect(NamedPipeObject& pipe, LPOVERLAPPED ov) {
  return start(pipe, OpArgs{OpKind::kConnect, {}, {}}, nullptr, ov, nullptr);
}

NamedPipeObject::NamedPipeObject(ServerEnd end, bool overlapped)
    : Object(Kind::kNamedPipe),
      async(std::make_shared<AsyncState>()),
      server_(std::move(end)),
      overlapped_(overlapped) {}
NamedPipeObject::NamedPipeObject(ClientEnd end, bool overlapped)
    : Object(Kind::kNamedPipe),
      async(std::make_shared<AsyncState>()),
      client_(std::move(end)),
      overlapped_(overlapped) {}
// The end closes here (its last handle went): pending operations complete with
// ERROR_BROKEN_PIPE through their callbacks, which hold `async`, not this object.
NamedPipeObject::~NamedPipeObject() = default;

namespace {

// ---- GetOverlappedResult -------------------------------------------------------------------------

BOOL overlapped_result(HANDLE file, LPOVERLAPPED ov, LPDWORD bytes, DWORD ms, bool alertable) {
  auto object = globals().handles.get(file);
  if (!object) return fail(ERROR_INVALID_HANDLE);
  object.reset();
  if (!ov) return fail(ERROR_INVALID_PARAMETER);
  if (load_internal(ov) == STATUS_PENDING) {
    if (ms == 0) return fail(ERROR_IO_INCOMPLETE);  // no APCs run either
    // Waiting for the status is waiting for the event: a completion sets both in one step.
    auto event = event_object(event_of(ov));
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    std::unique_lock lock(wait_mutex());
    while (load_internal(ov) == STATUS_PENDING) {
      if (alertable && run_apcs_locked(lock)) return fail(WAIT_IO_COMPLETION);
      PortWaitGuard not_running;
      if (ms == INFINITE) {
        wait_cv().wait(lock);
      } else if (wait_cv().wait_until(lock, deadline) == std::cv_status::timeout &&
                 load_internal(ov) == STATUS_PENDING) {
        return fail(WAIT_TIMEOUT);
      }
    }
    // The wait consumed an auto-reset event, as a wait on it would have.
    if (event && !static_cast<EventObject&>(*event).manual()) {
      static_cast<EventObject&>(*event).reset_locked();
    }
  }
  DWORD status = load_internal(ov);
  DWORD error = error_of_status(status);
  // Failures report 0 bytes; the ERROR_MORE_DATA warning its count (GetOverlappedResult).
  if (bytes) *bytes = (error == ERROR_SUCCESS || error == ERROR_MORE_DATA)
                          ? static_cast<DWORD>(ov->InternalHigh)
                          : 0;
  if (error != ERROR_SUCCESS) return fail(error);
  return TRUE;
}

// ---- ReadFileEx / WriteFileEx on synchronous handles (docs/architecture.md) ------------------

BOOL sync_ex(BOOL ok, LPOVERLAPPED ov, LPOVERLAPPED_COMPLETION_ROUTINE routine) {
  DWORD error = ok ? ERROR_SUCCESS : GetLastError();
  if (!ok && error != ERROR_MORE_DATA) return FALSE;
  auto bytes = static_cast<DWORD>(ov->InternalHigh);
  (void)queue_apc(*current_apc_queue(), [routine, bytes, ov] { routine(0, bytes, ov); });
  set_last_error(error);
  return TRUE;
}

// ---- cancellation --------------------------------------------------------------------------------

// Cancels the pending operations of `pipe` that `match` selects; how many the engine ended.
template <class Match>
std::size_t cancel_matching(NamedPipeObject& pipe, Match match, bool* found) {
  std::vector<std::uint64_t> ids;
  {
    std::lock_guard lock(wait_mutex());
    for (auto& op : pipe.async->pending) {
      if (!op->done && op->id != 0 && match(*op)) ids.push_back(op->id);
    }
  }
  *found = !ids.empty();
  std::size_t n = 0;
  const auto& core = pipe.end().core();
  if (!core) return 0;
  for (auto id : ids) n += core->cancel(id);
  return n;
}

NamedPipeObject* overlapped_pipe(const std::shared_ptr<Object>& object) {
  if (!object || object->kind() != Kind::kNamedPipe) return nullptr;
  auto& pipe = static_cast<NamedPipeObject&>(*object);
  return pipe.overlapped() ? &pipe : nullptr;
}

// ---- completion ports ----------------------------------------------------------------------------

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
  if (Registry* r = registry(&registry_error)) engine = r->engine();
  {
    std::lock_guard lock(wait_mutex());
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
// their engine (Engine::drive) rather than sleep on wait_cv(), one thread at a time (the others
// sleep as before). A doorbell then wakes this thread, which runs the completion itself and
// finds the packet in its own port: one wake-up per completion instead of two (the agent
// thread's, then this thread's). While driving it is listed in drivers(), so that whatever
// changes what it waits for (a packet, an APC, the port closing, a running thread leaving)
// wakes it through Engine::wake().
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
  const void* const me = &t_io;
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  std::shared_ptr<core::Engine> engine;  // released after the lock (it may be the last reference)
  std::unique_lock lock(wait_mutex());
  engine = q.engine.lock();
  // Serves the engine until something may have changed; false when another thread serves it.
  auto drive = [&] {
    int timeout = -1;
    if (ms != INFINITE) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      timeout = static_cast<int>(std::max<decltype(left)>(left, 0));
    }
    drivers().push_back(Driver{me, engine});
    // A packet posted from here on wakes the engine for this thread; another thread driving
    // meanwhile may take that wake-up, so the ticket carries it over to this thread's turn.
    const std::uint64_t ticket = engine->wake_ticket();
    lock.unlock();
    bool drove = engine->drive(timeout, nullptr, ticket);
    lock.lock();
    std::erase_if(drivers(), [&](const Driver& d) { return d.thread == me; });
    return drove;
  };
  // Another port's waiters may take the place this thread leaves; this port's are behind it on
  // the stack, and it takes what it can itself.
  bool other_port = t_io.running_for != port;
  bool notify = stop_running_locked(t_io) && other_port;
  q.waiters.push_back(me);
  auto releasable = [&] {
    return !q.packets.empty() && q.running < q.concurrency && q.waiters.back() == me;
  };
  // Leaves the waiter stack; when this thread was on top, the next waiter may be releasable.
  auto leave = [&] {
    bool top = q.waiters.back() == me;
    std::erase(q.waiters, me);
    if (top && !q.waiters.empty() && !q.packets.empty()) notify = true;
  };
  ULONG n = 0;
  bool burst = false;          // packets still queued after those this thread takes
  bool drive_refused = false;  // its last try to serve the engine found another thread there
  for (;;) {
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
    if (alertable && t_io.apc && !t_io.apc->apcs.empty()) {
      // Out of the stack first: the routines run unlocked and may take long.
      leave();
      if (notify) notify_waiters(kicks_locked());
      notify = false;
      (void)run_apcs_locked(lock);
      set_last_error(WAIT_IO_COMPLETION);
      break;
    }
    if (ms == 0) {
      leave();
      set_last_error(WAIT_TIMEOUT);
      break;
    }
    if (notify) {
      notify_waiters(kicks_locked());
      notify = false;
    }
    bool timed_out = false;
    if (engine && !drive_refused && !thread_impersonates()) {
      if (!drive()) {
        // Another thread serves the engine. A packet posted while this one asked to drive woke
        // the engine for it, not wait_cv(): look again before sleeping there.
        drive_refused = true;
        continue;
      }
      timed_out = ms != INFINITE && Clock::now() >= deadline;
    } else {
      drive_refused = false;
      if (ms == INFINITE) {
        wait_cv().wait(lock);
      } else {
        timed_out = wait_cv().wait_until(lock, deadline) == std::cv_status::timeout;
      }
    }
    if (timed_out) {
      if (releasable() || q.closed) continue;  // came with the time-out: taken above
      leave();
      set_last_error(WAIT_TIMEOUT);
      break;
    }
  }
  Kicks kicks;
  if (notify) kicks = kicks_locked();
  lock.unlock();
  if (notify) notify_waiters(kicks);
  engine.reset();
  os::hold_wakes(burst);
  return n;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                LPDWORD lpNumberOfBytesTransferred, BOOL bWait) {
  return guarded<BOOL>(FALSE, [&] {
    return overlapped_result(hFile, lpOverlapped, lpNumberOfBytesTransferred,
                             bWait ? INFINITE : 0, false);
  });
}

BOOL WINAPI GetOverlappedResultEx(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                  LPDWORD lpNumberOfBytesTransferred, DWORD dwMilliseconds,
                                  BOOL bAlertable) {
  return guarded<BOOL>(FALSE, [&] {
    return overlapped_result(hFile, lpOverlapped, lpNumberOfBytesTransferred, dwMilliseconds,
                             bAlertable != FALSE);
  });
}

BOOL WINAPI ReadFileEx(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                       LPOVERLAPPED lpOverlapped, LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if (!lpOverlapped || !lpCompletionRoutine) return fail(ERROR_INVALID_PARAMETER);
    if (!lpBuffer && nNumberOfBytesToRead > 0) return fail(ERROR_NOACCESS);
    if (NamedPipeObject* pipe = overlapped_pipe(object)) {
      std::span<std::byte> buffer(static_cast<std::byte*>(lpBuffer),
                                  lpBuffer ? nNumberOfBytesToRead : 0);
      return overlapped_read(*pipe, buffer, nullptr, lpOverlapped, lpCompletionRoutine);
    }
    object.reset();
    DWORD n = 0;
    BOOL ok = ReadFile(hFile, lpBuffer, nNumberOfBytesToRead, &n, lpOverlapped);
    return sync_ex(ok, lpOverlapped, lpCompletionRoutine);
  });
}

BOOL WINAPI WriteFileEx(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                        LPOVERLAPPED lpOverlapped,
                        LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    if (!lpOverlapped || !lpCompletionRoutine) return fail(ERROR_INVALID_PARAMETER);
    if (!lpBuffer && nNumberOfBytesToWrite > 0) return fail(ERROR_NOACCESS);
    if (NamedPipeObject* pipe = overlapped_pipe(object)) {
      std::span<const std::byte> data(static_cast<const std::byte*>(lpBuffer),
                                      lpBuffer ? nNumberOfBytesToWrite : 0);
      return overlapped_write(*pipe, data, nullptr, lpOverlapped, lpCompletionRoutine);
    }
    object.reset();
    DWORD n = 0;
    BOOL ok = WriteFile(hFile, lpBuffer, nNumberOfBytesToWrite, &n, lpOverlapped);
    return sync_ex(ok, lpOverlapped, lpCompletionRoutine);
  });
}

BOOL WINAPI CancelIo(HANDLE hFile) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    NamedPipeObject* pipe = overlapped_pipe(object);
    if (!pipe) return TRUE;  // a synchronous handle: nothing to do
    std::uint32_t me = current_tid();
    bool found = false;
    (void)cancel_matching(*pipe, [me](const PendingIo& op) { return op.tid == me; }, &found);
    return TRUE;
  });
}

BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    NamedPipeObject* pipe = overlapped_pipe(object);
    if (!pipe) return fail(ERROR_NOT_FOUND);
    bool found = false;
    std::size_t n = cancel_matching(
        *pipe, [lpOverlapped](const PendingIo& op) { return !lpOverlapped || op.ov == lpOverlapped; },
        &found);
    // An operation that completed between the look and the cancel was not marked.
    if (n == 0) return fail(ERROR_NOT_FOUND);
    return TRUE;
  });
}

BOOL WINAPI CancelSynchronousIo(HANDLE hThread) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    std::uint32_t tid = current_tid();
    if (hThread != GetCurrentThread()) {
      auto object = globals().handles.get(hThread);
      if (!object || object->kind() != Kind::kThread) return fail(ERROR_INVALID_HANDLE);
      tid = static_cast<ThreadObject&>(*object).tid;
    }
    // Only synchronous pipe calls can be cancelled this way; a thread waiting in anything else
    // (or not waiting) has no cancellable synchronous I/O.
    if (!sluice::cancel_synchronous_io(tid)) return fail(ERROR_NOT_FOUND);
    return TRUE;
  });
}

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
    Kicks kicks;
    {
      std::lock_guard lock(wait_mutex());
      queue->packets.push_back(
          Packet{dwCompletionKey, lpOverlapped, STATUS_SUCCESS, dwNumberOfBytesTransferred});
      kicks = kicks_locked();
    }
    notify_waiters(kicks);
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
    std::lock_guard lock(wait_mutex());
    pipe.async->modes |= Flags;  // modes cannot be turned off again (Windows)
    return TRUE;
  });
}

}  // extern "C"
