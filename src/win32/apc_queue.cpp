// APC queues (QueueUserAPC, completion routines): a thread's APCs run only while it waits
// alertably, and die with the thread (Microsoft's "Asynchronous Procedure Calls" documentation).
#include "win32/async.hpp"

#include "win32/thread_io.hpp"

namespace sluice::win32 {

const std::shared_ptr<ApcQueue>& current_apc_queue() {
  if (!t_io.apc) t_io.apc = std::make_shared<ApcQueue>();
  return t_io.apc;
}

void adopt_apc_queue(std::shared_ptr<ApcQueue> queue) { t_io.apc = std::move(queue); }

bool queue_apc(ApcQueue& queue, std::function<void()> apc) {
  Kicks kicks;
  {
    std::lock_guard lock(wait_mutex());
    if (!queue.alive) return false;
    queue.apcs.push_back(std::move(apc));
    kicks = kicks_locked();  // an alertable GetQueuedCompletionStatusEx may be driving
  }
  notify_waiters(kicks);
  return true;
}

bool run_apcs_locked(std::unique_lock<std::mutex>& lock) {
  if (!t_io.apc || t_io.apc->apcs.empty()) return false;
  ApcQueue& q = *t_io.apc;
  while (!q.apcs.empty()) {
    auto apc = std::move(q.apcs.front());
    q.apcs.pop_front();
    lock.unlock();
    apc();
    lock.lock();
  }
  return true;
}

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

DWORD WINAPI QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread, ULONG_PTR dwData) {
  return guarded<DWORD>(0, [&]() -> DWORD {
    if (!pfnAPC) {
      set_last_error(ERROR_INVALID_PARAMETER);
      return 0;
    }
    std::shared_ptr<ApcQueue> queue;
    if (hThread == GetCurrentThread()) {
      queue = current_apc_queue();
    } else {
      auto object = globals().handles.get(hThread);
      if (object && object->kind() == Kind::kThread)
        queue = static_cast<ThreadObject&>(*object).apc;
    }
    if (!queue || !queue_apc(*queue, [pfnAPC, dwData] { pfnAPC(dwData); })) {
      set_last_error(ERROR_INVALID_HANDLE);
      return 0;
    }
    return 1;
  });
}

}  // extern "C"
