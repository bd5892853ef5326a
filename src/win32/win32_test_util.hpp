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

/// A last-error value no call sets, to see that a successful call leaves it alone.
inline constexpr DWORD kSentinel = 0xC0FFEE;

}  // namespace sluice::win32::testing
