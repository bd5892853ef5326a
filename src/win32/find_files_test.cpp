// FindFirstFile, FindNextFile and FindClose on `\\.\pipe\`: what pipelist-like programs see.
// Tables of call, return and last error; servers in another process where the count crosses one.
// The Win32 tests share one namespace, so every pattern here is unique to its test.
#include <windows.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conversation.hpp"
#include "helper_process.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

constexpr const char* kPrefix = "\\\\.\\pipe\\";

// args: pipe name, instances, max instances. Creates them with CreateNamedPipeA, says "ok" and
// holds them until stdin closes.
SLUICE_TEST_HELPER(win32_find_hold_instances) {
  std::vector<HANDLE> held;
  for (int i = 0, n = std::stoi(args.at(1)); i < n; ++i) {
    HANDLE h = CreateNamedPipeA(args.at(0).c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE,
                                static_cast<DWORD>(std::stoul(args.at(2))), 512, 512, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) return 20;
    held.push_back(h);
  }
  int code = sluice::testing::say_and_wait("ok");
  for (HANDLE h : held) CloseHandle(h);
  return code;
}

// Instances of `name` held by another process until the test ends, or kills it.
sluice::testing::Conversation hold(const std::string& name, int instances, int max) {
  return sluice::testing::Conversation(std::nullopt, "win32_find_hold_instances",
                                       {name, std::to_string(instances), std::to_string(max)});
}

// Everything FindFirstFileA/FindNextFileA return for `pattern`, or the error of FindFirstFile.
struct Listing {
  std::vector<WIN32_FIND_DATAA> found;
  DWORD first_error = ERROR_SUCCESS;
  DWORD end_error = ERROR_SUCCESS;
  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& d : found) out.insert(d.cFileName);
    return out;
  }
};

Listing list(const std::string& pattern) {
  Listing l;
  WIN32_FIND_DATAA data;
  SetLastError(kSentinel);
  HANDLE find = FindFirstFileA(pattern.c_str(), &data);
  if (find == INVALID_HANDLE_VALUE) {
    l.first_error = GetLastError();
    return l;
  }
  do {
    l.found.push_back(data);
    SetLastError(kSentinel);
  } while (FindNextFileA(find, &data));
  l.end_error = GetLastError();
  EXPECT_TRUE(FindClose(find));
  return l;
}

// The test's pipe name without the `\\.\pipe\` prefix.
std::string bare(const std::string& name) { return name.substr(std::string(kPrefix).size()); }

TEST(Win32FindFiles, APipeWithThreeInstancesInAnotherProcessShowsThemInNFileSizeLow) {
  const std::string name = unique_pipe_name();
  auto holder = hold(name, 3, 5);
  ASSERT_EQ(holder.line(), "ok");
  Listing l = list(name);
  ASSERT_EQ(l.first_error, static_cast<DWORD>(ERROR_SUCCESS));
  ASSERT_EQ(l.found.size(), 1u);
  const WIN32_FIND_DATAA& d = l.found[0];
  EXPECT_EQ(std::string(d.cFileName), bare(name));  // without the prefix, as Windows gives it
  EXPECT_EQ(d.nFileSizeLow, 3u);                    // npfs: EndOfFile = instances
  EXPECT_EQ(d.nFileSizeHigh, 0u);
  EXPECT_EQ(d.dwFileAttributes, static_cast<DWORD>(FILE_ATTRIBUTE_NORMAL));
  EXPECT_EQ(d.ftCreationTime.dwLowDateTime | d.ftCreationTime.dwHighDateTime |
                d.ftLastAccessTime.dwLowDateTime | d.ftLastWriteTime.dwHighDateTime,
            0u);
  EXPECT_EQ(d.cAlternateFileName[0], '\0');
  EXPECT_EQ(l.end_error, static_cast<DWORD>(ERROR_NO_MORE_FILES));
}

