// Events, waits, threads and time (synchapi.h, processthreadsapi.h, sysinfoapi.h).
//
// Every waitable object (event, thread, process) keeps its signalled state under one mutex and
// one condition variable, so WaitForMultipleObjects (wait-any and wait-all, auto-reset events
// consumed atomically) is a single loop. TODO(perf): the engine's waitable-object primitive
// (DESIGN decision 12) will replace this when asynchronous I/O arrives.
#include <windows.h>

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "win32/async.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

using Clock = std::chrono::steady_clock;

// Whether `object` is signalled; consumes an auto-reset event when `consume`. Called with
// wait_mutex() held.
bool signalled_locked(Object& object, bool consume) {
  switch (object.kind()) {
    case Kind::kEvent: {
      auto& e = static_cast<EventObject&>(object);
      if (!e.signaled) return false;
      if (consume && !e.manual) e.signaled = false;
      return true;
    }
    case Kind::kThread:
      return static_cast<ThreadObject&>(object).done;
    case Kind::kProcess:
      return static_cast<ProcessObject&>(object).target().done;
    case Kind::kNamedPipe:
      // Signalled while no overlapped operation is outstanding on the end (README "Waitable
      // state of a pipe handle").
      return static_cast<NamedPipeObject&>(object).async->signaled;
    case Kind::kAnonRead:
    case Kind::kAnonWrite:
      return true;  // synchronous only: never an operation outstanding when a wait looks
    default:
      return false;
  }
}

bool waitable(const Object& object) {
  return object.kind() != Kind::kFd && object.kind() != Kind::kPort;
}

DWORD wait_for(DWORD count, const HANDLE* handles, BOOL wait_all, DWORD ms, bool alertable) {
  if (count == 0 || count > MAXIMUM_WAIT_OBJECTS || !handles) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return WAIT_FAILED;
  }
  std::vector<std::shared_ptr<Object>> objects;
  objects.reserve(count);
  for (DWORD i = 0; i < count; ++i) {
    auto object = globals().handles.get(handles[i]);
    if (!object || !waitable(*object)) {
      set_last_error(ERROR_INVALID_HANDLE);
      return WAIT_FAILED;
    }
    objects.push_back(std::move(object));
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  std::unique_lock lock(wait_mutex());
  for (;;) {
    // Queued APCs run first, even when an object is signalled (io-models.md §4).
    if (alertable && run_apcs_locked(lock)) return WAIT_IO_COMPLETION;
    if (wait_all) {
      bool all = true;
      for (auto& o : objects) all = all && signalled_locked(*o, false);
      if (all) {
        for (auto& o : objects) (void)signalled_locked(*o, true);
        return WAIT_OBJECT_0;
      }
    } else {
      for (DWORD i = 0; i < count; ++i) {
        if (signalled_locked(*objects[i], true)) return WAIT_OBJECT_0 + i;
      }
    }
    if (ms == INFINITE) {
      wait_cv().wait(lock);
    } else if (wait_cv().wait_until(lock, deadline) == std::cv_status::timeout) {
      // One more look: the state may have changed right at the deadline.
      if (Clock::now() >= deadline) {
        if (wait_all) {
          bool all = true;
          for (auto& o : objects) all = all && signalled_locked(*o, false);
          if (all) {
            for (auto& o : objects) (void)signalled_locked(*o, true);
            return WAIT_OBJECT_0;
          }
        } else {
          for (DWORD i = 0; i < count; ++i) {
            if (signalled_locked(*objects[i], true)) return WAIT_OBJECT_0 + i;
          }
        }
        return WAIT_TIMEOUT;
      }
    }
  }
}

HANDLE create_event(LPSECURITY_ATTRIBUTES sa, BOOL manual, BOOL initial, bool named) {
  if (named) {
    // TODO(compat): named events (shared between processes).
    set_last_error(ERROR_NOT_SUPPORTED);
    return nullptr;
  }
  return globals().handles.insert(std::make_shared<EventObject>(manual != FALSE, initial != FALSE),
                                  sa && sa->bInheritHandle ? HANDLE_FLAG_INHERIT : 0);
}

BOOL set_event_state(HANDLE h, bool state) {
  auto object = globals().handles.get(h);
  if (!object || object->kind() != Kind::kEvent) return fail(ERROR_INVALID_HANDLE);
  {
    std::lock_guard lock(wait_mutex());
    static_cast<EventObject&>(*object).signaled = state;
  }
  if (state) wait_cv().notify_all();
  return TRUE;
}

struct ThreadStart {
  std::shared_ptr<ThreadObject> self;
  LPTHREAD_START_ROUTINE routine;
  LPVOID parameter;
};

thread_local std::shared_ptr<ThreadObject> t_current_thread;

void finish_thread(ThreadObject& t, DWORD code) {
  {
    std::lock_guard lock(wait_mutex());
    if (t.done) return;
    t.done = true;
    t.exit_code = code;
  }
  wait_cv().notify_all();
}

void* thread_main(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  t_current_thread = start->self;
  adopt_apc_queue(start->self->apc);
  auto routine = start->routine;
  auto parameter = start->parameter;
  auto self = start->self;
  start.reset();
  {
    std::lock_guard lock(wait_mutex());
    self->tid = static_cast<std::uint32_t>(::gettid());
  }
  wait_cv().notify_all();
  DWORD code = routine(parameter);
  finish_thread(*self, code);
  t_current_thread.reset();
  return nullptr;
}

}  // namespace

