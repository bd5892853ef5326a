// Events, waits, threads and time (synchapi.h, processthreadsapi.h, sysinfoapi.h).
//
// Every waitable object (event, thread, process, pipe handle) is an objects::Waitable: its
// signalled state sits under its own mutex, and a change wakes the threads waiting for it and no
// others. WaitForMultipleObjects (wait-any and wait-all, auto-reset events taken atomically) is
// one WaitBlock over the objects. Events are the objects layer's (objects/event.hpp); a named
// event's state lives in memory shared with other processes (objects/named_event.hpp), and while
// a wait includes one, the named-event watcher wakes the waiting thread when another process
// changes it.
#include <windows.h>

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "objects/event.hpp"
#include "objects/named_event.hpp"
#include "os/linux/directory.hpp"
#include "os/linux/futex.hpp"
#include "os/linux/thread.hpp"
#include "sluice/impersonation.hpp"
#include "win32/async.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {

// An anonymous pipe end is synchronous only: no operation is ever outstanding when a wait looks.
class AlwaysSignalled final : public objects::Waitable {
 public:
  bool signalled_locked() noexcept override { return true; }
};

objects::Waitable* waitable(Object& object) noexcept {
  static auto* always = new AlwaysSignalled;  // never destroyed: threads may wait after main
  switch (object.kind()) {
    case Kind::kEvent:
      return static_cast<EventObject*>(&object);
    case Kind::kThread:
      return static_cast<ThreadObject*>(&object);
    case Kind::kProcess:
      return &static_cast<ProcessObject&>(object).target();
    case Kind::kNamedPipe:
      // Signalled while no overlapped operation is outstanding on the end (AsyncState).
      return static_cast<NamedPipeObject&>(object).async.get();
    case Kind::kAnonRead:
    case Kind::kAnonWrite:
      return always;
    default:
      return nullptr;
  }
}

namespace {

using Clock = std::chrono::steady_clock;

DWORD wait_for(DWORD count, const HANDLE* handles, BOOL wait_all, DWORD ms, bool alertable) {
  if (count == 0 || count > MAXIMUM_WAIT_OBJECTS || !handles) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return WAIT_FAILED;
  }
  std::vector<std::shared_ptr<Object>> objects;  // holds the waitables alive
  std::vector<objects::Waitable*> waitables;
  std::vector<objects::Event*> events;  // parallel to waitables: null where not an event
  objects.reserve(count);
  waitables.reserve(count);
  events.reserve(count);
  for (DWORD i = 0; i < count; ++i) {
    DWORD access = 0;
    auto object = globals().handles.get(handles[i], &access);
    objects::Waitable* w = object ? waitable(*object) : nullptr;
    if (!w) {
      set_last_error(ERROR_INVALID_HANDLE);
      return WAIT_FAILED;
    }
    objects::Event* event = nullptr;
    if (object->kind() == Kind::kEvent) {
      // Waiting needs SYNCHRONIZE on this handle, whatever another handle to the event has.
      if (!(access & SYNCHRONIZE)) {
        set_last_error(ERROR_ACCESS_DENIED);
        return WAIT_FAILED;
      }
      event = static_cast<EventObject*>(object.get());
    }
    objects.push_back(std::move(object));
    waitables.push_back(w);
    events.push_back(event);
  }
  const std::shared_ptr<objects::Waiter>& me = objects::Waiter::current();
  // Named events other processes may set are watched from just before the first sleep (a wait
  // satisfied at once costs no more than before); released after the block.
  objects::EventWatches watches(events);
  objects::WaitBlock block(*me, waitables);
  std::optional<Clock::time_point> deadline;
  if (ms != INFINITE) deadline = Clock::now() + std::chrono::milliseconds(ms);
  auto satisfied = [&]() -> std::optional<DWORD> {
    auto taken = block.take(wait_all != FALSE);
    if (!taken) return std::nullopt;
    return static_cast<DWORD>(WAIT_OBJECT_0 + *taken);
  };
  std::optional<PortWaitGuard> not_running;  // from the first sleep on
  for (;;) {
    const auto ticket = me->ticket();
    // Queued APCs run first, even when an object is signalled, as on Windows.
    if (alertable && run_apcs()) return WAIT_IO_COMPLETION;
    if (auto done = satisfied()) return *done;
    if (ms == 0) return WAIT_TIMEOUT;
    if (watches.watch_new(me)) continue;  // look again: a set before the watch is not heard
    if (!not_running) not_running.emplace();
    if (!me->sleep(ticket, deadline)) {
      // One more look: the state may have changed right at the deadline.
      if (auto done = satisfied()) return *done;
      return WAIT_TIMEOUT;
    }
  }
}

