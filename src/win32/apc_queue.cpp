// APC queues (QueueUserAPC, completion routines): a thread's APCs run only while it waits
// alertably, and die with the thread (Microsoft's "Asynchronous Procedure Calls" documentation).
#include "win32/async.hpp"

#include "win32/thread_io.hpp"

namespace sluice::win32 {

const std::shared_ptr<ApcQueue>& current_apc_queue() {
  if (!t_io.apc) {
    t_io.apc = std::make_shared<ApcQueue>();
    t_io.apc->owner = objects::Waiter::current();
  }
  return t_io.apc;
}

void adopt_apc_queue(std::shared_ptr<ApcQueue> queue) {
  {
    std::lock_guard lock(queue->mu);
    queue->owner = objects::Waiter::current();
  }
  t_io.apc = std::move(queue);
}

bool queue_apc(ApcQueue& queue, std::function<void()> apc) {
  std::shared_ptr<objects::Waiter> owner;
  {
    std::lock_guard lock(queue.mu);
    if (!queue.alive) return false;
    queue.apcs.push_back(std::move(apc));
    owner = queue.owner;
  }
  // A thread that has not run yet looks at its queue before its first wait.
  if (owner) owner->wake();
  return true;
}

void close_apc_queue(ApcQueue& queue) {
  // Destroyed after the lock: an APC's captures may hold objects whose destructors take locks.
  std::deque<std::function<void()>> dropped;
  std::lock_guard lock(queue.mu);
  queue.alive = false;
  dropped.swap(queue.apcs);
}

bool has_apcs() {
  if (!t_io.apc) return false;
  std::lock_guard lock(t_io.apc->mu);
  return !t_io.apc->apcs.empty();
}

bool run_apcs() {
  if (!t_io.apc) return false;
  ApcQueue& q = *t_io.apc;
  bool ran = false;
  for (;;) {
    std::function<void()> apc;
    {
      std::lock_guard lock(q.mu);
      if (q.apcs.empty()) return ran;
      apc = std::move(q.apcs.front());
      q.apcs.pop_front();
    }
    apc();
    ran = true;
  }
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
