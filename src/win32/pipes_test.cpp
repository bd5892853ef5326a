// Pipe functions: call → return → last error, as Windows has them.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <stdlib.h>
#include <unistd.h>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

constexpr DWORD kMessagePipe = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT;

HANDLE make_server(const std::string& name, DWORD open_mode = PIPE_ACCESS_DUPLEX,
                   DWORD pipe_mode = kMessagePipe, DWORD max = PIPE_UNLIMITED_INSTANCES) {
  return CreateNamedPipeA(name.c_str(), open_mode, pipe_mode, max, 512, 512, 0, nullptr);
}

HANDLE open_client(const std::string& name, DWORD access = GENERIC_READ | GENERIC_WRITE,
                   DWORD disposition = OPEN_EXISTING) {
  return CreateFileA(name.c_str(), access, 0, nullptr, disposition, 0, nullptr);
}

// ---- anonymous pipes ---------------------------------------------------------------------------

TEST(Win32AnonymousPipe, EndsReportServerReadEndClientWriteEndAndDefaultSizes) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  DWORD flags = 9, out = 0, in = 0, max = 0;
  ASSERT_TRUE(GetNamedPipeInfo(r, &flags, &out, &in, &max));
  EXPECT_EQ(flags, static_cast<DWORD>(PIPE_SERVER_END));
  EXPECT_EQ(out, 4096u);
  EXPECT_EQ(in, 4096u);
  EXPECT_EQ(max, 1u);
  ASSERT_TRUE(GetNamedPipeInfo(w, &flags, nullptr, nullptr, nullptr));
  EXPECT_EQ(flags, static_cast<DWORD>(PIPE_CLIENT_END));
  DWORD state = 9, instances = 0;
  ASSERT_TRUE(GetNamedPipeHandleStateA(r, &state, &instances, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(state, 0u);
  EXPECT_EQ(instances, 1u);
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32AnonymousPipe, WrongDirectionAndPipeOnlyCallsFailAsTheSpecSays) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  char buf[8];
  DWORD n = 7;
  DWORD mode = PIPE_READMODE_MESSAGE;
  struct Case {
    const char* call;
    BOOL result;
    DWORD error;
  } cases[] = {
      {"ReadFile(write end)", ReadFile(w, buf, 1, &n, nullptr), ERROR_ACCESS_DENIED},
      {"WriteFile(read end)", WriteFile(r, "x", 1, &n, nullptr), ERROR_ACCESS_DENIED},
      {"PeekNamedPipe(write end)", PeekNamedPipe(w, nullptr, 0, nullptr, nullptr, nullptr),
       ERROR_ACCESS_DENIED},
      {"TransactNamedPipe", TransactNamedPipe(r, buf, 1, buf, 1, &n, nullptr), ERROR_ACCESS_DENIED},
      {"ConnectNamedPipe(read end)", ConnectNamedPipe(r, nullptr), ERROR_PIPE_CONNECTED},
      {"SetNamedPipeHandleState(message)", SetNamedPipeHandleState(r, &mode, nullptr, nullptr),
       ERROR_INVALID_PARAMETER},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.result) << c.call;
  }
  // Each call sets its error right away; re-run one at a time to read it.
  SetLastError(kSentinel);
  ReadFile(w, buf, 1, &n, nullptr);
  EXPECT_EQ(GetLastError(), cases[0].error);
  WriteFile(r, "x", 1, &n, nullptr);
  EXPECT_EQ(GetLastError(), cases[1].error);
  PeekNamedPipe(w, nullptr, 0, nullptr, nullptr, nullptr);
  EXPECT_EQ(GetLastError(), cases[2].error);
  TransactNamedPipe(r, buf, 1, buf, 1, &n, nullptr);
  EXPECT_EQ(GetLastError(), cases[3].error);
  ConnectNamedPipe(r, nullptr);
  EXPECT_EQ(GetLastError(), cases[4].error);
  SetNamedPipeHandleState(r, &mode, nullptr, nullptr);
  EXPECT_EQ(GetLastError(), cases[5].error);
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32AnonymousPipe, ReaderGetsRemainingDataThenBrokenPipe) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(w, "hello", 5, &n, nullptr));
  EXPECT_EQ(n, 5u);
  DWORD avail = 0, read = 0, left = 0;
  char peek[2];
  ASSERT_TRUE(PeekNamedPipe(r, peek, 2, &read, &avail, &left));
  EXPECT_EQ(read, 2u);
  EXPECT_EQ(avail, 5u);
  EXPECT_EQ(left, 0u - 2u);  // byte pipes report 0 - bytes peeked
  CloseHandle(w);
  char buf[16];
  ASSERT_TRUE(ReadFile(r, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(std::string(buf, n), "hello");
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(r, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_EQ(n, 0u);
  CloseHandle(r);
}

TEST(Win32AnonymousPipe, WriteWithoutReaderFailsWithNoData) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  CloseHandle(r);
  DWORD n = 5;
  SetLastError(kSentinel);
  EXPECT_FALSE(WriteFile(w, "x", 1, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  EXPECT_EQ(n, 0u);
  CloseHandle(w);
}

TEST(Win32AnonymousPipe, NoWaitReadOfAnEmptyPipeFailsWithNoData) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  DWORD mode = PIPE_NOWAIT;
  ASSERT_TRUE(SetNamedPipeHandleState(r, &mode, nullptr, nullptr));
  DWORD state = 0;
  ASSERT_TRUE(GetNamedPipeHandleStateA(r, &state, nullptr, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(state, static_cast<DWORD>(PIPE_NOWAIT));
  char buf[4];
  DWORD n = 0;
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(r, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32AnonymousPipe, OverlappedOnASynchronousHandleCompletesAndSignalsTheEvent) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  OVERLAPPED ov{};
  ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(w, "abcd", 4, &n, &ov));
  EXPECT_EQ(ov.Internal, static_cast<ULONG_PTR>(STATUS_SUCCESS));
  EXPECT_EQ(ov.InternalHigh, 4u);
  EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
  EXPECT_TRUE(HasOverlappedIoCompleted(&ov));
  OVERLAPPED rov{};
  rov.hEvent = ov.hEvent;
  char buf[8];
  ASSERT_TRUE(ReadFile(r, buf, sizeof buf, &n, &rov));
  EXPECT_EQ(n, 4u);
  DWORD transferred = 0;
  ASSERT_TRUE(GetOverlappedResult(r, &rov, &transferred, FALSE));
  EXPECT_EQ(transferred, 4u);
  CloseHandle(ov.hEvent);
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32AnonymousPipe, ProcessIdsAreTheCreatorsAndComputerNameIsLocal) {
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  ULONG pid = 0;
  ASSERT_TRUE(GetNamedPipeClientProcessId(w, &pid));
  EXPECT_EQ(pid, GetCurrentProcessId());
  ASSERT_TRUE(GetNamedPipeServerProcessId(r, &pid));
  EXPECT_EQ(pid, GetCurrentProcessId());
  char name[64];
  EXPECT_FALSE(GetNamedPipeClientComputerNameA(r, name, sizeof name));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_LOCAL));
  CloseHandle(r);
  CloseHandle(w);
}

TEST(Win32AnonymousPipe, DisconnectSucceedsOnTheReadEndAndIsNotForTheWriteEnd) {
  // The read end is the server end, the write end a client end (docs/architecture.md,
  // "Anonymous pipes", also for what Windows does beyond this and sluice does not).
  HANDLE r, w;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  SetLastError(kSentinel);
  EXPECT_TRUE(DisconnectNamedPipe(r));
  EXPECT_EQ(GetLastError(), kSentinel);
  EXPECT_FALSE(DisconnectNamedPipe(w));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  CloseHandle(r);
  CloseHandle(w);
}

// ---- CreateNamedPipe -------------------------------------------------------------------------

TEST(Win32CreateNamedPipe, ArgumentErrorsFollowTheSpecTable) {
  std::string name = unique_pipe_name();
  struct Case {
    const char* what;
    const char* name;
    DWORD open_mode, pipe_mode, max;
    DWORD error;
  } cases[] = {
      {"NULL name", nullptr, PIPE_ACCESS_DUPLEX, 0, 1, ERROR_PATH_NOT_FOUND},
      {"not a pipe name", "\\\\.\\nopipe\\x", PIPE_ACCESS_DUPLEX, 0, 1, ERROR_INVALID_NAME},
      {"access mode 0", name.c_str(), 0, 0, 1, ERROR_INVALID_PARAMETER},
      {"unknown open-mode bit", name.c_str(), PIPE_ACCESS_DUPLEX | 0x100, 0, 1,
       ERROR_INVALID_PARAMETER},
      {"unknown pipe-mode bit", name.c_str(), PIPE_ACCESS_DUPLEX, 0x10, 1, ERROR_INVALID_PARAMETER},
      {"byte type, message read", name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_READMODE_MESSAGE, 1,
       ERROR_INVALID_PARAMETER},
      {"0 instances", name.c_str(), PIPE_ACCESS_DUPLEX, 0, 0, ERROR_INVALID_PARAMETER},
      {"256 instances", name.c_str(), PIPE_ACCESS_DUPLEX, 0, 256, ERROR_INVALID_PARAMETER},
  };
  for (const auto& c : cases) {
    SetLastError(kSentinel);
    HANDLE h = CreateNamedPipeA(c.name, c.open_mode, c.pipe_mode, c.max, 0, 0, 0, nullptr);
    EXPECT_EQ(h, INVALID_HANDLE_VALUE) << c.what;
    EXPECT_EQ(GetLastError(), c.error) << c.what;
  }
  std::string long_name = "\\\\.\\pipe\\" + std::string(260, 'x');
  EXPECT_EQ(make_server(long_name), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILENAME_EXCED_RANGE));
}