TEST(Win32FindFiles, APipeWhoseServerWasKilledIsNotFound) {
  const std::string name = unique_pipe_name();
  auto holder = hold(name, 2, PIPE_UNLIMITED_INSTANCES);
  ASSERT_EQ(holder.line(), "ok");
  ASSERT_EQ(list(name).found.size(), 1u);
  holder.kill(true);
  EXPECT_EQ(list(name).first_error, static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  EXPECT_TRUE(list(std::string(kPrefix) + "*").names().count(bare(name)) == 0);
}

TEST(Win32FindFiles, TheWholeDirectoryListsThisProcesssPipesToo) {
  const std::string name = unique_pipe_name();
  HANDLE a = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_INBOUND, 0, 4, 0, 0, 0, nullptr);
  HANDLE b = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_INBOUND, 0, 4, 0, 0, 0, nullptr);
  ASSERT_NE(a, INVALID_HANDLE_VALUE);
  ASSERT_NE(b, INVALID_HANDLE_VALUE);
  for (const char* all : {"\\\\.\\pipe\\*", "\\\\.\\PIPE\\*.*", "//./pipe/*", "\\\\?\\pipe\\*"}) {
    Listing l = list(all);
    auto it = std::find_if(l.found.begin(), l.found.end(), [&](const WIN32_FIND_DATAA& d) {
      return std::string(d.cFileName) == bare(name);
    });
    ASSERT_NE(it, l.found.end()) << all;
    EXPECT_EQ(it->nFileSizeLow, 2u) << all;
    EXPECT_EQ(l.end_error, static_cast<DWORD>(ERROR_NO_MORE_FILES)) << all;
  }
  CloseHandle(a);
  EXPECT_EQ(list(name).found.at(0).nFileSizeLow, 1u);
  CloseHandle(b);
  EXPECT_EQ(list(name).first_error, static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
}

TEST(Win32FindFiles, PatternsMatchAsWindowsMatchesThem) {
  // No dots in the common part, so that the DOS rules for dots are seen alone.
  const std::string base = "sluicefind-" + std::to_string(GetCurrentProcessId()) + "-";
  std::vector<HANDLE> pipes;
  for (const char* n : {"alpha", "Beta.txt", "b.c.txt", "noext", "x.txt.bak"}) {
    HANDLE h = CreateNamedPipeA((kPrefix + base + n).c_str(), PIPE_ACCESS_INBOUND, 0,
                                PIPE_UNLIMITED_INSTANCES, 0, 0, 0, nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE) << n;
    pipes.push_back(h);
  }
  struct Row {
    const char* pattern;
    std::set<std::string> found;  // empty: FindFirstFile fails with ERROR_FILE_NOT_FOUND
  };
  const Row rows[] = {
      {"*", {"alpha", "Beta.txt", "b.c.txt", "noext", "x.txt.bak"}},
      {"*.*", {"alpha", "Beta.txt", "b.c.txt", "noext", "x.txt.bak"}},
      {"alpha", {"alpha"}},
      {"ALPHA", {"alpha"}},  // case-insensitive; the name as its creator spelled it
      {"alph?", {"alpha"}},
      {"alpha?", {"alpha"}},   // `?` at the end also matches nothing
      {"alpha??", {"alpha"}},  // so do several
      {"alph", {}},
      {"?eta.txt", {"Beta.txt"}},
      {"*.txt", {"Beta.txt", "b.c.txt"}},  // up to the last dot: not x.txt.bak
      {"*.bak", {"x.txt.bak"}},
      {"b*", {"Beta.txt", "b.c.txt"}},
      {"*.", {"alpha", "noext"}},  // names without a dot
      {"*t*", {"Beta.txt", "b.c.txt", "noext", "x.txt.bak"}},
      {"nomatch*", {}},
  };
  for (const Row& row : rows) {
    Listing l = list(kPrefix + base + row.pattern);
    std::set<std::string> got;
    for (const auto& n : l.names()) got.insert(n.substr(base.size()));
    EXPECT_EQ(got, row.found) << row.pattern;
    EXPECT_EQ(l.first_error,
              static_cast<DWORD>(row.found.empty() ? ERROR_FILE_NOT_FOUND : ERROR_SUCCESS))
        << row.pattern;
  }
  for (HANDLE h : pipes) CloseHandle(h);
}

