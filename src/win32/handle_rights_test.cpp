// Per-handle rights: DuplicateHandle with and without DUPLICATE_SAME_ACCESS, and the calls that
// check the rights of the handle they are given. Tables: call → return → last error.
#include <windows.h>

#include <gtest/gtest.h>

#include <string>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

HANDLE duplicate(HANDLE source, DWORD access, DWORD options = 0) {
  HANDLE out = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), source, GetCurrentProcess(), &out, access, FALSE,
                       options)) {
    return nullptr;
  }
  return out;
}

// A connected duplex message pipe: server and client, both opened for reading and writing.
struct DuplexPipe {
  HANDLE server = INVALID_HANDLE_VALUE;
  HANDLE client = INVALID_HANDLE_VALUE;
  DuplexPipe() {
    std::string name = unique_pipe_name("rights");
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX,
                              PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 4096, 4096,
                              0, nullptr);
    client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                         nullptr);
  }
  ~DuplexPipe() {
    CloseHandle(client);
    CloseHandle(server);
  }
};

struct Outcome {
  BOOL ok;
  DWORD error;  // checked only when !ok
};

void expect(const char* call, BOOL ok, Outcome want) {
  DWORD error = GetLastError();
  EXPECT_EQ(ok != FALSE, want.ok != FALSE) << call;
  if (!want.ok) {
    EXPECT_EQ(error, want.error) << call;
  }
}

// Every data call on `h`, a handle that may read; `peer` writes it a message and reads its reply.
void expect_data_calls(HANDLE h, HANDLE peer, Outcome write, Outcome transact) {
  constexpr Outcome read{TRUE, 0};
  char buffer[16];
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(peer, "ping", 4, &n, nullptr));
  SetLastError(kSentinel);
  DWORD avail = 0;
  expect("PeekNamedPipe", PeekNamedPipe(h, buffer, sizeof buffer, &n, &avail, nullptr), read);
  SetLastError(kSentinel);
  expect("ReadFile", ReadFile(h, buffer, sizeof buffer, &n, nullptr), read);
  SetLastError(kSentinel);
  expect("WriteFile", WriteFile(h, "pong", 4, &n, nullptr), write);
  if (write.ok) {
    ASSERT_TRUE(ReadFile(peer, buffer, sizeof buffer, &n, nullptr));
  }
  SetLastError(kSentinel);
  expect("FlushFileBuffers", FlushFileBuffers(h), write.ok ? Outcome{TRUE, 0} : write);
  SetLastError(kSentinel);
  expect("TransactNamedPipe",
         TransactNamedPipe(h, const_cast<char*>("q"), 1, buffer, sizeof buffer, &n, nullptr),
         transact);
}

constexpr Outcome kOk{TRUE, 0};
constexpr Outcome kDenied{FALSE, ERROR_ACCESS_DENIED};

TEST(Win32HandleRights, AReadOnlyDuplicateOfADuplexEndReadsAndPeeksButCannotWrite) {
  DuplexPipe p;
  ASSERT_NE(p.server, INVALID_HANDLE_VALUE);
  ASSERT_NE(p.client, INVALID_HANDLE_VALUE);
  HANDLE dup = duplicate(p.server, GENERIC_READ);
  ASSERT_NE(dup, nullptr);
  expect_data_calls(dup, p.client, kDenied, kDenied);
  // The source keeps its own rights.
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(p.server, "x", 1, &n, nullptr));
  EXPECT_TRUE(CloseHandle(dup));
}

TEST(Win32HandleRights, AWriteOnlyDuplicateWritesButCannotReadOrPeek) {
  DuplexPipe p;
  HANDLE dup = duplicate(p.client, GENERIC_WRITE);
  ASSERT_NE(dup, nullptr);
  char buffer[16];
  DWORD n = 0;
  SetLastError(kSentinel);
  expect("WriteFile", WriteFile(dup, "pong", 4, &n, nullptr), kOk);
  ASSERT_TRUE(ReadFile(p.server, buffer, sizeof buffer, &n, nullptr));
  ASSERT_TRUE(WriteFile(p.server, "ping", 4, &n, nullptr));
  SetLastError(kSentinel);
  expect("PeekNamedPipe", PeekNamedPipe(dup, buffer, sizeof buffer, &n, nullptr, nullptr), kDenied);
  SetLastError(kSentinel);
  expect("ReadFile", ReadFile(dup, buffer, sizeof buffer, &n, nullptr), kDenied);
  SetLastError(kSentinel);
  expect("TransactNamedPipe",
         TransactNamedPipe(dup, const_cast<char*>("q"), 1, buffer, sizeof buffer, &n, nullptr),
         kDenied);
  // The message is still there for a handle that may read it.
  EXPECT_TRUE(ReadFile(p.client, buffer, sizeof buffer, &n, nullptr));
  EXPECT_EQ(n, 4u);
  EXPECT_TRUE(CloseHandle(dup));
}