TEST(Win32CreateNamedPipe, InstanceRulesFollowTheSpecTable) {
  std::string name = unique_pipe_name();
  HANDLE first = make_server(name, PIPE_ACCESS_DUPLEX, kMessagePipe, 2);
  ASSERT_NE(first, INVALID_HANDLE_VALUE) << GetLastError();
  struct Case {
    const char* what;
    DWORD open_mode;
    DWORD error;
  } cases[] = {
      {"first-instance flag on an existing name",
       PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE, ERROR_ACCESS_DENIED},
      {"WRITE_OWNER is the same bit", PIPE_ACCESS_DUPLEX | WRITE_OWNER, ERROR_ACCESS_DENIED},
      {"different access mode", PIPE_ACCESS_INBOUND, ERROR_ACCESS_DENIED},
  };
  for (const auto& c : cases) {
    SetLastError(kSentinel);
    EXPECT_EQ(make_server(name, c.open_mode, kMessagePipe, 2), INVALID_HANDLE_VALUE) << c.what;
    EXPECT_EQ(GetLastError(), c.error) << c.what;
  }
  // A different type is accepted; the third instance exceeds the first's maximum.
  HANDLE second = make_server(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 2);
  ASSERT_NE(second, INVALID_HANDLE_VALUE) << GetLastError();
  SetLastError(kSentinel);
  EXPECT_EQ(make_server(name, PIPE_ACCESS_DUPLEX, kMessagePipe, 2), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
  CloseHandle(first);
  CloseHandle(second);
}

TEST(Win32CreateNamedPipe, WideNamesWorkLikeNarrowOnes) {
  std::string name = unique_pipe_name();
  std::wstring wide(name.begin(), name.end());
  HANDLE server =
      CreateNamedPipeW(wide.c_str(), PIPE_ACCESS_DUPLEX, kMessagePipe, 1, 0, 0, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  HANDLE client = CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              0, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
  EXPECT_TRUE(WaitNamedPipeW(wide.c_str(), 0) || GetLastError() == ERROR_SEM_TIMEOUT);
  CloseHandle(client);
  CloseHandle(server);
}

// ---- names -----------------------------------------------------------------------------------

// A server that answers one CallNamedPipe with "pong", then closes.
std::thread pong_once(HANDLE server) {
  return std::thread([server] {
    if (!ConnectNamedPipe(server, nullptr) && GetLastError() != ERROR_PIPE_CONNECTED) return;
    char buf[64];
    DWORD got = 0, w = 0;
    if (ReadFile(server, buf, sizeof buf, &got, nullptr)) {
      WriteFile(server, "pong", 4, &w, nullptr);
      FlushFileBuffers(server);
    }
    DisconnectNamedPipe(server);
  });
}

BOOL wait_default(const char* name) { return WaitNamedPipeA(name, NMPWAIT_USE_DEFAULT_WAIT); }
BOOL wait_default(const wchar_t* name) { return WaitNamedPipeW(name, NMPWAIT_USE_DEFAULT_WAIT); }
BOOL call_ping(const char* name, char (&reply)[8], DWORD* n) {
  return CallNamedPipeA(name, (LPVOID) "ping", 4, reply, sizeof reply, n, 5000);
}
BOOL call_ping(const wchar_t* name, char (&reply)[8], DWORD* n) {
  return CallNamedPipeW(name, (LPVOID) "ping", 4, reply, sizeof reply, n, 5000);
}
HANDLE open_existing(const char* name) {
  return CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
}
HANDLE open_existing(const wchar_t* name) {
  return CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
}

// Checks that `name` reaches `server`, an instance of `created`, with every client call:
// WaitNamedPipe, CallNamedPipe (answered by a responder) and CreateFile (on a second instance:
// the first is disconnected by then).
template <class Char>
void expect_every_call_reaches(HANDLE server, const std::string& created, const Char* name) {
  if (!wait_default(name)) {
    ADD_FAILURE() << "WaitNamedPipe: " << GetLastError();
    return;  // unreachable: a responder would wait for ever
  }
  std::thread responder = pong_once(server);
  char reply[8];
  DWORD n = 0;
  EXPECT_TRUE(call_ping(name, reply, &n)) << "CallNamedPipe: " << GetLastError();
  EXPECT_EQ(std::string(reply, n), "pong");
  responder.join();
  HANDLE second = make_server(created);
  HANDLE client = open_existing(name);
  EXPECT_NE(client, INVALID_HANDLE_VALUE) << "CreateFile: " << GetLastError();
  CloseHandle(client);
  CloseHandle(second);
}

// "The pipename part of the name can include any character other than a backslash" (Pipe
// Names, Microsoft Learn): each such name is created and reached by every client call.
TEST(Win32PipeNames, ALineFeedAndEveryOtherCharacterButBackslashAreCreatedAndReached) {
  for (const char* part : {"a\nb", "cr\r\t", ":*?\"<>|", "ctl\x01\x1f\x7f", "\xC3\xA9t\xC3\xA9"}) {
    std::string name = unique_pipe_name(part);
    SCOPED_TRACE(::testing::PrintToString(name));
    HANDLE server = make_server(name);
    ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
    expect_every_call_reaches(server, name, name.c_str());
    CloseHandle(server);
  }
}

// Forward slashes are separators in the prefix too ("Naming Files, Paths, and Namespaces",
// Microsoft Learn): `//./pipe/x` is a pipe name, never a Linux path.
TEST(Win32PipeNames, ForwardSlashesInThePrefixNameTheSamePipe) {
  std::string tail = unique_pipe_name().substr(9);
  HANDLE server = make_server("//./pipe/" + tail);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  for (std::string spelling : {"\\\\.\\pipe\\", "//./pipe/", "\\\\./pipe\\", "//?/PIPE/"}) {
    SCOPED_TRACE(spelling);
    EXPECT_TRUE(WaitNamedPipeA((spelling + tail).c_str(), NMPWAIT_USE_DEFAULT_WAIT))
        << GetLastError();
  }
  HANDLE client = open_client("//./pipe/" + tail);
  EXPECT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
  CloseHandle(client);
  CloseHandle(server);
  SetLastError(kSentinel);
  EXPECT_EQ(open_client("//./pipe/" + tail), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  EXPECT_FALSE(std::filesystem::exists("/pipe/" + tail));
}

// `\\?\` names are not normalised ("Naming Files, Paths, and Namespaces", Microsoft Learn): the
// trailing dot stays part of the name, for the server and its clients.
TEST(Win32PipeNames, VerbatimNamesAreReachedAsSpelled) {
  std::string verbatim = "\\\\?\\pipe\\" + unique_pipe_name().substr(9) + "trail.";
  HANDLE server = make_server(verbatim);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  HANDLE client = open_client(verbatim);
  EXPECT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
  CloseHandle(client);
  CloseHandle(server);
}

TEST(Win32PipeNames, MalformedNamesGetTheSpecErrors) {
  struct Case {
    const char* name;
    DWORD create, open;
  } cases[] = {
      {"\\\\.\\pipe\\", ERROR_INVALID_NAME, ERROR_FILE_NOT_FOUND},
      {"//./pipe/", ERROR_INVALID_NAME, ERROR_FILE_NOT_FOUND},
      {"\\\\.\\pipe\\.", ERROR_INVALID_NAME, ERROR_FILE_NOT_FOUND},
      {"\\\\server\\pipe\\x", ERROR_INVALID_NAME, ERROR_BAD_NETPATH},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SetLastError(kSentinel);
    EXPECT_EQ(make_server(c.name), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), c.create);
    SetLastError(kSentinel);
    EXPECT_EQ(open_client(c.name), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), c.open);
  }
}

std::wstring wide(const std::string& ascii) { return std::wstring(ascii.begin(), ascii.end()); }

// The limit is 259 characters as Windows counts them, in UTF-16 units: an emoji is two
// (wchar_t is UTF-32 here, one element per emoji). The W functions reach what the A ones make.
TEST(Win32PipeNames, WideNamesCountUtf16UnitsAndReachNonAsciiPipes) {
  std::string pid = std::to_string(GetCurrentProcessId());
  std::string prefix = "\\\\.\\pipe\\" + std::string(8 - pid.size(), '0') + pid;  // 17 units
  std::wstring longest = wide(prefix) + std::wstring(121, L'\U0001F600');         // 259 units
  HANDLE server = CreateNamedPipeW(longest.c_str(), PIPE_ACCESS_DUPLEX, kMessagePipe,
                                   PIPE_UNLIMITED_INSTANCES, 0, 0, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  EXPECT_TRUE(WaitNamedPipeW(longest.c_str(), NMPWAIT_USE_DEFAULT_WAIT)) << GetLastError();
  // The same name with each emoji as a UTF-16 surrogate pair, as 16-bit WCHAR text has it.
  std::wstring pairs = wide(prefix);
  for (int i = 0; i < 121; ++i) pairs += L"\xD83D\xDE00";
  EXPECT_TRUE(WaitNamedPipeW(pairs.c_str(), NMPWAIT_USE_DEFAULT_WAIT)) << GetLastError();
  HANDLE client = open_existing(longest.c_str());
  EXPECT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
  CloseHandle(client);
  CloseHandle(server);

  std::wstring too_long = wide("\\\\.\\pipe\\") + std::wstring(130, L'\U0001F600');  // 269
  SetLastError(kSentinel);
  EXPECT_EQ(
      CreateNamedPipeW(too_long.c_str(), PIPE_ACCESS_DUPLEX, kMessagePipe, 1, 0, 0, 0, nullptr),
      INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILENAME_EXCED_RANGE));
  SetLastError(kSentinel);
  EXPECT_EQ(CreateFileW(too_long.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr),
            INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILENAME_EXCED_RANGE));
  SetLastError(kSentinel);
  EXPECT_FALSE(WaitNamedPipeW(too_long.c_str(), 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILENAME_EXCED_RANGE));

  // Made narrow (UTF-8) with a line feed and lower-case accents, reached wide in upper case.
  std::string narrow = unique_pipe_name("\xC3\xA9\n\xCE\xB1");  // é LF α
  std::wstring upper = wide(unique_pipe_name("@\n@"));
  upper[upper.find(L'@')] = L'\u00C9';   // É
  upper[upper.rfind(L'@')] = L'\u0391';  // Α
  server = make_server(narrow);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  expect_every_call_reaches(server, narrow, upper.c_str());
  CloseHandle(server);
}

