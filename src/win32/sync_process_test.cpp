// Events, waits, threads, processes, memory, strings and messages.
#include <windows.h>
#include <strsafe.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "win32/win32_test_util.hpp"

namespace sluice::win32 {
std::vector<std::string> split_command_line(const std::string& line);
}

namespace {

using sluice::win32::testing::exit_code_after;
using sluice::win32::testing::kSentinel;
using sluice::win32::testing::self_path;
using sluice::win32::testing::start_helper;
using sluice::win32::testing::start_process;

// ---- events and waits --------------------------------------------------------------------------

TEST(Win32Events, AnAutoResetEventReleasesOneWait) {
  HANDLE e = CreateEventA(nullptr, FALSE, TRUE, nullptr);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForSingleObject(e, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_TRUE(SetEvent(e));
  EXPECT_EQ(WaitForSingleObject(e, 10), WAIT_OBJECT_0);
  CloseHandle(e);
}

TEST(Win32Events, AManualResetEventStaysSignalledUntilReset) {
  HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(WaitForSingleObject(e, 5), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_TRUE(SetEvent(e));
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
  EXPECT_TRUE(ResetEvent(e));
  EXPECT_EQ(WaitForSingleObject(e, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(e);
}

TEST(Win32Events, WaitForMultipleObjectsReturnsTheLowestSignalledIndex) {
  HANDLE e[3];
  for (auto& h : e) h = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  SetEvent(e[2]);
  SetEvent(e[1]);
  EXPECT_EQ(WaitForMultipleObjects(3, e, FALSE, 0), WAIT_OBJECT_0 + 1);
  EXPECT_EQ(WaitForMultipleObjects(3, e, TRUE, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  std::thread setter([&] {
    Sleep(5);
    SetEvent(e[0]);
  });
  EXPECT_EQ(WaitForMultipleObjects(3, e, TRUE, 5000), WAIT_OBJECT_0);
  setter.join();
  for (auto& h : e) CloseHandle(h);
}

TEST(Win32Events, BadWaitArgumentsGiveWaitFailed) {
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  HANDLE file = GetStdHandle(STD_INPUT_HANDLE);
  HANDLE many[65];
  for (auto& h : many) h = e;
  struct Case {
    DWORD count;
    const HANDLE* handles;
    DWORD error;
  } cases[] = {
      {0, many, ERROR_INVALID_PARAMETER},
      {65, many, ERROR_INVALID_PARAMETER},
      {1, nullptr, ERROR_INVALID_PARAMETER},
      {1, &file, ERROR_INVALID_HANDLE},  // a file is not waitable; pipe handles are
  };
  for (const auto& c : cases) {
    SetLastError(kSentinel);
    EXPECT_EQ(WaitForMultipleObjects(c.count, c.handles, FALSE, 0), WAIT_FAILED);
    EXPECT_EQ(GetLastError(), c.error);
  }
  CloseHandle(e);
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_FAILED);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_FALSE(SetEvent(e));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_FALSE(SetEvent(r));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32Time, ClocksMoveForwardAndSleepWaits) {
  LARGE_INTEGER f, a, b;
  ASSERT_TRUE(QueryPerformanceFrequency(&f));
  EXPECT_GT(f.QuadPart, 0);
  ULONGLONG t0 = GetTickCount64();
  ASSERT_TRUE(QueryPerformanceCounter(&a));
  Sleep(20);
  ASSERT_TRUE(QueryPerformanceCounter(&b));
  EXPECT_GE(GetTickCount64() - t0, 19u);
  EXPECT_GE((b.QuadPart - a.QuadPart) * 1000 / f.QuadPart, 19);
  EXPECT_EQ(SleepEx(0, TRUE), 0u);
}

// ---- threads -----------------------------------------------------------------------------------

DWORD WINAPI return_seven(LPVOID p) {
  *static_cast<DWORD*>(p) = GetCurrentThreadId();
  return 7;
}

DWORD WINAPI exit_with_nine(LPVOID) { ExitThread(9); }

TEST(Win32Threads, ExitCodesComeFromTheReturnValueOrExitThread) {
  DWORD seen = 0, tid = 0;
  HANDLE t = CreateThread(nullptr, 0, return_seven, &seen, 0, &tid);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
  DWORD code = 0;
  ASSERT_TRUE(GetExitCodeThread(t, &code));
  EXPECT_EQ(code, 7u);
  EXPECT_EQ(seen, tid);
  HANDLE t2 = CreateThread(nullptr, 0, exit_with_nine, nullptr, 0, nullptr);
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(WaitForSingleObject(t2, 5000), WAIT_OBJECT_0);
  ASSERT_TRUE(GetExitCodeThread(t2, &code));
  EXPECT_EQ(code, 9u);
  CloseHandle(t);
  CloseHandle(t2);
  SetLastError(kSentinel);
  EXPECT_FALSE(GetExitCodeThread(t, &code));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

DWORD WINAPI wait_on_event(LPVOID p) {
  return WaitForSingleObject(static_cast<HANDLE>(p), INFINITE) == WAIT_OBJECT_0 ? 1 : 2;
}

TEST(Win32Threads, ARunningThreadIsStillActive) {
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  HANDLE t = CreateThread(nullptr, 0, wait_on_event, e, 0, nullptr);
  DWORD code = 0;
  ASSERT_TRUE(GetExitCodeThread(t, &code));
  EXPECT_EQ(code, static_cast<DWORD>(STILL_ACTIVE));
  EXPECT_EQ(WaitForSingleObject(t, 10), static_cast<DWORD>(WAIT_TIMEOUT));
  SetEvent(e);
  EXPECT_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
  ASSERT_TRUE(GetExitCodeThread(t, &code));
  EXPECT_EQ(code, 1u);
  CloseHandle(t);
  CloseHandle(e);
}

// ---- processes ---------------------------------------------------------------------------------

TEST(Win32CommandLine, SplitsWithWindowsQuotingRules) {
  struct Case {
    const char* line;
    std::vector<std::string> args;
  } cases[] = {
      {"prog a b", {"prog", "a", "b"}},
      {"\"C:\\Program Files\\x.exe\" arg", {"C:\\Program Files\\x.exe", "arg"}},
      {"p \"a b\" c", {"p", "a b", "c"}},
      {"p a\\\\\\\"b", {"p", "a\\\"b"}},    // 3 backslashes + quote: \ and a literal quote
      {"p a\\\\\"b c\"", {"p", "a\\b c"}},  // 2 backslashes + quote: \ and quoting
      {"p a\\b", {"p", "a\\b"}},            // backslashes before no quote stay
      {"p \"a\"\"b\"", {"p", "a\"b"}},      // "" inside quotes is a quote
      {"p   \t x  ", {"p", "x"}},
      {"p \"\"", {"p", ""}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(sluice::win32::split_command_line(c.line), c.args) << c.line;
  }
}

SLUICE_TEST_HELPER(win32_check_args) {
  std::vector<std::string> want{"a b", "q\"uote", "back\\slash\\"};
  return args == want ? 42 : 1;
}

TEST(Win32CreateProcess, TheChildGetsItsArgumentsAndItsExitCodeIsReported) {
  std::string line =
      "\"" + self_path() + "\" --sluice-helper win32_check_args \"a b\" q\\\"uote back\\slash\\";
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  ASSERT_TRUE(
      CreateProcessA(nullptr, line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi))
      << GetLastError();
  EXPECT_NE(pi.dwProcessId, 0u);
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 20000), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForSingleObject(pi.hThread, 0), WAIT_OBJECT_0);
  DWORD code = 0;
  ASSERT_TRUE(GetExitCodeProcess(pi.hProcess, &code));
  EXPECT_EQ(code, 42u);
  EXPECT_EQ(GetProcessId(pi.hProcess), pi.dwProcessId);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
}

TEST(Win32CreateProcess, AMissingProgramFailsWithFileNotFound) {
  char line[] = "no-such-program-sluice arg";
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  SetLastError(kSentinel);
  EXPECT_FALSE(
      CreateProcessA(nullptr, line, nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
}

TEST(Win32CreateProcess, TerminateProcessSetsTheExitCodeItWasGiven) {
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  char line[] = "sleep 30";
  ASSERT_TRUE(CreateProcessA(nullptr, line, nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi))
      << GetLastError();
  DWORD code = 0;
  ASSERT_TRUE(GetExitCodeProcess(pi.hProcess, &code));
  EXPECT_EQ(code, static_cast<DWORD>(STILL_ACTIVE));
  ASSERT_TRUE(TerminateProcess(pi.hProcess, 42));
  ASSERT_EQ(WaitForSingleObject(pi.hProcess, 5000), WAIT_OBJECT_0);
  ASSERT_TRUE(GetExitCodeProcess(pi.hProcess, &code));
  EXPECT_EQ(code, 42u);
  SetLastError(kSentinel);
  EXPECT_FALSE(TerminateProcess(pi.hProcess, 7));  // it is gone
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
}

TEST(Win32CreateProcess, SortReadsAndWritesThroughRedirectedAnonymousPipes) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE out_r, out_w, in_r, in_w;
  ASSERT_TRUE(CreatePipe(&out_r, &out_w, &sa, 0));
  ASSERT_TRUE(SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0));
  ASSERT_TRUE(CreatePipe(&in_r, &in_w, &sa, 0));
  ASSERT_TRUE(SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0));
  STARTUPINFOA si{};
  si.cb = sizeof si;
  si.hStdInput = in_r;
  si.hStdOutput = out_w;
  si.hStdError = out_w;
  si.dwFlags |= STARTF_USESTDHANDLES;
  PROCESS_INFORMATION pi{};
  char line[] = "sort";
  ASSERT_TRUE(CreateProcessA(nullptr, line, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi))
      << GetLastError();
  CloseHandle(out_w);
  CloseHandle(in_r);
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(in_w, "pear\napple\nfig\n", 15, &n, nullptr));
  CloseHandle(in_w);
  std::string output;
  char buf[256];
  while (ReadFile(out_r, buf, sizeof buf, &n, nullptr) && n > 0) output.append(buf, n);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_EQ(output, "apple\nfig\npear\n");
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 20000), WAIT_OBJECT_0);
  DWORD code = 1;
  ASSERT_TRUE(GetExitCodeProcess(pi.hProcess, &code));
  EXPECT_EQ(code, 0u);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(out_r);
}

SLUICE_TEST_HELPER(win32_write_to_inherited_handle) {
  // The parent passes the HANDLE value of an inherited write end; it is valid here.
  auto h = reinterpret_cast<HANDLE>(std::stoul(args.at(0)));
  DWORD flags = 0;
  if (!GetHandleInformation(h, &flags) || flags != HANDLE_FLAG_INHERIT) return 3;
  DWORD n = 0;
  if (!WriteFile(h, "from child", 10, &n, nullptr)) return 4;
  return 0;
}

TEST(Win32CreateProcess, InheritedHandlesKeepTheirValuesInTheChild) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, &sa, 0));
  ASSERT_TRUE(SetHandleInformation(r, HANDLE_FLAG_INHERIT, 0));
  std::string line = "\"" + self_path() + "\" --sluice-helper win32_write_to_inherited_handle " +
                     std::to_string(reinterpret_cast<std::uintptr_t>(w));
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  ASSERT_TRUE(
      CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi));
  CloseHandle(w);
  std::string got;
  char buf[64];
  DWORD n = 0;
  while (ReadFile(r, buf, sizeof buf, &n, nullptr) && n > 0) got.append(buf, n);
  EXPECT_EQ(got, "from child");
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 20000), WAIT_OBJECT_0);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  EXPECT_EQ(code, 0u);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(r);
}