TEST(Win32HandleRights, SpecificRightsGiveExactlyThoseRights) {
  DuplexPipe p;
  struct Case {
    DWORD access;
    Outcome read, write;
  } cases[] = {
      {FILE_READ_DATA, kOk, kDenied},
      {FILE_WRITE_DATA, kDenied, kOk},
      {FILE_READ_DATA | FILE_WRITE_DATA, kOk, kOk},
      {SYNCHRONIZE | FILE_READ_ATTRIBUTES, kDenied, kDenied},
      {0, kDenied, kDenied},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.access);
    HANDLE dup = duplicate(p.server, c.access);
    ASSERT_NE(dup, nullptr);
    char buffer[16];
    DWORD n = 0;
    ASSERT_TRUE(WriteFile(p.client, "ping", 4, &n, nullptr));
    SetLastError(kSentinel);
    expect("ReadFile", ReadFile(dup, buffer, sizeof buffer, &n, nullptr), c.read);
    if (!c.read.ok) {
      ASSERT_TRUE(ReadFile(p.server, buffer, sizeof buffer, &n, nullptr));
    }
    SetLastError(kSentinel);
    expect("WriteFile", WriteFile(dup, "pong", 4, &n, nullptr), c.write);
    if (c.write.ok) {
      ASSERT_TRUE(ReadFile(p.client, buffer, sizeof buffer, &n, nullptr));
    }
    EXPECT_TRUE(CloseHandle(dup));
  }
}

TEST(Win32HandleRights, SameAccessCopiesTheSourceHandlesRightsAndIgnoresTheDesiredAccess) {
  DuplexPipe p;
  HANDLE read_only = duplicate(p.server, GENERIC_READ);
  ASSERT_NE(read_only, nullptr);
  HANDLE same = duplicate(read_only, GENERIC_READ | GENERIC_WRITE, DUPLICATE_SAME_ACCESS);
  ASSERT_NE(same, nullptr);
  expect_data_calls(same, p.client, kDenied, kDenied);
  // And from a full handle, the full rights, whatever dwDesiredAccess says.
  HANDLE full = duplicate(p.server, 0, DUPLICATE_SAME_ACCESS);
  ASSERT_NE(full, nullptr);
  char buffer[16];
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(full, "pong", 4, &n, nullptr));
  EXPECT_TRUE(ReadFile(p.client, buffer, sizeof buffer, &n, nullptr));
  EXPECT_TRUE(CloseHandle(full));
  EXPECT_TRUE(CloseHandle(same));
  EXPECT_TRUE(CloseHandle(read_only));
}

TEST(Win32HandleRights, ADuplicateCannotHaveDataRightsItsSourceLacks) {
  DuplexPipe p;
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  HANDLE read_only = duplicate(p.server, GENERIC_READ);
  ASSERT_NE(read_only, nullptr);
  struct Case {
    const char* what;
    HANDLE source;
    DWORD access;
  } cases[] = {
      {"anonymous read end, GENERIC_WRITE", r, GENERIC_WRITE},
      {"anonymous write end, FILE_READ_DATA", w, FILE_READ_DATA},
      {"read-only duplicate, GENERIC_READ | GENERIC_WRITE", read_only,
       GENERIC_READ | GENERIC_WRITE},
      {"read-only duplicate, GENERIC_ALL", read_only, GENERIC_ALL},
  };
  for (const auto& c : cases) {
    HANDLE out = nullptr;
    SetLastError(kSentinel);
    EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), c.source, GetCurrentProcess(), &out, c.access,
                                 FALSE, 0))
        << c.what;
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED)) << c.what;
  }
  // What the source has can be asked for again, or less of it.
  HANDLE again = duplicate(read_only, GENERIC_READ);
  EXPECT_NE(again, nullptr);
  EXPECT_TRUE(CloseHandle(again));
  // DUPLICATE_CLOSE_SOURCE closes the source even when the duplicate is refused.
  HANDLE out = nullptr;
  SetLastError(kSentinel);
  EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), read_only, GetCurrentProcess(), &out,
                               GENERIC_WRITE, FALSE, DUPLICATE_CLOSE_SOURCE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_FALSE(CloseHandle(read_only));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_TRUE(CloseHandle(r));
  EXPECT_TRUE(CloseHandle(w));
}