// ---- CreateFile, ConnectNamedPipe, WaitNamedPipe ---------------------------------------------

TEST(Win32CreateFile, OpeningPipesFollowsTheSpecTable) {
  std::string name = unique_pipe_name();
  SetLastError(kSentinel);
  EXPECT_EQ(open_client(name), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));

  HANDLE server = make_server(name, PIPE_ACCESS_INBOUND, kMessagePipe, 1);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  SetLastError(kSentinel);
  EXPECT_EQ(open_client(name, GENERIC_READ), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));

  SetLastError(kSentinel);
  HANDLE client = open_client(name, GENERIC_WRITE, OPEN_ALWAYS);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ALREADY_EXISTS));

  SetLastError(kSentinel);
  EXPECT_EQ(open_client(name, GENERIC_WRITE), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
  EXPECT_EQ(open_client(name, GENERIC_WRITE, 0), INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  CloseHandle(client);
  CloseHandle(server);
}

TEST(Win32ConnectNamedPipe, AClientThatCameFirstGivesPipeConnected) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  HANDLE client = open_client(name);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  OVERLAPPED ov{};
  ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  SetLastError(kSentinel);
  EXPECT_FALSE(ConnectNamedPipe(server, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_CONNECTED));
  // The event is not signalled for ERROR_PIPE_CONNECTED.
  EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  SetLastError(kSentinel);
  EXPECT_FALSE(ConnectNamedPipe(client, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  CloseHandle(ov.hEvent);
  CloseHandle(client);
  CloseHandle(server);
}

TEST(Win32ConnectNamedPipe, BlockingConnectReturnsTrueWhenAClientArrives) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  std::atomic<BOOL> connected{FALSE};
  std::atomic<DWORD> error{0};
  std::thread t([&] {
    connected = ConnectNamedPipe(server, nullptr);
    error = GetLastError();
  });
  HANDLE client = INVALID_HANDLE_VALUE;
  // The connect may or may not have started yet: either way the client gets the instance.
  while (client == INVALID_HANDLE_VALUE) {
    client = open_client(name);
    if (client == INVALID_HANDLE_VALUE) Sleep(1);
  }
  t.join();
  EXPECT_TRUE(connected || error == ERROR_PIPE_CONNECTED) << error;
  CloseHandle(client);
  // Client closed, not yet disconnected: ERROR_NO_DATA.
  SetLastError(kSentinel);
  EXPECT_FALSE(ConnectNamedPipe(server, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  CloseHandle(server);
}

TEST(Win32WaitNamedPipe, ResultsFollowTheSpecTable) {
  std::string name = unique_pipe_name();
  SetLastError(kSentinel);
  EXPECT_FALSE(WaitNamedPipeA(name.c_str(), 5000));  // missing: at once
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  HANDLE server = make_server(name, PIPE_ACCESS_DUPLEX, kMessagePipe, 1);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  SetLastError(kSentinel);
  EXPECT_TRUE(WaitNamedPipeA(name.c_str(), NMPWAIT_USE_DEFAULT_WAIT));
  EXPECT_EQ(GetLastError(), kSentinel);
  HANDLE client = open_client(name);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  SetLastError(kSentinel);
  EXPECT_FALSE(WaitNamedPipeA(name.c_str(), 20));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SEM_TIMEOUT));
  CloseHandle(client);
  CloseHandle(server);
}

// ---- data transfer ---------------------------------------------------------------------------

class Win32NamedPipeIo : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_pipe_name();
    server_ = make_server(name_);
    ASSERT_NE(server_, INVALID_HANDLE_VALUE);
    client_ = open_client(name_);
    ASSERT_NE(client_, INVALID_HANDLE_VALUE);
  }
  void TearDown() override {
    if (client_ != INVALID_HANDLE_VALUE) CloseHandle(client_);
    if (server_ != INVALID_HANDLE_VALUE) CloseHandle(server_);
  }
  std::string name_;
  HANDLE server_ = INVALID_HANDLE_VALUE;
  HANDLE client_ = INVALID_HANDLE_VALUE;
};

