// Handle table: CloseHandle, DuplicateHandle, handle information, GetFileType, last error,
// standard handles. Tables: call → return → last error.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;

TEST(Win32Handles, ClosingAClosedOrUnknownHandleFailsWithInvalidHandle) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  EXPECT_TRUE(CloseHandle(r));
  EXPECT_TRUE(CloseHandle(w));
  struct Case {
    HANDLE h;
  } cases[] = {
      {r}, {w}, {nullptr}, {reinterpret_cast<HANDLE>(0x7777770)}, {reinterpret_cast<HANDLE>(3)}};
  for (const auto& c : cases) {
    SetLastError(kSentinel);
    EXPECT_FALSE(CloseHandle(c.h)) << c.h;
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE)) << c.h;
  }
}

TEST(Win32Handles, ReadFileOnInvalidHandleValueFailsAndZeroesTheCount) {
  char buf[4];
  DWORD n = 1234;
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(INVALID_HANDLE_VALUE, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_EQ(n, 0u);
  n = 1234;
  EXPECT_FALSE(WriteFile(nullptr, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_EQ(n, 0u);
}

TEST(Win32Handles, HandleValuesAreSmallNonNullMultiplesOfFour) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  for (HANDLE h : {r, w}) {
    auto v = reinterpret_cast<std::uintptr_t>(h);
    EXPECT_NE(h, nullptr);
    EXPECT_NE(h, INVALID_HANDLE_VALUE);
    EXPECT_EQ(v % 4, 0u);
    EXPECT_LT(v, 1u << 20);
  }
  CloseHandle(r);
  CloseHandle(w);
}

// Lookups take no lock (objects.hpp): while the table grows past several of its chunks and
// handles close, a handle that stays open is always found and a closed one never is.
TEST(Win32Handles, LookupsWhileTheTableGrowsAndShrinksFindExactlyTheOpenHandles) {
  HANDLE steady = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(steady, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<HANDLE> closed{nullptr};
  std::atomic<int> round_now{0};
  std::atomic<long> looked{0};
  auto lookups = [&] {
    while (!stop.load()) {
      looked.fetch_add(1, std::memory_order_relaxed);
      DWORD flags = 0;
      if (!GetHandleInformation(steady, &flags)) wrong.fetch_add(1);
      // A value closed in one round is reused in the next: a look that a preempted thread
      // finishes after the next round began proves nothing, and is not counted.
      int round = round_now.load();
      HANDLE gone = closed.load();
      if (gone && GetHandleInformation(gone, &flags) && round_now.load() == round)
        wrong.fetch_add(1);
    }
  };
  std::thread a(lookups), b(lookups);
  std::vector<HANDLE> made;
  // Until both threads have looked many times during the churn (bounded: a few hundred rounds).
  for (int round = 0; round < 3 || (looked.load() < 100000 && round < 500); ++round) {
    round_now.store(round);
    closed.store(nullptr);            // its value goes back into use in this round
    for (int i = 0; i < 5000; ++i) {  // more than one 4 096-slot chunk of the table
      HANDLE h = CreateEventA(nullptr, TRUE, FALSE, nullptr);
      ASSERT_NE(h, nullptr);
      made.push_back(h);
    }
    // Closed handles are reused last (FIFO), so a value closed here stays invalid meanwhile.
    for (HANDLE h : made) {
      ASSERT_TRUE(CloseHandle(h));
      closed.store(h);
    }
    made.clear();
  }
  stop.store(true);
  a.join();
  b.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(CloseHandle(steady));
}

TEST(Win32Handles, PseudoHandlesCloseAsANoOp) {
  EXPECT_EQ(GetCurrentProcess(), reinterpret_cast<HANDLE>(-1));
  EXPECT_TRUE(CloseHandle(GetCurrentProcess()));
  EXPECT_TRUE(CloseHandle(GetCurrentThread()));
  EXPECT_EQ(GetCurrentProcessId(), static_cast<DWORD>(getpid()));
}

TEST(Win32Handles, AnEndClosesWithItsLastDuplicatedHandle) {
  HANDLE r, w, w2;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), w, GetCurrentProcess(), &w2, 0, FALSE,
                              DUPLICATE_SAME_ACCESS));
  EXPECT_NE(w, w2);
  ASSERT_TRUE(CloseHandle(w));
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(w2, "abc", 3, &n, nullptr));
  EXPECT_EQ(n, 3u);
  ASSERT_TRUE(CloseHandle(w2));
  char buf[8];
  EXPECT_TRUE(ReadFile(r, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(n, 3u);
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(r, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  CloseHandle(r);
}

TEST(Win32Handles, DuplicateCloseSourceClosesTheSource) {
  HANDLE r, w, r2;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), r, GetCurrentProcess(), &r2, 0, TRUE,
                              DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
  SetLastError(kSentinel);
  EXPECT_FALSE(CloseHandle(r));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  DWORD flags = 99;
  ASSERT_TRUE(GetHandleInformation(r2, &flags));
  EXPECT_EQ(flags, static_cast<DWORD>(HANDLE_FLAG_INHERIT));
  EXPECT_TRUE(CloseHandle(r2));
  EXPECT_TRUE(CloseHandle(w));
}

TEST(Win32Handles, DuplicateHandleRejectsBadArguments) {
  HANDLE r, w, out = nullptr;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  struct Case {
    HANDLE source_process, source, target_process;
    DWORD options;
    DWORD error;
  } cases[] = {
      {GetCurrentProcess(), nullptr, GetCurrentProcess(), DUPLICATE_SAME_ACCESS,
       ERROR_INVALID_HANDLE},
      {GetCurrentProcess(), r, GetCurrentProcess(), 0x80, ERROR_INVALID_PARAMETER},
      {nullptr, r, GetCurrentProcess(), DUPLICATE_SAME_ACCESS, ERROR_INVALID_HANDLE},
      {GetCurrentProcess(), r, nullptr, DUPLICATE_SAME_ACCESS, ERROR_INVALID_HANDLE},
  };
  for (const auto& c : cases) {
    SetLastError(kSentinel);
    EXPECT_FALSE(
        DuplicateHandle(c.source_process, c.source, c.target_process, &out, 0, FALSE, c.options));
    EXPECT_EQ(GetLastError(), c.error);
  }
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32Handles, HandleInformationFollowsSecurityAttributesAndSetHandleInformation) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE r, w, r0, w0;
  ASSERT_TRUE(CreatePipe(&r, &w, &sa, 0));
  ASSERT_TRUE(CreatePipe(&r0, &w0, nullptr, 0));
  DWORD flags = 0;
  ASSERT_TRUE(GetHandleInformation(r, &flags));
  EXPECT_EQ(flags, 1u);
  ASSERT_TRUE(GetHandleInformation(w0, &flags));
  EXPECT_EQ(flags, 0u);
  SetLastError(kSentinel);
  ASSERT_TRUE(SetHandleInformation(r, HANDLE_FLAG_INHERIT, 0));
  EXPECT_EQ(GetLastError(), kSentinel);
  ASSERT_TRUE(GetHandleInformation(r, &flags));
  EXPECT_EQ(flags, 0u);
  // Protected from close: CloseHandle fails and the handle stays usable.
  ASSERT_TRUE(
      SetHandleInformation(w0, HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_PROTECT_FROM_CLOSE));
  EXPECT_FALSE(CloseHandle(w0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  ASSERT_TRUE(SetHandleInformation(w0, HANDLE_FLAG_PROTECT_FROM_CLOSE, 0));
  EXPECT_TRUE(CloseHandle(w0));
  EXPECT_FALSE(GetHandleInformation(w0, &flags));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_FALSE(SetHandleInformation(w0, HANDLE_FLAG_INHERIT, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  for (HANDLE h : {r, w, r0}) CloseHandle(h);
}

TEST(Win32Handles, GetFileTypeIsPipeForBothAnonymousEnds) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  EXPECT_EQ(GetFileType(r), static_cast<DWORD>(FILE_TYPE_PIPE));
  EXPECT_EQ(GetFileType(w), static_cast<DWORD>(FILE_TYPE_PIPE));
  CloseHandle(r);
  CloseHandle(w);
  EXPECT_EQ(GetFileType(r), static_cast<DWORD>(FILE_TYPE_UNKNOWN));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  EXPECT_EQ(GetFileType(e), static_cast<DWORD>(FILE_TYPE_UNKNOWN));
  CloseHandle(e);
}

TEST(Win32Handles, LastErrorIsPerThread) {
  SetLastError(11);
  std::thread([] {
    EXPECT_EQ(GetLastError(), 0u);
    SetLastError(22);
  }).join();
  EXPECT_EQ(GetLastError(), 11u);
}

TEST(Win32Handles, StandardHandlesAreDistinctRealHandles) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
  EXPECT_NE(in, out);
  EXPECT_NE(out, err);
  for (HANDLE h : {in, out, err}) {
    EXPECT_NE(h, nullptr);
    EXPECT_NE(h, INVALID_HANDLE_VALUE);
  }
  SetLastError(kSentinel);
  EXPECT_EQ(GetStdHandle(1234), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

TEST(Win32Handles, SetStdHandleReplacesTheStandardHandle) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  HANDLE saved = GetStdHandle(STD_OUTPUT_HANDLE);
  ASSERT_TRUE(SetStdHandle(STD_OUTPUT_HANDLE, w));
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), "hi", 2, &n, nullptr));
  ASSERT_TRUE(SetStdHandle(STD_OUTPUT_HANDLE, saved));
  char buf[4];
  EXPECT_TRUE(ReadFile(r, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(std::string(buf, n), "hi");
  CloseHandle(r);
  CloseHandle(w);
}

// The standard input handle reads fd 0: a helper reads its stdin through GetStdHandle.
SLUICE_TEST_HELPER(win32_read_stdin) {
  char buf[64];
  DWORD n = 0, total = 0;
  while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), buf, sizeof buf, &n, nullptr) && n > 0) {
    total += n;
  }
  // A kernel pipe at its end: ERROR_BROKEN_PIPE, as for an anonymous pipe.
  if (GetLastError() != ERROR_BROKEN_PIPE) return 100;
  return static_cast<int>(total);
}

TEST(Win32Handles, ReadFileOnTheStandardInputHandleReadsDescriptorZero) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  STARTUPINFOA si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = r;
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  char self[4096];
  ASSERT_GT(GetModuleFileNameA(nullptr, self, sizeof self), 0u);
  std::string line = std::string("\"") + self + "\" --sluice-helper win32_read_stdin";
  PROCESS_INFORMATION pi{};
  ASSERT_TRUE(
      CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi))
      << GetLastError();
  CloseHandle(r);
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(w, "0123456789", 10, &n, nullptr));
  CloseHandle(w);
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 20000), WAIT_OBJECT_0);
  DWORD code = 0;
  EXPECT_TRUE(GetExitCodeProcess(pi.hProcess, &code));
  EXPECT_EQ(code, 10u);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
}

}  // namespace
