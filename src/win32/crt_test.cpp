// The MSVC run-time pieces and small Win32 headers pipe programs include: process.h,
// interlockedapi.h, lmcons.h, winnls.h/consoleapi.h code pages, userenv.h, winerror.h's WSA codes.
// (win32/tests/crt_program.c runs the same as C and C++ programs in every character mode.)
#include <windows.h>
#include <lmcons.h>
#include <process.h>
#include <userenv.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;

TEST(Interlocked, SixteenAndEightBitFormsReturnWhatMicrosoftDocuments) {
  volatile SHORT s = 10;
  EXPECT_EQ(InterlockedIncrement16(&s), 11);
  EXPECT_EQ(InterlockedDecrement16(&s), 10);
  EXPECT_EQ(InterlockedCompareExchange16(&s, 3, 10), 10);
  EXPECT_EQ(s, 3);
  volatile char c = 0x0C;
  EXPECT_EQ(InterlockedAnd8(&c, 0x0A), 0x0C);
  EXPECT_EQ(InterlockedOr8(&c, 0x01), 0x08);
  EXPECT_EQ(InterlockedXor8(&c, 0x09), 0x09);
  EXPECT_EQ(c, 0);
  volatile LONG64 v = -1;
  EXPECT_EQ(InterlockedAdd64(&v, 5), 4);
  EXPECT_EQ(InterlockedExchange64(&v, 1LL << 40), 4);
  EXPECT_EQ(InterlockedAnd64(&v, -1), 1LL << 40);
  EXPECT_EQ(InterlockedOr64(&v, 1), 1LL << 40);
  EXPECT_EQ(InterlockedXor64(&v, 1), (1LL << 40) | 1);
  EXPECT_EQ(InterlockedDecrement64(&v), (1LL << 40) - 1);
  volatile LONG l = 7;
  EXPECT_EQ(InterlockedAdd(&l, -8), -1);
  EXPECT_EQ(InterlockedIncrementAcquire(&l), 0);
}

TEST(Interlocked, CompareExchangeCountsEveryIncrementAcrossThreads) {
  volatile LONG counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        LONG seen;
        do seen = InterlockedCompareExchange(&counter, 0, 0);  // Windows' atomic read
        while (InterlockedCompareExchange(&counter, seen + 1, seen) != seen);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 80000);
}

unsigned __stdcall return_argument(void* argument) {
  return static_cast<unsigned>(reinterpret_cast<uintptr_t>(argument));
}

unsigned __stdcall end_with_endthreadex(void*) { _endthreadex(77); }

TEST(BeginThreadEx, ReturnsAHandleToWaitOnAndTheThreadsId) {
  unsigned id = 0;
  auto h = reinterpret_cast<HANDLE>(
      _beginthreadex(nullptr, 0, return_argument, reinterpret_cast<void*>(42), 0, &id));
  ASSERT_NE(h, nullptr);
  EXPECT_NE(id, 0u);
  EXPECT_EQ(WaitForSingleObject(h, 20000), WAIT_OBJECT_0);
  DWORD code = 0;
  EXPECT_TRUE(GetExitCodeThread(h, &code));
  EXPECT_EQ(code, 42u);
  EXPECT_TRUE(CloseHandle(h));

  h = reinterpret_cast<HANDLE>(
      _beginthreadex(nullptr, 0, end_with_endthreadex, nullptr, 0, nullptr));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(WaitForSingleObject(h, 20000), WAIT_OBJECT_0);
  EXPECT_TRUE(GetExitCodeThread(h, &code));
  EXPECT_EQ(code, 77u);
  EXPECT_TRUE(CloseHandle(h));
}

TEST(BeginThreadEx, ANullStartAddressFailsWithZeroAndEinval) {
  errno = 0;
  EXPECT_EQ(_beginthreadex(nullptr, 0, nullptr, nullptr, 0, nullptr), 0u);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(_beginthread(nullptr, 0, nullptr), static_cast<uintptr_t>(-1));
  EXPECT_EQ(errno, EINVAL);
}

std::atomic<int> g_plain_runs{0};
HANDLE g_plain_event = nullptr;

void __cdecl plain(void* argument) {
  g_plain_runs += static_cast<int>(reinterpret_cast<uintptr_t>(argument));
  if (argument == reinterpret_cast<void*>(2)) {
    SetEvent(g_plain_event);
    _endthread();
  }
  SetEvent(g_plain_event);
}