// The named event `name` in the namespace of the layer's default registry.
Result<objects::OpenedEvent> named_event(const std::string& name, bool create, bool manual,
                                         bool initial) {
  std::error_code ec;
  Registry* reg = registry(&ec);
  if (!reg) return ec;
  return objects::open_named_event(reg->directory(), name, create, manual, initial);
}

// CreateEvent: `name` null or empty for an unnamed event (Windows treats "" as no name).
HANDLE create_event(LPSECURITY_ATTRIBUTES sa, BOOL manual, BOOL initial, const std::string* name) {
  DWORD inherit = sa && sa->bInheritHandle ? HANDLE_FLAG_INHERIT : 0;
  if (!name || name->empty()) {
    return globals().handles.insert(
        std::make_shared<EventObject>(manual != FALSE, initial != FALSE), inherit);
  }
  auto opened = named_event(*name, true, manual != FALSE, initial != FALSE);
  if (!opened) {
    fail(opened.error());
    return nullptr;
  }
  HANDLE h = globals().handles.insert(
      std::make_shared<EventObject>(std::move(opened->event), EVENT_ALL_ACCESS), inherit);
  // Windows clears the last error for a new name, so callers can test for ERROR_ALREADY_EXISTS.
  set_last_error(opened->existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
  return h;
}

HANDLE open_event(DWORD access, BOOL inherit, const std::string* name) {
  if (!name) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return nullptr;
  }
  auto opened = named_event(*name, false, false, false);
  if (!opened) {
    fail(opened.error());
    return nullptr;
  }
  access = map_generic_rights(Kind::kEvent, access);
  return globals().handles.insert(std::make_shared<EventObject>(std::move(opened->event), access),
                                  inherit ? HANDLE_FLAG_INHERIT : 0);
}

// SetEvent and ResetEvent check the handle's rights; the completion of an overlapped operation
// (signal_event) sets its event whatever rights the caller's handle has, as the kernel does.
BOOL set_event_state(HANDLE h, bool state, bool check_access) {
  DWORD access = 0;
  auto object = globals().handles.get(h, &access);
  if (!object || object->kind() != Kind::kEvent) return fail(ERROR_INVALID_HANDLE);
  auto& event = static_cast<EventObject&>(*object);
  if (check_access && !(access & EVENT_MODIFY_STATE)) return fail(ERROR_ACCESS_DENIED);
  if (state) {
    event.set();
  } else {
    event.reset();
  }
  return TRUE;
}

std::optional<std::string> name_of(LPCSTR name) {
  if (!name) return std::nullopt;
  return std::string(name);
}
std::optional<std::string> name_of(LPCWSTR name) {
  if (!name) return std::nullopt;
  return to_utf8(name);
}

struct ThreadStart {
  std::shared_ptr<ThreadObject> self;
  LPTHREAD_START_ROUTINE routine;
  LPVOID parameter;
};

thread_local std::shared_ptr<ThreadObject> t_current_thread;

void finish_thread(ThreadObject& t, DWORD code) {
  // Its APCs die before it is seen to end: a QueueUserAPC after a wait on the thread returned
  // must fail, and the thread's own clean-up (ThreadIo) may run later than that wait.
  if (t.apc) close_apc_queue(*t.apc);
  std::lock_guard lock(t.mutex());
  if (t.done) return;
  t.done = true;
  t.exit_code = code;
  t.wake_waiters_locked();
}

void* thread_main(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  t_current_thread = start->self;
  adopt_apc_queue(start->self->apc);
  auto routine = start->routine;
  auto parameter = start->parameter;
  auto self = start->self;
  start.reset();
  self->tid.store(os::current_thread_id());
  os::futex_wake_all(&self->tid, false);  // CreateThread may wait for it
  DWORD code = routine(parameter);
  finish_thread(*self, code);
  t_current_thread.reset();
  return nullptr;
}

}  // namespace

Result<std::shared_ptr<objects::NamedEvent>> EventObject::shared_state() {
  std::error_code ec;
  Registry* reg = registry(&ec);
  if (!reg) return ec;
  return objects::Event::shared_state(reg->directory());
}

void signal_event(HANDLE h) noexcept { (void)set_event_state(h, true, false); }
void reset_event(HANDLE h) noexcept { (void)set_event_state(h, false, false); }

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCSTR lpName) {
  return guarded<HANDLE>(nullptr, [&] {
    auto name = name_of(lpName);
    return create_event(lpEventAttributes, bManualReset, bInitialState, name ? &*name : nullptr);
  });
}

HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCWSTR lpName) {
  return guarded<HANDLE>(nullptr, [&] {
    auto name = name_of(lpName);
    return create_event(lpEventAttributes, bManualReset, bInitialState, name ? &*name : nullptr);
  });
}

HANDLE WINAPI OpenEventA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName) {
  return guarded<HANDLE>(nullptr, [&] {
    auto name = name_of(lpName);
    return open_event(dwDesiredAccess, bInheritHandle, name ? &*name : nullptr);
  });
}

HANDLE WINAPI OpenEventW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName) {
  return guarded<HANDLE>(nullptr, [&] {
    auto name = name_of(lpName);
    return open_event(dwDesiredAccess, bInheritHandle, name ? &*name : nullptr);
  });
}

BOOL WINAPI SetEvent(HANDLE hEvent) {
  return guarded<BOOL>(FALSE, [&] { return set_event_state(hEvent, true, true); });
}

BOOL WINAPI ResetEvent(HANDLE hEvent) {
  return guarded<BOOL>(FALSE, [&] { return set_event_state(hEvent, false, true); });
}

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds) {
  return guarded<DWORD>(WAIT_FAILED,
                        [&] { return wait_for(1, &hHandle, FALSE, dwMilliseconds, false); });
}

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds) {
  return guarded<DWORD>(
      WAIT_FAILED, [&] { return wait_for(nCount, lpHandles, bWaitAll, dwMilliseconds, false); });
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
  if (dwMilliseconds == 0) {
    std::this_thread::yield();
    return;
  }
  PortWaitGuard not_running;
  if (dwMilliseconds == INFINITE) {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(dwMilliseconds));
}

DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable) {
  if (!bAlertable) {
    Sleep(dwMilliseconds);
    return 0;
  }
  return guarded<DWORD>(0, [&]() -> DWORD {
    // An alertable sleep is a wait on nothing but the thread's own APC queue (its Waiter).
    std::optional<Clock::time_point> deadline;
    if (dwMilliseconds != INFINITE)
      deadline = Clock::now() + std::chrono::milliseconds(dwMilliseconds);
    sluice::objects::Waiter& me = *sluice::objects::Waiter::current();
    (void)current_apc_queue();  // so that QueueUserAPC finds this thread's Waiter
    PortWaitGuard not_running(dwMilliseconds != 0);
    for (;;) {
      const auto ticket = me.ticket();
      if (run_apcs()) return WAIT_IO_COMPLETION;
      if (dwMilliseconds == 0) return 0;
      if (!me.sleep(ticket, deadline)) return run_apcs() ? WAIT_IO_COMPLETION : 0;
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
    // A new thread inherits its creator's kernel credentials; Windows starts every thread with
    // the process's token, impersonating or not ("Impersonation", Microsoft Learn).
    sluice::ProcessIdentityScope as_process;
    if (auto started = sluice::os::start_detached_thread(thread_main, start.get(), dwStackSize);
        !started) {
      fail(started.error());
      return nullptr;
    }
    start.release();  // owned by the thread now
    HANDLE h = globals().handles.insert(
        self, lpThreadAttributes && lpThreadAttributes->bInheritHandle ? HANDLE_FLAG_INHERIT : 0);
    if (lpThreadId) {
      // The kernel thread id (what GetCurrentThreadId returns in that thread) is known once the
      // thread runs.
      const sluice::os::FutexWaiter unset{&self->tid, 0, false};
      while (self->tid.load() == 0) (void)sluice::os::futex_wait_any(&unset, 1, std::nullopt);
      *lpThreadId = self->tid.load();
    }
    return h;
  });
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto object = globals().handles.get(hThread);
    if (!object || object->kind() != Kind::kThread) return fail(ERROR_INVALID_HANDLE);
    if (!lpExitCode) return fail(ERROR_NOACCESS);
    auto& t = static_cast<ThreadObject&>(*object);
    std::lock_guard lock(t.mutex());
    *lpExitCode = t.done ? t.exit_code : STILL_ACTIVE;
    return TRUE;
  });
}

VOID WINAPI ExitThread(DWORD dwExitCode) {
  if (t_current_thread) {
    finish_thread(*t_current_thread, dwExitCode);
    t_current_thread.reset();
  }
  sluice::os::exit_thread();
}

}  // extern "C"
