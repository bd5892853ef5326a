/* sluice — process.h: the MSVC C run-time's thread functions, over CreateThread.
 *
 *   _beginthreadex: as CreateThread (security, stack size, CREATE_SUSPENDED as CreateThread
 *       takes it, the thread id); returns the thread's HANDLE, which the caller closes, or 0 with
 *       errno set (EINVAL for a null start address, EAGAIN when no thread could be made).
 *   _beginthread: returns the thread's HANDLE, or (uintptr_t)-1 with errno set; the handle is
 *       closed when the thread ends (_endthread or returning), so, as the MSVC documentation
 *       warns, it may be stale by the time the caller looks at it.
 *   _endthread / _endthreadex: end the calling thread (ExitThread), the exit code 0 / retval.
 *
 * __cdecl and __stdcall mean nothing on x86-64 Linux and are empty.
 */
#include <windows.h>

#ifndef SLUICE_WIN32_PROCESS_H_
#define SLUICE_WIN32_PROCESS_H_

#include <crtdefs.h>
#include <stdint.h>

#ifndef __cdecl
#define __cdecl
#endif
#ifndef __stdcall
#define __stdcall
#endif

SLUICE_EXTERN_C_BEGIN

typedef void(__cdecl* _beginthread_proc_type)(void*);
typedef unsigned(__stdcall* _beginthreadex_proc_type)(void*);

uintptr_t __cdecl _beginthread(_beginthread_proc_type start_address, unsigned stack_size,
                               void* arglist);
uintptr_t __cdecl _beginthreadex(void* security, unsigned stack_size,
                                 _beginthreadex_proc_type start_address, void* arglist,
                                 unsigned initflag, unsigned* thrdaddr);
DECLSPEC_NORETURN void __cdecl _endthread(void);
DECLSPEC_NORETURN void __cdecl _endthreadex(unsigned retval);

SLUICE_EXTERN_C_END

#endif /* SLUICE_WIN32_PROCESS_H_ */