TEST(Win32CreateProcess, WithoutInheritanceTheChildDoesNotGetTheHandle) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, &sa, 0));
  std::string line = "\"" + self_path() + "\" --sluice-helper win32_write_to_inherited_handle " +
                     std::to_string(reinterpret_cast<std::uintptr_t>(w));
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  ASSERT_TRUE(
      CreateProcessA(nullptr, line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi));
  EXPECT_EQ(WaitForSingleObject(pi.hProcess, 20000), WAIT_OBJECT_0);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  EXPECT_EQ(code, 3u);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(r);
  CloseHandle(w);
}

// ---- memory, strings, messages ------------------------------------------------------------------

TEST(Win32Memory, AllocatorsZeroOnRequestAndReportSizes) {
  auto* p = static_cast<unsigned char*>(HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 100));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(p[i], 0);
  EXPECT_EQ(HeapSize(GetProcessHeap(), 0, p), 100u);
  EXPECT_TRUE(HeapFree(GetProcessHeap(), 0, p));
  HGLOBAL g = GlobalAlloc(GPTR, 33);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(static_cast<unsigned char*>(g)[32], 0);
  EXPECT_EQ(GlobalFree(g), nullptr);
  HLOCAL l = LocalAlloc(LMEM_ZEROINIT, 77);
  EXPECT_EQ(LocalSize(l), 77u);
  EXPECT_EQ(LocalFree(l), nullptr);
}