TEST(Win32HandleRights, AnEventDuplicateWithoutModifyStateCanWaitButNotSetOrReset) {
  HANDLE event = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(event, nullptr);
  HANDLE waiter = duplicate(event, SYNCHRONIZE);
  ASSERT_NE(waiter, nullptr);
  SetLastError(kSentinel);
  expect("SetEvent", SetEvent(waiter), kDenied);
  SetLastError(kSentinel);
  expect("ResetEvent", ResetEvent(waiter), kDenied);
  EXPECT_EQ(WaitForSingleObject(waiter, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  ASSERT_TRUE(SetEvent(event));
  EXPECT_EQ(WaitForSingleObject(waiter, 0), static_cast<DWORD>(WAIT_OBJECT_0));
  // An event's duplicate is checked against the event, not the source handle: it may widen.
  HANDLE setter = duplicate(waiter, EVENT_MODIFY_STATE);
  ASSERT_NE(setter, nullptr);
  EXPECT_TRUE(ResetEvent(setter));
  EXPECT_EQ(WaitForSingleObject(event, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_TRUE(CloseHandle(setter));
  EXPECT_TRUE(CloseHandle(waiter));
  EXPECT_TRUE(CloseHandle(event));
}

TEST(Win32HandleRights, AnEventDuplicateWithoutSynchronizeCanSetButNotWait) {
  HANDLE event = CreateEventA(nullptr, FALSE, FALSE, nullptr);
  ASSERT_NE(event, nullptr);
  struct Case {
    DWORD access;
  } cases[] = {{EVENT_MODIFY_STATE}, {GENERIC_WRITE}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.access);
    HANDLE setter = duplicate(event, c.access);
    ASSERT_NE(setter, nullptr);
    SetLastError(kSentinel);
    expect("SetEvent", SetEvent(setter), kOk);
    SetLastError(kSentinel);
    EXPECT_EQ(WaitForSingleObject(setter, 0), static_cast<DWORD>(WAIT_FAILED));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    HANDLE both[] = {event, setter};
    SetLastError(kSentinel);
    EXPECT_EQ(WaitForMultipleObjects(2, both, FALSE, 0), static_cast<DWORD>(WAIT_FAILED));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    EXPECT_EQ(WaitForSingleObject(event, 0), static_cast<DWORD>(WAIT_OBJECT_0));
    EXPECT_TRUE(CloseHandle(setter));
  }
  EXPECT_TRUE(CloseHandle(event));
}

TEST(Win32HandleRights, HandlesThatAreNotDuplicatesKeepTheRightsTheyWereOpenedWith) {
  DuplexPipe p;
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  // SAME_ACCESS from each kind of handle: the duplicate behaves as the original does.
  HANDLE rd = duplicate(r, 0, DUPLICATE_SAME_ACCESS);
  HANDLE wd = duplicate(w, 0, DUPLICATE_SAME_ACCESS);
  ASSERT_NE(rd, nullptr);
  ASSERT_NE(wd, nullptr);
  char buffer[16];
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(wd, "abc", 3, &n, nullptr));
  EXPECT_TRUE(ReadFile(rd, buffer, sizeof buffer, &n, nullptr));
  SetLastError(kSentinel);
  expect("WriteFile on the read end", WriteFile(rd, "abc", 3, &n, nullptr), kDenied);
  SetLastError(kSentinel);
  expect("ReadFile on the write end", ReadFile(wd, buffer, 1, &n, nullptr), kDenied);
  // The anonymous ends narrow to what they have.
  HANDLE rn = duplicate(r, GENERIC_READ);
  ASSERT_NE(rn, nullptr);
  EXPECT_TRUE(WriteFile(w, "abc", 3, &n, nullptr));
  EXPECT_TRUE(ReadFile(rn, buffer, sizeof buffer, &n, nullptr));
  HANDLE wn = duplicate(w, FILE_READ_ATTRIBUTES);
  ASSERT_NE(wn, nullptr);
  SetLastError(kSentinel);
  expect("WriteFile on an attributes-only write end", WriteFile(wn, "abc", 3, &n, nullptr),
         kDenied);
  for (HANDLE h : {rd, wd, rn, wn, r, w}) EXPECT_TRUE(CloseHandle(h));
}

// ReadFileEx and WriteFileEx check the handle's rights as ReadFile and WriteFile do.
TEST(Win32HandleRights, ReadFileExAndWriteFileExRefuseADuplicateWithoutTheRight) {
  std::string name = unique_pipe_name("rights-ex");
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                   PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              FILE_FLAG_OVERLAPPED, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  HANDLE write_only = duplicate(client, FILE_GENERIC_WRITE);
  HANDLE read_only = duplicate(client, FILE_GENERIC_READ);
  ASSERT_NE(write_only, nullptr);
  ASSERT_NE(read_only, nullptr);
  auto never = [](DWORD, DWORD, LPOVERLAPPED) {};
  OVERLAPPED ov{};
  char buffer[8];
  SetLastError(kSentinel);
  expect("ReadFileEx on a write-only duplicate",
         ReadFileEx(write_only, buffer, sizeof buffer, &ov, never), kDenied);
  SetLastError(kSentinel);
  expect("WriteFileEx on a read-only duplicate", WriteFileEx(read_only, "x", 1, &ov, never),
         kDenied);
  CloseHandle(read_only);
  CloseHandle(write_only);
  CloseHandle(client);
  CloseHandle(server);
}

}  // namespace
