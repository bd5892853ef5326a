// Overlapped I/O on named pipes: the four outcomes of starting an operation (call → return → last
// error → Internal/InternalHigh → event → packet), GetOverlappedResult(Ex), waiting on pipe
// handles, the fate of pending operations, cancellation and races.
#include <windows.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "thread_state.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

constexpr DWORD kMessage = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT;

bool signaled(HANDLE h) { return WaitForSingleObject(h, 0) == WAIT_OBJECT_0; }
DWORD internal(const OVERLAPPED& ov) {
  return static_cast<DWORD>(__atomic_load_n(&ov.Internal, __ATOMIC_ACQUIRE));
}

// An overlapped server end and a connected client end (overlapped unless asked otherwise), in
// message-read mode on both sides.
struct Pipe {
  explicit Pipe(DWORD out_size = 4096, DWORD in_size = 4096, bool client_overlapped = true,
                DWORD mode = kMessage) {
    name = unique_pipe_name();
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, mode, 4,
                              out_size, in_size, 0, nullptr);
    EXPECT_NE(server, INVALID_HANDLE_VALUE);
    client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                         client_overlapped ? FILE_FLAG_OVERLAPPED : 0, nullptr);
    EXPECT_NE(client, INVALID_HANDLE_VALUE);
    if (mode & PIPE_READMODE_MESSAGE) {
      DWORD m = PIPE_READMODE_MESSAGE;
      EXPECT_TRUE(SetNamedPipeHandleState(client, &m, nullptr, nullptr));
    }
  }
  ~Pipe() {
    if (server) CloseHandle(server);
    if (client) CloseHandle(client);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  std::string name;
  HANDLE server = nullptr;
  HANDLE client = nullptr;
};

// Writes synchronously from a client end (an overlapped handle given no OVERLAPPED waits).
void send(HANDLE h, const std::string& s) {
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(h, s.data(), static_cast<DWORD>(s.size()), &n, nullptr));
  ASSERT_EQ(n, s.size());
}

struct Event {
  Event(bool initial = true) : h(CreateEventA(nullptr, TRUE, initial, nullptr)) {}
  ~Event() { CloseHandle(h); }
  HANDLE h;
};

// ---- the four outcomes -------------------------------------------------------------------------