TEST(Win32Strings, LstrFunctionsBehaveAsOnWindows) {
  EXPECT_EQ(lstrlenA(nullptr), 0);
  EXPECT_EQ(lstrlenA("abc"), 3);
  EXPECT_EQ(lstrlenW(L"abcd"), 4);
  char a[8];
  EXPECT_EQ(lstrcpyA(a, "xy"), a);
  EXPECT_EQ(lstrcmpA(a, "xy"), 0);
  EXPECT_EQ(lstrcmpA("a", "b"), -1);
  EXPECT_EQ(lstrcmpW(L"b", L"a"), 1);
  wchar_t w[8];
  lstrcpyW(w, L"hi");
  EXPECT_EQ(lstrcmpW(w, L"hi"), 0);
}

TEST(Win32StrSafe, CopyAndPrintfTruncateAndReportIt) {
  char small[4];
  EXPECT_EQ(StringCchCopyA(small, 4, "abc"), S_OK);
  EXPECT_EQ(StringCchCopyA(small, 4, "abcdef"), STRSAFE_E_INSUFFICIENT_BUFFER);
  EXPECT_STREQ(small, "abc");
  EXPECT_EQ(StringCchCopyA(small, 0, "x"), STRSAFE_E_INVALID_PARAMETER);
  EXPECT_TRUE(FAILED(StringCchCopyA(small, 2, "xyz")));
  size_t len = 0;
  EXPECT_EQ(StringCchLengthA("hello", 10, &len), S_OK);
  EXPECT_EQ(len, 5u);
  EXPECT_EQ(StringCchLengthA("hello", 5, &len), STRSAFE_E_INVALID_PARAMETER);
  char buf[64];
  EXPECT_EQ(StringCchPrintfA(buf, 64, "%s failed with error %d: %S", "X", 5, L"wide"), S_OK);
  EXPECT_STREQ(buf, "X failed with error 5: wide");
  EXPECT_EQ(StringCchPrintfA(buf, 5, "%d", 123456), STRSAFE_E_INSUFFICIENT_BUFFER);
  EXPECT_STREQ(buf, "1234");
  wchar_t wbuf[64];
  // Windows' wide conventions: %s is wide, %S narrow.
  EXPECT_EQ(StringCchPrintfW(wbuf, 64, L"%s|%S|%d", L"wide", "narrow", 7), S_OK);
  EXPECT_STREQ(wbuf, L"wide|narrow|7");
  EXPECT_EQ(StringCchCopyW(wbuf, 3, L"abc"), STRSAFE_E_INSUFFICIENT_BUFFER);
  EXPECT_STREQ(wbuf, L"ab");
}