void signal_event(HANDLE h) noexcept { (void)set_event_state(h, true); }
void reset_event(HANDLE h) noexcept { (void)set_event_state(h, false); }

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCSTR lpName) {
  return guarded<HANDLE>(nullptr, [&] {
    return create_event(lpEventAttributes, bManualReset, bInitialState, lpName != nullptr);
  });
}

HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCWSTR lpName) {
  return guarded<HANDLE>(nullptr, [&] {
    return create_event(lpEventAttributes, bManualReset, bInitialState, lpName != nullptr);
  });
}

BOOL WINAPI SetEvent(HANDLE hEvent) {
  return guarded<BOOL>(FALSE, [&] { return set_event_state(hEvent, true); });
}

BOOL WINAPI ResetEvent(HANDLE hEvent) {
  return guarded<BOOL>(FALSE, [&] { return set_event_state(hEvent, false); });
}

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds) {
  return guarded<DWORD>(WAIT_FAILED,
                        [&] { return wait_for(1, &hHandle, FALSE, dwMilliseconds, false); });
}

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds) {
  return guarded<DWORD>(WAIT_FAILED,
                        [&] { return wait_for(nCount, lpHandles, bWaitAll, dwMilliseconds, false); });
}

DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable) {
  return guarded<DWORD>(WAIT_FAILED, [&] {
    return wait_for(1, &hHandle, FALSE, dwMilliseconds, bAlertable != FALSE);
  });
}

DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                      DWORD dwMilliseconds, BOOL bAlertable) {
  return guarded<DWORD>(WAIT_FAILED, [&] {
    return wait_for(nCount, lpHandles, bWaitAll, dwMilliseconds, bAlertable != FALSE);
  });
}

VOID WINAPI Sleep(DWORD dwMilliseconds) {
  if (dwMilliseconds == INFINITE) {
    for (;;) ::pause();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(dwMilliseconds));
}

DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable) {
  if (!bAlertable) {
    Sleep(dwMilliseconds);
    return 0;
  }
  return guarded<DWORD>(0, [&]() -> DWORD {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(dwMilliseconds);
    std::unique_lock lock(wait_mutex());
    for (;;) {
      if (run_apcs_locked(lock)) return WAIT_IO_COMPLETION;
      if (dwMilliseconds == INFINITE) {
        wait_cv().wait(lock);
      } else if (wait_cv().wait_until(lock, deadline) == std::cv_status::timeout) {
        return run_apcs_locked(lock) ? WAIT_IO_COMPLETION : 0;
      }
    }
  });
}

ULONGLONG WINAPI GetTickCount64(void) {
  return static_cast<ULONGLONG>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count());
}

DWORD WINAPI GetTickCount(void) { return static_cast<DWORD>(GetTickCount64()); }

BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER* lpPerformanceCount) {
  if (!lpPerformanceCount) return fail(ERROR_NOACCESS);
  lpPerformanceCount->QuadPart = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count();
  return TRUE;
}

BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER* lpFrequency) {
  if (!lpFrequency) return fail(ERROR_NOACCESS);
  lpFrequency->QuadPart = 1000000000;  // the counter counts nanoseconds
  return TRUE;
}

HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId) {
  return guarded<HANDLE>(nullptr, [&]() -> HANDLE {
    if (!lpStartAddress) {
      set_last_error(ERROR_INVALID_PARAMETER);
      return nullptr;
    }
    if (dwCreationFlags & CREATE_SUSPENDED) {
      set_last_error(ERROR_NOT_SUPPORTED);
      return nullptr;
    }
    auto self = std::make_shared<ThreadObject>();
    self->apc = std::make_shared<ApcQueue>();
    auto start = std::make_unique<ThreadStart>(ThreadStart{self, lpStartAddress, lpParameter});
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (dwStackSize >= 65536) pthread_attr_setstacksize(&attr, dwStackSize);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, thread_main, start.get());
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      set_last_error(ERROR_NOT_ENOUGH_MEMORY);
      return nullptr;
    }
    start.release();  // owned by the thread now
    HANDLE h = globals().handles.insert(
        self, lpThreadAttributes && lpThreadAttributes->bInheritHandle ? HANDLE_FLAG_INHERIT : 0);
    if (lpThreadId) {
      // The kernel thread id (what GetCurrentThreadId returns in that thread) is known once the
      // thread runs.
      std::unique_lock lock(wait_mutex());
      wait_cv().wait(lock, [&] { return self->tid != 0; });
      *lpThreadId = self->tid;
    }
    return h;
  });
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hThread);
    if (!object || object->kind() != Kind::kThread) return fail(ERROR_INVALID_HANDLE);
    if (!lpExitCode) return fail(ERROR_NOACCESS);
    std::lock_guard lock(wait_mutex());
    auto& t = static_cast<ThreadObject&>(*object);
    *lpExitCode = t.done ? t.exit_code : STILL_ACTIVE;
    return TRUE;
  });
}

VOID WINAPI ExitThread(DWORD dwExitCode) {
  if (t_current_thread) {
    finish_thread(*t_current_thread, dwExitCode);
    t_current_thread.reset();
  }
  pthread_exit(nullptr);
}

}  // extern "C"
