// Cancellation: CancelIo (the calling thread's operations on a handle), CancelIoEx (one
// OVERLAPPED, or all of them, from any thread) and CancelSynchronousIo (another thread's blocking
// pipe call). A cancelled operation still completes once, with ERROR_OPERATION_ABORTED, as
// Microsoft's CancelIoEx documentation describes; the engine delivers that completion.
#include "win32/async.hpp"

#include <vector>

#include "api/engine_access.hpp"
#include "core/pipe_end_core.hpp"
#include "win32/thread_io.hpp"

namespace sluice::win32 {
namespace {

// Cancels the pending operations of `pipe` that `match` selects; how many the engine ended.
template <class Match>
std::size_t cancel_matching(NamedPipeObject& pipe, Match match, bool* found) {
  std::vector<std::uint64_t> ids;
  {
    std::lock_guard lock(io_mutex());
    for (auto& op : pipe.async->pending) {
      if (!op->done && op->id != 0 && match(*op)) ids.push_back(op->id);
    }
  }
  *found = !ids.empty();
  std::size_t n = 0;
  const auto& core = EngineAccess::end(pipe.end());
  if (!core) return 0;
  for (auto id : ids) n += core->cancel(id);
  return n;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI CancelIo(HANDLE hFile) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hFile);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    NamedPipeObject* pipe = overlapped_pipe(object);
    if (!pipe) return TRUE;  // a synchronous handle: nothing to do
    std::uint32_t me = current_tid();
    bool found = false;
    (void)cancel_matching(
        *pipe, [me](const PendingIo& op) { return op.tid == me; }, &found);
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
        *pipe,
        [lpOverlapped](const PendingIo& op) { return !lpOverlapped || op.ov == lpOverlapped; },
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

}  // extern "C"