TEST(Win32Module, GetModuleFileNameTruncatesLikeWindows) {
  std::string path = self_path();
  EXPECT_EQ(path.front(), '/');
  char small[4];
  SetLastError(kSentinel);
  EXPECT_EQ(GetModuleFileNameA(nullptr, small, sizeof small), 4u);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(small[3], '\0');
  wchar_t wide[4096];
  EXPECT_EQ(GetModuleFileNameW(nullptr, wide, 4096), path.size());
  EXPECT_EQ(MessageBoxA(nullptr, "text", "caption", MB_OK), IDOK);
}

TEST(Win32Overlapped, AnonymousPipeEndsAreSynchronousHandles) {
  OVERLAPPED ov{};
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  SetLastError(kSentinel);
  EXPECT_EQ(CreateIoCompletionPort(r, nullptr, 0, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_FALSE(CancelIoEx(r, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
  SetLastError(kSentinel);
  EXPECT_TRUE(CancelIo(r));
  EXPECT_EQ(GetLastError(), kSentinel);
  ov.Internal = STATUS_PENDING;
  DWORD n = 0;
  EXPECT_FALSE(GetOverlappedResult(r, &ov, &n, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_INCOMPLETE));
  CloseHandle(r);
  CloseHandle(w);
}

}  // namespace

// Exit codes keep their 32 bits between sluice processes (exit_codes.hpp): ExitProcess, a
// return from main, values above 255 and negative NTSTATUS-style codes.
SLUICE_TEST_HELPER(win32_exit_with) {
  auto code = static_cast<UINT>(std::stoul(args.at(1), nullptr, 0));
  if (args.at(0) == "ExitProcess") ExitProcess(code);
  return static_cast<int>(code);  // main returns it to exit()
}

DWORD exit_code_of(const std::string& how, const std::string& code) {
  return exit_code_after(start_helper("win32_exit_with", how + " " + code));
}

TEST(Win32CreateProcess, ExitCodesKeepAll32BitsBetweenSluiceProcesses) {
  for (const char* how : {"ExitProcess", "return"}) {
    EXPECT_EQ(exit_code_of(how, "300"), 300u) << how;
    EXPECT_EQ(exit_code_of(how, "0xC0000005"), 0xC0000005u) << how;  // STATUS_ACCESS_VIOLATION
    EXPECT_EQ(exit_code_of(how, "0xFFFFFFFF"), 0xFFFFFFFFu) << how;  // -1
    EXPECT_EQ(exit_code_of(how, "7"), 7u) << how;
  }
}

TEST(Win32CreateProcess, AChildThatIsNotASluiceProgramReportsWhatLinuxReports) {
  // The shell exits with 300 & 255.
  EXPECT_EQ(exit_code_after(start_process("sh -c \"exit 300\"")), 44u);
}