TEST(BeginThread, RunsTheRoutineAndEndsWithItOrWithEndthread) {
  g_plain_event = CreateEventA(nullptr, FALSE, FALSE, nullptr);
  ASSERT_NE(_beginthread(plain, 0, reinterpret_cast<void*>(1)), static_cast<uintptr_t>(-1));
  EXPECT_EQ(WaitForSingleObject(g_plain_event, 20000), WAIT_OBJECT_0);
  ASSERT_NE(_beginthread(plain, 0, reinterpret_cast<void*>(2)), static_cast<uintptr_t>(-1));
  EXPECT_EQ(WaitForSingleObject(g_plain_event, 20000), WAIT_OBJECT_0);
  EXPECT_EQ(g_plain_runs.load(), 3);
  CloseHandle(g_plain_event);
}

TEST(CrtLimits, MaxPathAndLanManagerLengthsHaveTheSdkValues) {
  EXPECT_EQ(_MAX_PATH, 260);
  EXPECT_EQ(_MAX_DRIVE, 3);
  EXPECT_EQ(_MAX_DIR, 256);
  EXPECT_EQ(_MAX_FNAME, 256);
  EXPECT_EQ(_MAX_EXT, 256);
  EXPECT_EQ(UNLEN, 256);
  EXPECT_EQ(GNLEN, 256);
  EXPECT_EQ(PWLEN, 256);
  EXPECT_EQ(CNLEN, 15);
  EXPECT_EQ(DNLEN, 15);
  EXPECT_EQ(NNLEN, 80);
  EXPECT_EQ(RMLEN, 98);
}

TEST(CodePages, TheConsoleStartsInUtf8AndKeepsTheCodePageItIsGiven) {
  EXPECT_EQ(GetACP(), static_cast<UINT>(CP_UTF8));
  EXPECT_EQ(GetOEMCP(), static_cast<UINT>(CP_UTF8));
  EXPECT_EQ(GetConsoleOutputCP(), static_cast<UINT>(CP_UTF8));
  EXPECT_EQ(GetConsoleCP(), static_cast<UINT>(CP_UTF8));
  SetLastError(kSentinel);
  EXPECT_TRUE(SetConsoleOutputCP(CP_UTF8));
  EXPECT_EQ(GetLastError(), kSentinel);
  EXPECT_TRUE(SetConsoleOutputCP(437));
  EXPECT_EQ(GetConsoleOutputCP(), 437u);
  EXPECT_FALSE(SetConsoleOutputCP(CP_ACP));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_FALSE(SetConsoleCP(70000));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(GetConsoleOutputCP(), 437u);
  EXPECT_TRUE(SetConsoleOutputCP(CP_UTF8));
  EXPECT_EQ(GetConsoleOutputCP(), static_cast<UINT>(CP_UTF8));
}

TEST(WinError, WsaCodesAreWinsockBasePlusTheBerkeleyNumbers) {
  EXPECT_EQ(WSABASEERR, 10000L);
  EXPECT_EQ(WSAEINTR, 10004L);
  EXPECT_EQ(WSAEWOULDBLOCK, 10035L);
  EXPECT_EQ(WSAECONNRESET, 10054L);
  EXPECT_EQ(WSAETIMEDOUT, 10060L);
  EXPECT_EQ(WSAECONNREFUSED, 10061L);
  EXPECT_EQ(WSANOTINITIALISED, 10093L);
  EXPECT_EQ(WSAHOST_NOT_FOUND, 11001L);
  EXPECT_EQ(WSANO_DATA, 11004L);
}

TEST(UserEnv, ProfileDirectoryOfTheCallersTokenIsItsHome) {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') GTEST_SKIP() << "no HOME in this environment";
  HANDLE token = nullptr;
  ASSERT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) << GetLastError();
  DWORD size = 0;
  EXPECT_FALSE(GetUserProfileDirectoryA(token, nullptr, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(size, std::string(home).size() + 1);
  std::string buffer(size, 'x');
  ASSERT_TRUE(GetUserProfileDirectoryA(token, buffer.data(), &size)) << GetLastError();
  EXPECT_EQ(std::string(buffer.c_str()), home);
  WCHAR wide[512];
  size = 512;
  ASSERT_TRUE(GetUserProfileDirectoryW(token, wide, &size)) << GetLastError();
  EXPECT_EQ(size, std::string(home).size() + 1);
  CloseHandle(token);

  size = 512;
  EXPECT_FALSE(GetUserProfileDirectoryW(GetCurrentProcess(), wide, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

TEST(UserEnv, ProfileLoadingAndEnvironmentBlocksFailCleanly) {
  LPVOID block = reinterpret_cast<LPVOID>(1);
  EXPECT_FALSE(CreateEnvironmentBlock(&block, nullptr, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CALL_NOT_IMPLEMENTED));
  EXPECT_EQ(block, nullptr);
  PROFILEINFOA info{};
  info.dwSize = sizeof info;
  EXPECT_FALSE(LoadUserProfileA(nullptr, &info));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CALL_NOT_IMPLEMENTED));
}

}  // namespace
