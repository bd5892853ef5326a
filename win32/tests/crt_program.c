/* The MSVC run-time and Win32 pieces ported pipe programs use besides pipes, written as Windows
 * code and built as C and C++, ANSI and _UNICODE (win32/CMakeLists.txt): the Interlocked family
 * across threads started with _beginthreadex and _beginthread, _MAX_PATH, lmcons.h's UNLEN,
 * console code pages, a WSA code. Prints "crt program ok" when every check holds, else the
 * first one that failed. */
#include <windows.h>
#include <lmcons.h>
#include <process.h>
#include <stdio.h>
#include <tchar.h>

#define CHECK(condition)                                      \
  do {                                                        \
    if (!(condition)) {                                       \
      printf("failed: %s (line %d)\n", #condition, __LINE__); \
      return 1;                                               \
    }                                                         \
  } while (0)

enum { kThreads = 4, kRounds = 10000 };

static volatile LONG g_counter = 0;
static volatile LONG64 g_counter64 = 0;
static HANDLE g_plain_done = NULL;

static unsigned __stdcall count_up(void* argument) {
  int i;
  for (i = 0; i < kRounds; ++i) {
    InterlockedIncrement(&g_counter);
    InterlockedExchangeAdd64(&g_counter64, 2);
  }
  return (unsigned)(ULONG_PTR)argument;
}

static void __cdecl plain_thread(void* argument) {
  InterlockedExchangeAdd(&g_counter, (LONG)(ULONG_PTR)argument);
  SetEvent(g_plain_done);
}

int _tmain(void) {
  HANDLE threads[kThreads];
  unsigned ids[kThreads];
  int i;
  DWORD code = 0;
  LONG value = 5;
  LONG64 value64 = 1;
  PVOID pointer = NULL;
  int target = 0;
  TCHAR path[_MAX_PATH];
  TCHAR user[UNLEN + 1];

  /* Values as documented: the new value, or the one before. */
  CHECK(InterlockedIncrement(&value) == 6 && value == 6);
  CHECK(InterlockedDecrement(&value) == 5);
  CHECK(InterlockedExchange(&value, 9) == 5 && value == 9);
  CHECK(InterlockedCompareExchange(&value, 1, 8) == 9 && value == 9);
  CHECK(InterlockedCompareExchange(&value, 1, 9) == 9 && value == 1);
  CHECK(InterlockedExchangeAdd(&value, 3) == 1 && value == 4);
  CHECK(InterlockedAnd(&value, 6) == 4 && value == 4);
  CHECK(InterlockedOr(&value, 3) == 4 && value == 7);
  CHECK(InterlockedXor(&value, 5) == 7 && value == 2);
  CHECK(InterlockedIncrement64(&value64) == 2);
  CHECK(InterlockedCompareExchange64(&value64, 0x100000000LL, 2) == 2 && value64 == 0x100000000LL);
  CHECK(InterlockedExchangePointer(&pointer, &target) == NULL && pointer == &target);
  CHECK(InterlockedCompareExchangePointer(&pointer, NULL, &target) == &target && pointer == NULL);

  for (i = 0; i < kThreads; ++i) {
    threads[i] = (HANDLE)_beginthreadex(NULL, 0, count_up, (void*)(ULONG_PTR)(40 + i), 0, &ids[i]);
    CHECK(threads[i] != NULL && ids[i] != 0);
  }
  CHECK(WaitForMultipleObjects(kThreads, threads, TRUE, 20000) == WAIT_OBJECT_0);
  for (i = 0; i < kThreads; ++i) {
    CHECK(GetExitCodeThread(threads[i], &code) && code == (DWORD)(40 + i));
    CloseHandle(threads[i]);
  }
  CHECK(g_counter == kThreads * kRounds && g_counter64 == 2LL * kThreads * kRounds);

  g_plain_done = CreateEvent(NULL, TRUE, FALSE, NULL);
  CHECK(_beginthread(plain_thread, 0, (void*)(ULONG_PTR)7) != (uintptr_t)-1);
  CHECK(WaitForSingleObject(g_plain_done, 20000) == WAIT_OBJECT_0);
  CHECK(g_counter == kThreads * kRounds + 7);
  CloseHandle(g_plain_done);

  CHECK(sizeof path / sizeof path[0] == 260 && _MAX_FNAME == 256);
  CHECK(sizeof user / sizeof user[0] == 257 && CNLEN == MAX_COMPUTERNAME_LENGTH);
  CHECK(GetConsoleOutputCP() == CP_UTF8);
  CHECK(SetConsoleOutputCP(CP_UTF8) && GetConsoleOutputCP() == CP_UTF8);
  CHECK(WSAECONNRESET == 10054L && WSAEWOULDBLOCK == WSABASEERR + 35);
  _tprintf(_T("crt program ok\n"));
  return 0;
}
