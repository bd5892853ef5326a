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