TEST_F(Win32NamedPipeIo, ClientStartsInByteModeAndMergesMessagesUntilSwitched) {
  DWORD state = 99;
  ASSERT_TRUE(GetNamedPipeHandleStateA(client_, &state, nullptr, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(state, 0u);
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(server_, "ab", 2, &n, nullptr));
  ASSERT_TRUE(WriteFile(server_, "cd", 2, &n, nullptr));
  char buf[8];
  ASSERT_TRUE(ReadFile(client_, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(std::string(buf, n), "abcd");
  DWORD mode = PIPE_READMODE_MESSAGE;
  ASSERT_TRUE(SetNamedPipeHandleState(client_, &mode, nullptr, nullptr));
  ASSERT_TRUE(WriteFile(server_, "hello", 5, &n, nullptr));
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(client_, buf, 3, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 3u);
  ASSERT_TRUE(ReadFile(client_, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(std::string(buf, n), "lo");
}

TEST_F(Win32NamedPipeIo, InfoAndStateReportTheInstance) {
  DWORD flags = 0, out = 0, in = 0, max = 0;
  ASSERT_TRUE(GetNamedPipeInfo(server_, &flags, &out, &in, &max));
  EXPECT_EQ(flags, static_cast<DWORD>(PIPE_SERVER_END | PIPE_TYPE_MESSAGE));
  EXPECT_EQ(out, 512u);
  EXPECT_EQ(in, 512u);
  EXPECT_EQ(max, 255u);
  ASSERT_TRUE(GetNamedPipeInfo(client_, &flags, nullptr, nullptr, nullptr));
  EXPECT_EQ(flags, static_cast<DWORD>(PIPE_TYPE_MESSAGE));
  DWORD state = 0, instances = 0, collect = 0;
  ASSERT_TRUE(GetNamedPipeHandleStateA(server_, &state, &instances, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(state, static_cast<DWORD>(PIPE_READMODE_MESSAGE));
  EXPECT_EQ(instances, 1u);
  SetLastError(kSentinel);
  EXPECT_FALSE(GetNamedPipeHandleStateA(server_, nullptr, nullptr, &collect, nullptr, nullptr, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  DWORD bad = 0x10;
  EXPECT_FALSE(SetNamedPipeHandleState(client_, &bad, nullptr, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  DWORD mode = PIPE_READMODE_BYTE;
  EXPECT_FALSE(SetNamedPipeHandleState(client_, &mode, &collect, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST_F(Win32NamedPipeIo, ProcessIdsSessionIdsAndComputerName) {
  ULONG id = 0;
  ASSERT_TRUE(GetNamedPipeClientProcessId(server_, &id));
  EXPECT_EQ(id, GetCurrentProcessId());
  ASSERT_TRUE(GetNamedPipeServerProcessId(client_, &id));
  EXPECT_EQ(id, GetCurrentProcessId());
  EXPECT_TRUE(GetNamedPipeClientSessionId(server_, &id));
  EXPECT_TRUE(GetNamedPipeServerSessionId(client_, &id));
  SetLastError(kSentinel);
  EXPECT_FALSE(GetNamedPipeClientProcessId(server_, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  wchar_t wname[64];
  EXPECT_FALSE(GetNamedPipeClientComputerNameW(server_, wname, sizeof wname));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_LOCAL));
  EXPECT_FALSE(GetNamedPipeClientComputerNameA(client_, nullptr, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST_F(Win32NamedPipeIo, PeerClosedReadsDrainThenBrokenPipeAndWritesGetNoData) {
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(client_, "bye", 3, &n, nullptr));
  CloseHandle(client_);
  client_ = INVALID_HANDLE_VALUE;
  char buf[8];
  ASSERT_TRUE(ReadFile(server_, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(n, 3u);
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(server_, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_FALSE(WriteFile(server_, "x", 1, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  // Flushing after the client has gone returns at once.
  EXPECT_TRUE(FlushFileBuffers(server_) || GetLastError() == ERROR_BROKEN_PIPE);
  EXPECT_TRUE(DisconnectNamedPipe(server_));
}

TEST_F(Win32NamedPipeIo, DisconnectEndsEverythingWithPipeNotConnected) {
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(server_, "lost", 4, &n, nullptr));
  ASSERT_TRUE(DisconnectNamedPipe(server_));
  char buf[8];
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(client_, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
  EXPECT_FALSE(WriteFile(client_, "x", 1, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
  EXPECT_FALSE(DisconnectNamedPipe(server_));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
  EXPECT_FALSE(DisconnectNamedPipe(client_));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  ULONG id = 0;
  EXPECT_FALSE(GetNamedPipeClientProcessId(server_, &id));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
  EXPECT_FALSE(PeekNamedPipe(server_, nullptr, 0, nullptr, nullptr, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BAD_PIPE));
}

TEST_F(Win32NamedPipeIo, ImpersonationNeedsAReadFirst) {
  SetLastError(kSentinel);
  EXPECT_FALSE(ImpersonateNamedPipeClient(server_));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CANNOT_IMPERSONATE));
  char user[256];
  EXPECT_FALSE(
      GetNamedPipeHandleStateA(server_, nullptr, nullptr, nullptr, nullptr, user, sizeof user));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_CANNOT_IMPERSONATE));
  EXPECT_FALSE(ImpersonateNamedPipeClient(client_));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(client_, "x", 1, &n, nullptr));
  char buf[4];
  ASSERT_TRUE(ReadFile(server_, buf, sizeof buf, &n, nullptr));
  // Same user: impersonation succeeds without changing identity.
  EXPECT_TRUE(ImpersonateNamedPipeClient(server_));
  EXPECT_TRUE(RevertToSelf());
  ASSERT_TRUE(
      GetNamedPipeHandleStateA(server_, nullptr, nullptr, nullptr, nullptr, user, sizeof user));
  EXPECT_GT(std::strlen(user), 0u);
}

TEST_F(Win32NamedPipeIo, TransactWritesOneMessageAndReadsTheReply) {
  std::thread responder([&] {
    char buf[64];
    DWORD n = 0, w = 0;
    if (ReadFile(server_, buf, sizeof buf, &n, nullptr)) {
      WriteFile(server_, "a longer reply", 14, &w, nullptr);
    }
  });
  char reply[4];
  DWORD n = 0;
  SetLastError(kSentinel);
  // The client is still in byte-read mode: ERROR_BAD_PIPE.
  EXPECT_FALSE(TransactNamedPipe(client_, (LPVOID) "q", 1, reply, sizeof reply, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BAD_PIPE));
  DWORD mode = PIPE_READMODE_MESSAGE;
  ASSERT_TRUE(SetNamedPipeHandleState(client_, &mode, nullptr, nullptr));
  SetLastError(kSentinel);
  EXPECT_FALSE(
      TransactNamedPipe(client_, (LPVOID) "question", 8, reply, sizeof reply, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 4u);
  responder.join();
  char rest[32];
  ASSERT_TRUE(ReadFile(client_, rest, sizeof rest, &n, nullptr));
  EXPECT_EQ(std::string(rest, n), "nger reply");
}

TEST(Win32CallNamedPipe, ResultsFollowTheSpecTable) {
  std::string name = unique_pipe_name();
  char reply[8];
  DWORD n = 77;
  SetLastError(kSentinel);
  EXPECT_FALSE(
      CallNamedPipeA(name.c_str(), (LPVOID) "x", 1, reply, sizeof reply, &n, NMPWAIT_NOWAIT));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  EXPECT_EQ(n, 0u);

  HANDLE server = make_server(name);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  std::thread responder([&] {
    for (const char* answer : {"pong", "a reply too long"}) {
      if (!ConnectNamedPipe(server, nullptr) && GetLastError() != ERROR_PIPE_CONNECTED) return;
      char buf[64];
      DWORD got = 0, w = 0;
      if (ReadFile(server, buf, sizeof buf, &got, nullptr)) {
        WriteFile(server, answer, static_cast<DWORD>(std::strlen(answer)), &w, nullptr);
        FlushFileBuffers(server);
      }
      DisconnectNamedPipe(server);
    }
  });
  SetLastError(kSentinel);
  ASSERT_TRUE(CallNamedPipeA(name.c_str(), (LPVOID) "ping", 4, reply, sizeof reply, &n, 5000))
      << GetLastError();
  EXPECT_EQ(std::string(reply, n), "pong");
  EXPECT_EQ(GetLastError(), 0u);  // observed on Windows
  SetLastError(kSentinel);
  EXPECT_FALSE(CallNamedPipeA(name.c_str(), (LPVOID) "ping", 4, reply, sizeof reply, &n, 5000));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, static_cast<DWORD>(sizeof reply));
  responder.join();
  CloseHandle(server);
}

TEST(Win32CallNamedPipe, AByteTypePipeFailsWithInvalidParameter) {
  std::string name = unique_pipe_name();
  HANDLE server = make_server(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  char reply[8];
  DWORD n = 0;
  SetLastError(kSentinel);
  EXPECT_FALSE(CallNamedPipeA(name.c_str(), (LPVOID) "x", 1, reply, sizeof reply, &n, 1000));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  CloseHandle(server);
}

// ---- pipe calls on other kinds of handles ------------------------------------------------------

TEST(Win32PipeCallsOnOtherHandles, EventsAndFilesGetTheSpecsErrors) {
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  char buf[4];
  DWORD n = 0;
  SetLastError(kSentinel);
  EXPECT_FALSE(ReadFile(e, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_FALSE(ConnectNamedPipe(e, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  CloseHandle(e);
  char path[] = "/tmp/sluice-win32-file-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  HANDLE f = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_NE(f, INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetFileType(f), static_cast<DWORD>(FILE_TYPE_DISK));
  EXPECT_FALSE(GetNamedPipeInfo(f, nullptr, nullptr, nullptr, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_FALSE(PeekNamedPipe(f, nullptr, 0, nullptr, nullptr, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  EXPECT_FALSE(DisconnectNamedPipe(f));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
  EXPECT_FALSE(WriteFile(f, "x", 1, &n, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  CloseHandle(f);
  DeleteFileA(path);
}

TEST(Win32Files, CreateFileDispositionsFollowWindows) {
  std::string path = "/tmp/sluice-win32-disp-" + std::to_string(GetCurrentProcessId());
  DeleteFileA(path.c_str());
  SetLastError(kSentinel);
  EXPECT_EQ(CreateFileA(path.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr),
            INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
  HANDLE h = CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, 0, nullptr);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  DWORD n = 0;
  EXPECT_TRUE(WriteFile(h, "hello", 5, &n, nullptr));
  EXPECT_TRUE(FlushFileBuffers(h));
  CloseHandle(h);
  EXPECT_EQ(CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, 0, nullptr),
            INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_EXISTS));
  SetLastError(kSentinel);
  h = CreateFileA(path.c_str(), GENERIC_READ, 0, nullptr, OPEN_ALWAYS, 0, nullptr);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ALREADY_EXISTS));
  char buf[16];
  ASSERT_TRUE(ReadFile(h, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(std::string(buf, n), "hello");
  ASSERT_TRUE(ReadFile(h, buf, sizeof buf, &n, nullptr));  // end of file: TRUE, 0 bytes
  EXPECT_EQ(n, 0u);
  CloseHandle(h);
  EXPECT_TRUE(DeleteFileA(path.c_str()));
  EXPECT_EQ(CreateFileA("/nonexistent-dir/x", GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr),
            INVALID_HANDLE_VALUE);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PATH_NOT_FOUND));
}

}  // namespace
