// Overlapped I/O on named-pipe handles: ReadFile/WriteFile/TransactNamedPipe/ConnectNamedPipe
// given an OVERLAPPED, ReadFileEx/WriteFileEx with a completion routine, and
// GetOverlappedResult(Ex) (Microsoft Learn: "Synchronous and Asynchronous I/O"), over the
// engine's asynchronous operations (PipeEndCore::start_*). Completion ports are in
// completion_ports.cpp, APC queues in apc_queue.cpp, cancellation in cancellation.cpp.
//
// The engine tells "finished at once" (Started::now) from "pending" (a callback later), which is
// exactly the distinction Windows makes visible: TRUE / ERROR_MORE_DATA / a failure now versus
// ERROR_IO_PENDING. Both paths end in deliver(), which fills the OVERLAPPED and then signals,
// posts and queues (see async.hpp).
#include "win32/async.hpp"

#include <chrono>

#include "api/engine_access.hpp"
#include "core/pipe_end_core.hpp"
#include "win32/ntstatus.hpp"
#include "win32/remote_ports.hpp"
#include "win32/thread_io.hpp"

namespace sluice::win32 {

namespace {

using Clock = std::chrono::steady_clock;
using IoResult = core::PipeEndCore::IoResult;

}  // namespace

// ---- events and completions ---------------------------------------------------------------------

std::shared_ptr<Object> event_object(HANDLE h) {
  if (!h) return nullptr;
  auto object = globals().handles.get(h);
  if (!object || object->kind() != Kind::kEvent) return nullptr;
  return object;
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
  RemotePort remote;                    // set when the packet goes to another process's port
  Packet packet{0, ov, status, bytes};  // the key is read under the lock
  {
    std::lock_guard lock(io_mutex());
    op.done = true;
    std::erase_if(state.pending, [&](const auto& p) { return p.get() == &op; });
    if (state.outstanding > 0) --state.outstanding;
    {
      // The status, the handle's signal, the event and the completion routine change under the
      // signals' locks at once, so a thread that sees the status under either lock sees all of
      // them (overlapped_result).
      auto* e = static_cast<EventObject*>(event.get());
      std::unique_lock handle_signal(state.mutex(), std::defer_lock);
      std::unique_lock<std::mutex> event_signal;
      if (e) {
        event_signal = std::unique_lock(e->mutex(), std::defer_lock);
        std::lock(handle_signal, event_signal);
      } else {
        handle_signal.lock();
      }
      ov->InternalHigh = bytes;
      store_internal(ov, status);
      if (state.outstanding == 0 && !(state.modes & FILE_SKIP_SET_EVENT_ON_HANDLE)) {
        state.signaled = true;
      }
      // A GetOverlappedResult without an event waits on the handle: it hears every completion.
      state.wake_waiters_locked();
      if (e) e->set_locked();
      if (op.routine && op.apc) {
        // Queued here too, so that a thread that sees the status also finds the routine queued.
        // Warnings count as success for the routine: Windows gives it 0 for a partial message,
        // which only GetOverlappedResult reports as ERROR_MORE_DATA.
        DWORD code = status == STATUS_BUFFER_OVERFLOW ? 0 : error;
        auto routine = op.routine;
        (void)queue_apc(*op.apc, [routine, code, bytes, ov] { routine(code, bytes, ov); });
      }
    }
    bool skip = immediate && status == STATUS_SUCCESS &&
                (state.modes & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    packet.key = state.key;
    if (state.port && !op.routine && !no_packet && !skip && !state.port->closed) {
      state.port->packets.push_back(packet);
      wake_port_locked(*state.port);
    }
    if (!op.routine && !no_packet && !skip) remote = state.remote_port;  // the packet goes there
  }
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
  const auto& core = EngineAccess::end(pipe.end());
  if (!core) return fail(ERROR_INVALID_HANDLE);
  if (routine) {
    std::lock_guard lock(io_mutex());
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
    std::lock_guard lock(io_mutex());
    if (event) static_cast<EventObject&>(*event).reset();
    {
      std::lock_guard signal(state->mutex());
      state->signaled = false;
    }
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
    case OpKind::kRead:
      started = core->start_read(args.in, callback);
      break;
    case OpKind::kWrite:
      started = core->start_write(args.out, callback);
      break;
    case OpKind::kTransact:
      started = core->start_transact(args.out, args.in, callback);
      break;
    case OpKind::kConnect:
      started = core->start_connect(callback);
      break;
  }
  if (!started.now) {
    bool port = false;
    {
      std::lock_guard lock(io_mutex());
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
      std::lock_guard lock(io_mutex());
      if (state->outstanding > 0) --state->outstanding;
    }
    if (op->remote_token != 0) retire_remote_operation(op->remote, op->remote_token);
    return fail(r.error);
  }
  if (server && (kind == OpKind::kRead || kind == OpKind::kTransact)) state->data_read = true;
  bool port = false;
  {
    std::lock_guard lock(io_mutex());
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

NamedPipeObject* overlapped_pipe(const std::shared_ptr<Object>& object) {
  if (!object || object->kind() != Kind::kNamedPipe) return nullptr;
  auto& pipe = static_cast<NamedPipeObject&>(*object);
  return pipe.overlapped() ? &pipe : nullptr;
}

namespace {

// ---- GetOverlappedResult
// -------------------------------------------------------------------------

BOOL overlapped_result(HANDLE file, LPOVERLAPPED ov, LPDWORD bytes, DWORD ms, bool alertable) {
  auto object = globals().handles.get(file);
  if (!object) return fail(ERROR_INVALID_HANDLE);
  // The handle's signal, not the end: holding the object would keep the end open.
  std::shared_ptr<AsyncState> handle_signal;
  if (object->kind() == Kind::kNamedPipe)
    handle_signal = static_cast<NamedPipeObject&>(*object).async;
  object.reset();
  if (!ov) return fail(ERROR_INVALID_PARAMETER);
  if (load_internal(ov) == STATUS_PENDING) {
    if (ms == 0) return fail(ERROR_IO_INCOMPLETE);  // no APCs run either
    // Waiting for the status is waiting for the event (or, without one, the handle): a
    // completion stores the status before it sets either.
    auto event = event_object(event_of(ov));
    std::vector<objects::Waitable*> signals;
    if (event) signals.push_back(static_cast<EventObject*>(event.get()));
    if (handle_signal) signals.push_back(handle_signal.get());
    objects::Waiter& me = *objects::Waiter::current();
    objects::WaitBlock block(me, signals);
    block.listen();
    std::optional<Clock::time_point> deadline;
    if (ms != INFINITE) deadline = Clock::now() + std::chrono::milliseconds(ms);
    // Read under the first signal's lock: a completion seen there has set its signals too.
    auto pending = [&] {
      if (signals.empty()) return load_internal(ov) == STATUS_PENDING;
      std::lock_guard lock(signals.front()->mutex());
      return load_internal(ov) == STATUS_PENDING;
    };
    PortWaitGuard not_running;
    for (;;) {
      const auto ticket = me.ticket();
      if (!pending()) break;
      if (alertable && run_apcs()) return fail(WAIT_IO_COMPLETION);
      if (!me.sleep(ticket, deadline) && pending()) return fail(WAIT_TIMEOUT);
    }
    // The wait consumed an auto-reset event, as a wait on it would have.
    if (event && !static_cast<EventObject&>(*event).manual()) {
      static_cast<EventObject&>(*event).reset();
    }
  }
  DWORD status = load_internal(ov);
  DWORD error = error_of_status(status);
  // Failures report 0 bytes; the ERROR_MORE_DATA warning its count (GetOverlappedResult).
  if (bytes)
    *bytes = (error == ERROR_SUCCESS || error == ERROR_MORE_DATA)
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

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                LPDWORD lpNumberOfBytesTransferred, BOOL bWait) {
  return guarded<BOOL>(FALSE, [&] {
    return overlapped_result(hFile, lpOverlapped, lpNumberOfBytesTransferred, bWait ? INFINITE : 0,
                             false);
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
                       LPOVERLAPPED lpOverlapped,
                       LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    DWORD access = 0;
    auto object = globals().handles.get(hFile, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // As ReadFile: the handle's own rights first (a duplicate may have fewer than its end).
    if (!(access & FILE_READ_DATA) && is_file_kind(object->kind()))
      return fail(ERROR_ACCESS_DENIED);
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
    DWORD access = 0;
    auto object = globals().handles.get(hFile, &access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // As WriteFile, for the pipe ends this path serves (files go through WriteFile below).
    if (!(access & FILE_WRITE_DATA) && object->kind() == Kind::kNamedPipe)
      return fail(ERROR_ACCESS_DENIED);
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

}  // extern "C"
