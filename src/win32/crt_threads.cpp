// process.h: the MSVC C run-time's _beginthread(ex) and _endthread(ex), over CreateThread and
// ExitThread ("_beginthread, _beginthreadex", Microsoft Learn).
#include <process.h>

#include <cerrno>
#include <new>
#include <semaphore>

#include "win32/objects.hpp"

namespace {

// What a _beginthread thread needs: the routine, its argument and its own handle, which it
// closes when it ends (MSVC closes a _beginthread thread's handle for the caller). The creator
// hands the handle over once CreateThread has returned it; `ready` says it has.
struct PlainStart {
  _beginthread_proc_type routine;
  void* argument;
  HANDLE self = nullptr;
  std::binary_semaphore ready{0};
};

thread_local PlainStart* t_plain_start = nullptr;

// Ends a _beginthread thread's bookkeeping: waits for its handle and closes it.
void finish_plain_start() {
  PlainStart* start = t_plain_start;
  if (start == nullptr) return;
  t_plain_start = nullptr;
  start->ready.acquire();
  CloseHandle(start->self);
  delete start;
}

DWORD WINAPI plain_thread(LPVOID parameter) {
  t_plain_start = static_cast<PlainStart*>(parameter);
  t_plain_start->routine(t_plain_start->argument);
  finish_plain_start();
  return 0;
}

// errno as the MSVC run-time sets it after a failed CreateThread.
void set_errno_after_failure() {
  DWORD error = GetLastError();
  errno = error == ERROR_INVALID_PARAMETER ? EINVAL
          : error == ERROR_NOT_SUPPORTED   ? EINVAL
          : error == ERROR_ACCESS_DENIED   ? EACCES
                                           : EAGAIN;
}

}  // namespace

extern "C" {

uintptr_t __cdecl _beginthread(_beginthread_proc_type start_address, unsigned stack_size,
                               void* arglist) {
  if (start_address == nullptr) {
    errno = EINVAL;
    return static_cast<uintptr_t>(-1);
  }
  auto* start = new (std::nothrow) PlainStart{start_address, arglist};
  if (start == nullptr) {
    errno = ENOMEM;
    return static_cast<uintptr_t>(-1);
  }
  HANDLE thread = CreateThread(nullptr, stack_size, plain_thread, start, 0, nullptr);
  if (thread == nullptr) {
    set_errno_after_failure();
    delete start;
    return static_cast<uintptr_t>(-1);
  }
  start->self = thread;
  start->ready.release();
  return reinterpret_cast<uintptr_t>(thread);
}

uintptr_t __cdecl _beginthreadex(void* security, unsigned stack_size,
                                 _beginthreadex_proc_type start_address, void* arglist,
                                 unsigned initflag, unsigned* thrdaddr) {
  if (start_address == nullptr) {
    errno = EINVAL;
    return 0;
  }
  // unsigned (*)(void*) and DWORD (WINAPI*)(LPVOID) are the same type here (DWORD is unsigned
  // int, WINAPI empty), as MSVC relies on for x86-64.
  HANDLE thread = CreateThread(static_cast<LPSECURITY_ATTRIBUTES>(security), stack_size,
                               start_address, arglist, initflag, thrdaddr);
  if (thread == nullptr) {
    set_errno_after_failure();
    return 0;
  }
  return reinterpret_cast<uintptr_t>(thread);
}

void __cdecl _endthread(void) {
  finish_plain_start();
  ExitThread(0);
}

void __cdecl _endthreadex(unsigned retval) { ExitThread(retval); }

}  // extern "C"