TEST(Win32FindFiles, TheWideCallsGiveTheSameListing) {
  const std::string name = unique_pipe_name();
  HANDLE h = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_INBOUND, 0, 1, 0, 0, 0, nullptr);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  std::wstring pattern(name.begin(), name.end());
  pattern.back() = L'?';
  WIN32_FIND_DATAW data;
  HANDLE find = FindFirstFileW(pattern.c_str(), &data);
  ASSERT_NE(find, INVALID_HANDLE_VALUE) << GetLastError();
  const std::string expected = bare(name);
  EXPECT_EQ(std::wstring(data.cFileName), std::wstring(expected.begin(), expected.end()));
  EXPECT_EQ(data.nFileSizeLow, 1u);
  SetLastError(kSentinel);
  EXPECT_FALSE(FindNextFileW(find, &data));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_MORE_FILES));
  EXPECT_TRUE(FindClose(find));
  CloseHandle(h);
}

TEST(Win32FindFiles, ErrorsAreWindowsErrors) {
  const std::string name = unique_pipe_name();
  HANDLE pipe = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_INBOUND, 0, 1, 0, 0, 0, nullptr);
  ASSERT_NE(pipe, INVALID_HANDLE_VALUE);
  WIN32_FIND_DATAA data;
  struct FirstRow {
    const char* path;
    DWORD error;
  };
  const FirstRow first_rows[] = {
      {"\\\\.\\pipe\\", ERROR_FILE_NOT_FOUND},      // a trailing backslash names no file
      {"\\\\.\\pipe\\a\\*", ERROR_FILE_NOT_FOUND},  // npfs has no subdirectories
      {"/tmp/*", ERROR_NOT_SUPPORTED},              // ordinary files are not listed
      {"", ERROR_PATH_NOT_FOUND},
  };
  for (const FirstRow& row : first_rows) {
    SetLastError(kSentinel);
    EXPECT_EQ(FindFirstFileA(row.path, &data), INVALID_HANDLE_VALUE) << row.path;
    EXPECT_EQ(GetLastError(), row.error) << row.path;
  }
  SetLastError(kSentinel);
  EXPECT_EQ(FindFirstFileA(nullptr, &data), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));

  HANDLE find = FindFirstFileA(name.c_str(), &data);
  ASSERT_NE(find, INVALID_HANDLE_VALUE);
  // In order: each call sees what the ones before it did.
  struct Row {
    const char* call;
    std::function<BOOL()> run;
    BOOL result;
    DWORD error;  // kSentinel: left alone
  };
  const Row rows[] = {
      {"FindNextFileA(find)", [&] { return FindNextFileA(find, &data); }, FALSE,
       ERROR_NO_MORE_FILES},
      {"FindNextFileA(find) again", [&] { return FindNextFileA(find, &data); }, FALSE,
       ERROR_NO_MORE_FILES},
      {"CloseHandle(find)", [&] { return CloseHandle(find); }, FALSE, ERROR_INVALID_HANDLE},
      {"FindNextFileA(pipe)", [&] { return FindNextFileA(pipe, &data); }, FALSE,
       ERROR_INVALID_HANDLE},
      {"FindClose(pipe)", [&] { return FindClose(pipe); }, FALSE, ERROR_INVALID_HANDLE},
      {"FindNextFileA(INVALID_HANDLE_VALUE)",
       [&] { return FindNextFileA(INVALID_HANDLE_VALUE, &data); }, FALSE, ERROR_INVALID_HANDLE},
      {"FindClose(find)", [&] { return FindClose(find); }, TRUE, kSentinel},
      {"FindClose(find) again", [&] { return FindClose(find); }, FALSE, ERROR_INVALID_HANDLE},
      {"FindNextFileA(closed find)", [&] { return FindNextFileA(find, &data); }, FALSE,
       ERROR_INVALID_HANDLE},
  };
  for (const Row& row : rows) {
    SetLastError(kSentinel);
    EXPECT_EQ(row.run(), row.result) << row.call;
    EXPECT_EQ(GetLastError(), row.error) << row.call;
  }
  EXPECT_TRUE(CloseHandle(pipe));
}

}  // namespace