TEST(Win32Overlapped, ReadThatFindsDataReturnsTrueSignalsTheEventAndGivesTheCount) {
  Pipe p;
  send(p.client, "hello");
  Event e;
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  ov.InternalHigh = 77;
  char buf[16];
  DWORD n = 99;
  SetLastError(kSentinel);
  ASSERT_TRUE(ReadFile(p.server, buf, sizeof buf, &n, &ov));
  EXPECT_EQ(GetLastError(), kSentinel);
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(internal(ov), STATUS_SUCCESS);
  EXPECT_EQ(ov.InternalHigh, 5u);
  EXPECT_TRUE(signaled(e.h));
  EXPECT_TRUE(HasOverlappedIoCompleted(&ov));
  DWORD got = 0;
  EXPECT_TRUE(GetOverlappedResult(p.server, &ov, &got, FALSE));
  EXPECT_EQ(got, 5u);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(Win32Overlapped, PartialMessageReadIsTheMoreDataWarningWithTheCountOnlyInTheOverlapped) {
  Pipe p;
  send(p.client, "0123456789");
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char buf[4];
  DWORD n = 99;
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(internal(ov), STATUS_BUFFER_OVERFLOW);
  EXPECT_EQ(ov.InternalHigh, 4u);
  EXPECT_TRUE(signaled(e.h));
  DWORD got = 0;
  EXPECT_FALSE(GetOverlappedResult(p.server, &ov, &got, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(got, 4u);
  // The rest of the message is still there.
  char rest[16];
  OVERLAPPED ov2{};
  ov2.hEvent = e.h;
  ASSERT_TRUE(ReadFile(p.server, rest, sizeof rest, &n, &ov2));
  EXPECT_EQ(std::string(rest, n), "456789");
}

TEST(Win32Overlapped, ReadOfAnEmptyPipeIsPendingUntilDataArrives) {
  Pipe p;
  Event e(true);  // signalled before the call: reset on entry
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  ov.InternalHigh = 1234;
  char buf[16];
  DWORD n = 99;
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(internal(ov), STATUS_PENDING);
  EXPECT_FALSE(HasOverlappedIoCompleted(&ov));
  EXPECT_EQ(ov.InternalHigh, 1234u);  // left alone while pending
  EXPECT_FALSE(signaled(e.h));
  EXPECT_FALSE(signaled(p.server));  // an operation is outstanding on the end
  EXPECT_TRUE(signaled(p.client));

  DWORD got = 55;
  EXPECT_FALSE(GetOverlappedResult(p.server, &ov, &got, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_INCOMPLETE));
  EXPECT_EQ(got, 55u);
  EXPECT_FALSE(GetOverlappedResultEx(p.server, &ov, &got, 0, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_INCOMPLETE));
  EXPECT_FALSE(GetOverlappedResultEx(p.server, &ov, &got, 20, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));

  send(p.client, "later");
  SetLastError(kSentinel);
  ASSERT_TRUE(GetOverlappedResult(p.server, &ov, &got, TRUE));
  EXPECT_EQ(GetLastError(), kSentinel);
  EXPECT_EQ(got, 5u);
  EXPECT_EQ(internal(ov), STATUS_SUCCESS);
  EXPECT_TRUE(signaled(e.h));
  EXPECT_TRUE(signaled(p.server));
  EXPECT_EQ(std::string(buf, 5), "later");
}

TEST(Win32Overlapped, ImmediateFailureLeavesTheEventResetAndInternalPending) {
  Pipe p;
  CloseHandle(p.client);
  p.client = nullptr;
  Event e(true);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char buf[8];
  DWORD n = 7;
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(internal(ov), STATUS_PENDING);
  EXPECT_FALSE(signaled(e.h));
  SetEvent(e.h);
  EXPECT_FALSE(WriteFile(p.server, "x", 1, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  EXPECT_EQ(internal(ov), STATUS_PENDING);
  EXPECT_FALSE(signaled(e.h));
}

TEST(Win32Overlapped, InvalidHandleFailsBeforeTheEventIsTouched) {
  Event e(true);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  ov.Internal = 42;
  char buf[4];
  EXPECT_FALSE(ReadFile(reinterpret_cast<HANDLE>(4000), buf, sizeof buf, nullptr, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
  EXPECT_TRUE(signaled(e.h));
  EXPECT_EQ(internal(ov), 42u);
}

TEST(Win32Overlapped, ConnectWithTheClientAlreadyThereIsPipeConnectedWithoutSignal) {
  Pipe p;  // the client connected before ConnectNamedPipe: a success in disguise
  Event e(true);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  EXPECT_FALSE(ConnectNamedPipe(p.server, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_CONNECTED));
  EXPECT_EQ(internal(ov), STATUS_PENDING);
  EXPECT_FALSE(signaled(e.h));
}

TEST(Win32Overlapped, PendingConnectCompletesWhenAClientOpensWithZeroBytes) {
  std::string name = unique_pipe_name();
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                   kMessage, 1, 512, 512, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  EXPECT_TRUE(signaled(server));  // a fresh server end is signalled
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  EXPECT_FALSE(ConnectNamedPipe(server, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_FALSE(signaled(server));
  // A second pending connect on the same instance completes with the first.
  OVERLAPPED ov2{};
  ov2.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  EXPECT_FALSE(ConnectNamedPipe(server, &ov2));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              FILE_FLAG_OVERLAPPED, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  EXPECT_TRUE(signaled(client));  // a client end is signalled right after CreateFile
  DWORD n = 9;
  ASSERT_TRUE(GetOverlappedResult(server, &ov, &n, TRUE));
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(GetOverlappedResult(server, &ov2, &n, TRUE));
  EXPECT_TRUE(signaled(e.h));
  EXPECT_TRUE(signaled(ov2.hEvent));
  EXPECT_TRUE(signaled(server));
  CloseHandle(ov2.hEvent);
  CloseHandle(client);
  CloseHandle(server);
}

TEST(Win32Overlapped, WithoutAnEventTheHandleItselfIsSignalledOnCompletion) {
  Pipe p;
  OVERLAPPED ov{};  // hEvent NULL
  char buf[8];
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_EQ(WaitForSingleObject(p.server, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  send(p.client, "abc");
  EXPECT_EQ(WaitForSingleObject(p.server, 5000), WAIT_OBJECT_0);
  DWORD n = 0;
  ASSERT_TRUE(GetOverlappedResult(p.server, &ov, &n, TRUE));
  EXPECT_EQ(n, 3u);
}

TEST(Win32Overlapped, WriteBeyondTheQuotaIsPendingUntilThePeerReads) {
  Pipe p(0, 0);  // buffer size 0: a write completes only once it has been read
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  DWORD n = 9;
  EXPECT_FALSE(WriteFile(p.server, "0123456789", 10, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_EQ(n, 0u);
  EXPECT_FALSE(signaled(e.h));
  // The data is visible to the reader at once, before the write completes.
  DWORD avail = 0;
  ASSERT_TRUE(PeekNamedPipe(p.client, nullptr, 0, nullptr, &avail, nullptr));
  EXPECT_EQ(avail, 10u);
  char buf[16];
  OVERLAPPED rov{};
  rov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  DWORD r = 0;
  ASSERT_TRUE(ReadFile(p.client, buf, sizeof buf, &r, &rov));
  EXPECT_EQ(r, 10u);
  ASSERT_TRUE(GetOverlappedResult(p.server, &ov, &n, TRUE));
  EXPECT_EQ(n, 10u);
  EXPECT_TRUE(signaled(e.h));
  CloseHandle(rov.hEvent);
}

TEST(Win32Overlapped, TransactionIsPendingUntilTheReplyAndCountsTheReplyBytes) {
  Pipe p;
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char reply[32];
  DWORD n = 5;
  EXPECT_FALSE(
      TransactNamedPipe(p.client, const_cast<char*>("question"), 8, reply, sizeof reply, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_EQ(n, 0u);
  char req[32];
  DWORD r = 0;
  ASSERT_TRUE(ReadFile(p.server, req, sizeof req, &r, nullptr));
  EXPECT_EQ(std::string(req, r), "question");
  send(p.server, "the answer");
  ASSERT_TRUE(GetOverlappedResult(p.client, &ov, &n, TRUE));
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(std::string(reply, n), "the answer");
  // A reply that does not fit: pending, then the ERROR_MORE_DATA warning with the count.
  EXPECT_FALSE(TransactNamedPipe(p.client, const_cast<char*>("q2"), 2, reply, 4, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  ASSERT_TRUE(ReadFile(p.server, req, sizeof req, &r, nullptr));
  send(p.server, "a long reply");
  EXPECT_FALSE(GetOverlappedResult(p.client, &ov, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(internal(ov), STATUS_BUFFER_OVERFLOW);
}

TEST(Win32Overlapped, TransactionWithUnreadDataFailsNowWithPipeBusy) {
  Pipe p;
  send(p.server, "unread");
  Event e(true);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char reply[8];
  EXPECT_FALSE(
      TransactNamedPipe(p.client, const_cast<char*>("q"), 1, reply, sizeof reply, nullptr, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
  EXPECT_FALSE(signaled(e.h));
  EXPECT_EQ(internal(ov), STATUS_PENDING);
}

TEST(Win32Overlapped, SynchronousHandleGivenAnOverlappedBlocksThenFillsIt) {
  Pipe p(4096, 4096, false);
  send(p.server, "0123456789");
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char buf[4];
  DWORD n = 9;
  EXPECT_FALSE(ReadFile(p.client, buf, sizeof buf, &n, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(internal(ov), STATUS_BUFFER_OVERFLOW);
  EXPECT_EQ(ov.InternalHigh, 4u);
  EXPECT_TRUE(signaled(e.h));
  // ReadFileEx and WriteFileEx on a synchronous handle work synchronously (docs/architecture.md).
  EXPECT_EQ(CreateIoCompletionPort(p.client, nullptr, 1, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(Win32Overlapped, OverlappedHandleWithoutAnOverlappedWaitsLikeASynchronousOne) {
  Pipe p;
  std::thread writer([&] { send(p.client, "late"); });
  char buf[8];
  DWORD n = 0;
  ASSERT_TRUE(ReadFile(p.server, buf, sizeof buf, &n, nullptr));
  EXPECT_EQ(n, 4u);
  writer.join();
}

// ---- what happens to pending operations ---------------------------------------------------------

TEST(Win32Overlapped, PeerCloseFailsAPendingReadWithBrokenPipe) {
  Pipe p;
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char buf[8];
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov));
  CloseHandle(p.client);
  p.client = nullptr;
  DWORD n = 7;
  EXPECT_FALSE(GetOverlappedResult(p.server, &ov, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(internal(ov), STATUS_PIPE_BROKEN);
}

TEST(Win32Overlapped, DisconnectFailsPendingReadsOnBothEndsWithPipeNotConnected) {
  Pipe p;
  Event e1(false), e2(false);
  OVERLAPPED a{}, b{};
  a.hEvent = e1.h;
  b.hEvent = e2.h;
  char x[8], y[8];
  EXPECT_FALSE(ReadFile(p.server, x, sizeof x, nullptr, &a));
  EXPECT_FALSE(ReadFile(p.client, y, sizeof y, nullptr, &b));
  ASSERT_TRUE(DisconnectNamedPipe(p.server));
  DWORD n;
  EXPECT_FALSE(GetOverlappedResult(p.server, &a, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
  EXPECT_FALSE(GetOverlappedResult(p.client, &b, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
  EXPECT_EQ(internal(b), STATUS_PIPE_DISCONNECTED);
}

TEST(Win32Overlapped, ClosingTheLastHandleFailsItsPendingReadWithBrokenPipe) {
  Pipe p;
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char buf[8];
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov));
  HANDLE dup = nullptr;
  ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), p.server, GetCurrentProcess(), &dup, 0, FALSE,
                              DUPLICATE_SAME_ACCESS));
  CloseHandle(p.server);  // one of two handles: no effect
  p.server = nullptr;
  EXPECT_FALSE(signaled(e.h));
  CloseHandle(dup);
  EXPECT_EQ(WaitForSingleObject(e.h, 5000), WAIT_OBJECT_0);
  EXPECT_EQ(internal(ov), STATUS_PIPE_BROKEN);
  EXPECT_EQ(ov.InternalHigh, 0u);
}

TEST(Win32Overlapped, ClosingTheServerWithAConnectPendingFailsItWithBrokenPipe) {
  std::string name = unique_pipe_name();
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                   kMessage, 1, 512, 512, 0, nullptr);
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  EXPECT_FALSE(ConnectNamedPipe(server, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  CloseHandle(server);
  EXPECT_EQ(WaitForSingleObject(e.h, 5000), WAIT_OBJECT_0);
  EXPECT_EQ(internal(ov), STATUS_PIPE_BROKEN);  // docs/architecture.md, "Where Windows is unclear"
}

// ---- cancellation -------------------------------------------------------------------------------

TEST(Win32Cancel, CancelIoExEndsOneOperationWithOperationAbortedAndOnlyOnce) {
  Pipe p;
  Event e1(false), e2(false);
  OVERLAPPED a{}, b{};
  a.hEvent = e1.h;
  b.hEvent = e2.h;
  char x[8], y[8];
  EXPECT_FALSE(ReadFile(p.server, x, sizeof x, nullptr, &a));
  EXPECT_FALSE(ReadFile(p.server, y, sizeof y, nullptr, &b));
  SetLastError(kSentinel);
  ASSERT_TRUE(CancelIoEx(p.server, &a));
  EXPECT_EQ(GetLastError(), kSentinel);
  DWORD n = 5;
  EXPECT_FALSE(GetOverlappedResult(p.server, &a, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(internal(a), STATUS_CANCELLED);
  EXPECT_EQ(a.InternalHigh, 0u);
  EXPECT_TRUE(signaled(e1.h));
  EXPECT_FALSE(signaled(e2.h));
  EXPECT_FALSE(CancelIoEx(p.server, &a));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
  // The other read is still pending and gets the next message.
  send(p.client, "next");
  ASSERT_TRUE(GetOverlappedResult(p.server, &b, &n, TRUE));
  EXPECT_EQ(std::string(y, n), "next");
  EXPECT_FALSE(CancelIoEx(p.server, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
}

TEST(Win32Cancel, CancelIoExWithoutAnOverlappedEndsEveryThreadsOperations) {
  Pipe p;
  Event e1(false), e2(false);
  OVERLAPPED a{}, b{};
  a.hEvent = e1.h;
  b.hEvent = e2.h;
  char x[8], y[8];
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::thread other([&] {
    EXPECT_FALSE(ReadFile(p.server, x, sizeof x, nullptr, &a));
    started = true;
    while (!release) std::this_thread::yield();
  });
  while (!started) std::this_thread::yield();
  EXPECT_FALSE(ReadFile(p.server, y, sizeof y, nullptr, &b));
  ASSERT_TRUE(CancelIoEx(p.server, nullptr));
  DWORD n;
  EXPECT_FALSE(GetOverlappedResult(p.server, &a, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_FALSE(GetOverlappedResult(p.server, &b, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  release = true;
  other.join();
}

TEST(Win32Cancel, CancelIoEndsOnlyTheCallingThreadsOperations) {
  Pipe p;
  Event e1(false), e2(false);
  OVERLAPPED mine{}, theirs{};
  mine.hEvent = e1.h;
  theirs.hEvent = e2.h;
  char x[8], y[8];
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::thread other([&] {
    EXPECT_FALSE(ReadFile(p.server, x, sizeof x, nullptr, &theirs));
    started = true;
    while (!release) std::this_thread::yield();
  });
  while (!started) std::this_thread::yield();
  EXPECT_FALSE(ReadFile(p.server, y, sizeof y, nullptr, &mine));
  SetLastError(kSentinel);
  ASSERT_TRUE(CancelIo(p.server));
  EXPECT_EQ(GetLastError(), kSentinel);
  DWORD n;
  EXPECT_FALSE(GetOverlappedResult(p.server, &mine, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_FALSE(signaled(e2.h));
  EXPECT_TRUE(CancelIo(p.server));  // nothing of ours left: still TRUE
  send(p.client, "theirs");
  ASSERT_TRUE(GetOverlappedResult(p.server, &theirs, &n, TRUE));
  EXPECT_EQ(std::string(x, n), "theirs");
  release = true;
  other.join();
}

TEST(Win32Cancel, ThreadExitCancelsItsPendingOperations) {
  Pipe p;
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  char buf[8];
  std::thread([&] { EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov)); }).join();
  EXPECT_EQ(WaitForSingleObject(e.h, 5000), WAIT_OBJECT_0);
  DWORD n;
  EXPECT_FALSE(GetOverlappedResult(p.server, &ov, &n, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
}

TEST(Win32Cancel, CancelledConnectLeavesTheInstanceListening) {
  std::string name = unique_pipe_name();
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                   kMessage, 1, 512, 512, 0, nullptr);
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  EXPECT_FALSE(ConnectNamedPipe(server, &ov));
  ASSERT_TRUE(CancelIoEx(server, &ov));
  DWORD n;
  EXPECT_FALSE(GetOverlappedResult(server, &ov, &n, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              0, nullptr);
  EXPECT_NE(client, INVALID_HANDLE_VALUE);
  EXPECT_FALSE(ConnectNamedPipe(server, &ov));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_CONNECTED));
  CloseHandle(client);
  CloseHandle(server);
}

TEST(Win32Cancel, CancelSynchronousIoReportsNothingToCancel) {
  SetLastError(kSentinel);
  EXPECT_FALSE(CancelSynchronousIo(GetCurrentThread()));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
  EXPECT_FALSE(CancelSynchronousIo(reinterpret_cast<HANDLE>(4000)));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

namespace cancel_sync {
DWORD WINAPI connect_and_report(LPVOID param) {
  auto* server = static_cast<HANDLE*>(param);
  BOOL ok = ConnectNamedPipe(*server, nullptr);
  return ok ? 0 : GetLastError();
}
}  // namespace cancel_sync

TEST(Win32Cancel, CancelSynchronousIoAbortsAThreadBlockedInConnect) {
  std::string name = R"(\\.\pipe\cancel-sync-connect)";
  HANDLE server =
      CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 512, 512, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  DWORD tid = 0;
  HANDLE thread = CreateThread(nullptr, 0, cancel_sync::connect_and_report, &server, 0, &tid);
  ASSERT_NE(thread, nullptr);
  std::atomic<int> blocked{static_cast<int>(tid)};
  ASSERT_TRUE(sluice::testing::wait_until_sleeping(blocked, std::chrono::seconds(5)));
  SetLastError(kSentinel);
  EXPECT_TRUE(CancelSynchronousIo(thread));
  EXPECT_EQ(GetLastError(), kSentinel);  // success leaves the last error alone
  ASSERT_EQ(WaitForSingleObject(thread, 5000), WAIT_OBJECT_0);
  DWORD code = 0;
  ASSERT_TRUE(GetExitCodeThread(thread, &code));
  EXPECT_EQ(code, static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_FALSE(CancelSynchronousIo(thread));  // nothing left to cancel
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
  CloseHandle(thread);
  CloseHandle(server);
}

// ---- many operations and races
// -------------------------------------------------------------------

TEST(Win32Overlapped, ThousandsOfPendingReadsCompleteInOrder) {
  constexpr int kCount = 2000;
  Pipe p(65536, 65536);
  std::vector<OVERLAPPED> ovs(kCount);
  std::vector<std::array<char, 8>> bufs(kCount);
  HANDLE port = CreateIoCompletionPort(p.server, nullptr, 7, 0);
  ASSERT_NE(port, nullptr);
  for (int i = 0; i < kCount; ++i) {
    ovs[i] = OVERLAPPED{};
    ASSERT_FALSE(ReadFile(p.server, bufs[i].data(), 8, nullptr, &ovs[i]));
    ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  }
  std::thread writer([&] {
    for (int i = 0; i < kCount; ++i) send(p.client, std::to_string(i));
  });
  for (int i = 0; i < kCount; ++i) {
    DWORD n = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED ov = nullptr;
    ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &ov, 10000)) << GetLastError();
    ASSERT_EQ(ov, &ovs[i]);  // completion order is issue order (FIFO reads)
    EXPECT_EQ(key, 7u);
    EXPECT_EQ(std::string(bufs[i].data(), n), std::to_string(i));
  }
  writer.join();
  CloseHandle(port);
}

TEST(Win32Overlapped, CompletionRacingCancellationCompletesEachOperationExactlyOnce) {
  Pipe p;
  HANDLE port = CreateIoCompletionPort(p.server, nullptr, 1, 0);
  ASSERT_NE(port, nullptr);
  int completed = 0, aborted = 0;
  for (int i = 0; i < 300; ++i) {
    OVERLAPPED ov{};
    char buf[8];
    ASSERT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov));
    std::thread writer([&] { send(p.client, "m"); });
    (void)CancelIoEx(p.server, &ov);
    writer.join();
    DWORD n = 0;
    ULONG_PTR key;
    LPOVERLAPPED got = nullptr;
    BOOL ok = GetQueuedCompletionStatus(port, &n, &key, &got, 10000);
    ASSERT_EQ(got, &ov);
    if (ok) {
      ++completed;
      EXPECT_EQ(n, 1u);
    } else {
      ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
      ++aborted;
      // The message stays for the next read.
      ASSERT_TRUE(ReadFile(p.server, buf, sizeof buf, &n, &ov));
      LPOVERLAPPED again = nullptr;
      ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &again, 10000));
    }
    // Exactly one packet per operation.
    LPOVERLAPPED extra = nullptr;
    EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &extra, 0));
    EXPECT_EQ(extra, nullptr);
  }
  EXPECT_EQ(completed + aborted, 300);
  CloseHandle(port);
}

TEST(Win32Overlapped, CompletionRacingCloseSignalsTheEventExactlyOnceWithOneOutcome) {
  for (int i = 0; i < 100; ++i) {
    Pipe p;
    Event e(false);
    OVERLAPPED ov{};
    ov.hEvent = e.h;
    char buf[8];
    ASSERT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov));
    std::thread writer([&] {
      DWORD n;
      (void)WriteFile(p.client, "m", 1, &n, nullptr);
    });
    CloseHandle(p.server);
    p.server = nullptr;
    writer.join();
    ASSERT_EQ(WaitForSingleObject(e.h, 5000), WAIT_OBJECT_0);
    DWORD status = internal(ov);
    EXPECT_TRUE(status == STATUS_SUCCESS || status == STATUS_PIPE_BROKEN) << std::hex << status;
  }
}

// ---- multi-process -----------------------------------------------------------------------------

SLUICE_TEST_HELPER(overlapped_client_sends) {
  HANDLE h = CreateFileA(args.at(0).c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                         OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  if (h == INVALID_HANDLE_VALUE) return 10;
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!SetNamedPipeHandleState(h, &mode, nullptr, nullptr)) return 11;
  for (int i = 0; i < 50; ++i) {
    std::string m = "request " + std::to_string(i);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
    DWORD n = 0;
    char reply[64];
    if (!TransactNamedPipe(h, m.data(), static_cast<DWORD>(m.size()), reply, sizeof reply, &n,
                           &ov) &&
        GetLastError() != ERROR_IO_PENDING) {
      return 12;
    }
    if (!GetOverlappedResult(h, &ov, &n, TRUE)) return 13;
    if (std::string(reply, n) != "reply to " + m) return 14;
    CloseHandle(ov.hEvent);
  }
  CloseHandle(h);
  return 0;
}

TEST(Win32Overlapped, ServerInOneProcessServesAnOverlappedClientInAnother) {
  std::string name = unique_pipe_name();
  HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                   kMessage, 1, 4096, 4096, 0, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE);
  Event e(false);
  OVERLAPPED ov{};
  ov.hEvent = e.h;
  EXPECT_FALSE(ConnectNamedPipe(server, &ov));
  ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  auto child = sluice::testing::spawn_helper("overlapped_client_sends", {name});
  ASSERT_TRUE(child);
  sluice::testing::KillOnExit guard(*child);
  DWORD n;
  ASSERT_TRUE(GetOverlappedResult(server, &ov, &n, TRUE));
  for (;;) {
    char buf[64];
    BOOL ok = ReadFile(server, buf, sizeof buf, nullptr, &ov);
    if (!ok && GetLastError() == ERROR_IO_PENDING)
      ok = GetOverlappedResult(server, &ov, &n, TRUE);
    else
      n = static_cast<DWORD>(ov.InternalHigh);
    if (!ok) {
      EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
      break;
    }
    std::string reply = "reply to " + std::string(buf, n);
    ok = WriteFile(server, reply.data(), static_cast<DWORD>(reply.size()), nullptr, &ov);
    if (!ok && GetLastError() == ERROR_IO_PENDING) ok = GetOverlappedResult(server, &ov, &n, TRUE);
    ASSERT_TRUE(ok);
  }
  EXPECT_EQ(child->wait(std::chrono::seconds(30)).value(), 0);
  CloseHandle(server);
}

}  // namespace
