// Shared helpers of the Win32 layer's tests.
#pragma once

#include <windows.h>

#include <gtest/gtest.h>

#include <string>

namespace sluice::win32::testing {

/// `\\.\pipe\<suite>.<test>-<suffix>-<pid>`: unique per test and process.
inline std::string unique_pipe_name(const char* suffix = "p") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("\\\\.\\pipe\\") + info->test_suite_name() + "." + info->name() + "-" +
         suffix + "-" + std::to_string(GetCurrentProcessId());
}

/// This test binary's path, to start it again as a helper process.
inline std::string self_path() {
  char self[4096];
  DWORD n = GetModuleFileNameA(nullptr, self, sizeof self);
  return std::string(self, n);
}

/// Starts `command_line` (CreateProcess, no inheritance, no window); returns the process handle
/// (the thread handle is closed), or null after a test failure.
inline HANDLE start_process(std::string command_line) {
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  if (!CreateProcessA(nullptr, command_line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr,
                      &si, &pi)) {
    ADD_FAILURE() << "CreateProcess: " << GetLastError();
    return nullptr;
  }
  CloseHandle(pi.hThread);
  return pi.hProcess;
}

/// Starts this test binary as helper `helper` (SLUICE_TEST_HELPER) with `args`.
inline HANDLE start_helper(const std::string& helper, const std::string& args) {
  return start_process("\"" + self_path() + "\" --sluice-helper " + helper + " " + args);
}

/// Waits (20 s at most) for `process` to end, closes it and returns its exit code (0 and a test
/// failure when it does not end or `process` is null).
inline DWORD exit_code_after(HANDLE process) {
  if (!process) return 0;
  EXPECT_EQ(WaitForSingleObject(process, 20000), WAIT_OBJECT_0);
  DWORD code = 0;
  EXPECT_TRUE(GetExitCodeProcess(process, &code)) << GetLastError();
  CloseHandle(process);
  return code;
}

/// A synchronous byte-mode instance of the test's pipe (`suffix` as for unique_pipe_name) and
/// a client connected to it; both close with it.
struct ConnectedPipe {
  explicit ConnectedPipe(const char* suffix = "p") {
    std::string name = unique_pipe_name(suffix);
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096,
                              4096, 0, nullptr);
    EXPECT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
    client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                         nullptr);
    EXPECT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
  }
  ~ConnectedPipe() {
    CloseHandle(client);
    CloseHandle(server);
  }
  ConnectedPipe(const ConnectedPipe&) = delete;
  ConnectedPipe& operator=(const ConnectedPipe&) = delete;
  HANDLE server = INVALID_HANDLE_VALUE;
  HANDLE client = INVALID_HANDLE_VALUE;
};

/// An anonymous pipe (CreatePipe, default size); both ends close with it.
struct AnonymousPipe {
  AnonymousPipe() { EXPECT_TRUE(CreatePipe(&read_end, &write_end, nullptr, 0)) << GetLastError(); }
  ~AnonymousPipe() {
    CloseHandle(read_end);
    CloseHandle(write_end);
  }
  AnonymousPipe(const AnonymousPipe&) = delete;
  AnonymousPipe& operator=(const AnonymousPipe&) = delete;
  HANDLE read_end = nullptr;
  HANDLE write_end = nullptr;
};

/// A last-error value no call sets, to see that a successful call leaves it alone.
inline constexpr DWORD kSentinel = 0xC0FFEE;

}  // namespace sluice::win32::testing
