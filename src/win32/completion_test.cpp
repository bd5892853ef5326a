// Completion routines and APCs (io-models.md §4) and completion ports (§5): who runs what,
// where, and what each port call returns.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "thread_state.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

constexpr DWORD kMessage = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT;

DWORD internal(const OVERLAPPED& ov) {
  return static_cast<DWORD>(__atomic_load_n(&ov.Internal, __ATOMIC_ACQUIRE));
}
bool signaled(HANDLE h) { return WaitForSingleObject(h, 0) == WAIT_OBJECT_0; }

struct Pipe {
  Pipe() {
    name = unique_pipe_name();
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, kMessage, 1,
                              4096, 4096, 0, nullptr);
    EXPECT_NE(server, INVALID_HANDLE_VALUE);
    client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                         FILE_FLAG_OVERLAPPED, nullptr);
    EXPECT_NE(client, INVALID_HANDLE_VALUE);
    DWORD m = PIPE_READMODE_MESSAGE;
    EXPECT_TRUE(SetNamedPipeHandleState(client, &m, nullptr, nullptr));
  }
  ~Pipe() {
    if (server) CloseHandle(server);
    if (client) CloseHandle(client);
  }
  std::string name;
  HANDLE server = nullptr;
  HANDLE client = nullptr;
};

void send(HANDLE h, const std::string& s) {
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(h, s.data(), static_cast<DWORD>(s.size()), &n, nullptr));
}

// What the completion routine saw (routines are plain functions: state is global per thread).
struct Seen {
  int calls = 0;
  DWORD error = 0xFFFF;
  DWORD bytes = 0xFFFF;
  LPOVERLAPPED ov = nullptr;
  DWORD tid = 0;
};
thread_local Seen t_seen;
std::atomic<int> g_routine_calls{0};

VOID WINAPI routine(DWORD error, DWORD bytes, LPOVERLAPPED ov) {
  ++t_seen.calls;
  ++g_routine_calls;
  t_seen.error = error;
  t_seen.bytes = bytes;
  t_seen.ov = ov;
  t_seen.tid = GetCurrentThreadId();
}

// ---- completion routines ------------------------------------------------------------------------

TEST(Win32CompletionRoutine, ImmediateReadQueuesTheRoutineForTheNextAlertableWait) {
  Pipe p;
  t_seen = {};
  send(p.client, "hello");
  OVERLAPPED ov{};
  char buf[16];
  SetLastError(kSentinel);
  ASSERT_TRUE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SUCCESS));
  EXPECT_EQ(t_seen.calls, 0);  // never inside the call
  EXPECT_EQ(SleepEx(0, FALSE), 0u);
  EXPECT_EQ(t_seen.calls, 0);  // not in a non-alertable wait
  EXPECT_EQ(SleepEx(INFINITE, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(t_seen.calls, 1);
  EXPECT_EQ(t_seen.error, 0u);
  EXPECT_EQ(t_seen.bytes, 5u);
  EXPECT_EQ(t_seen.ov, &ov);
  EXPECT_EQ(SleepEx(0, TRUE), 0u);  // nothing left
}

TEST(Win32CompletionRoutine, PartialMessageGivesTheRoutineErrorZero) {
  Pipe p;
  t_seen = {};
  send(p.client, "0123456789");
  OVERLAPPED ov{};
  char buf[4];
  ASSERT_TRUE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(SleepEx(0, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(t_seen.error, 0u);  // fact 19
  EXPECT_EQ(t_seen.bytes, 4u);
  DWORD n = 0;
  EXPECT_FALSE(GetOverlappedResult(p.server, &ov, &n, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 4u);
}

TEST(Win32CompletionRoutine, PendingReadRunsItsRoutineOnlyOnTheIssuingThreadInAnAlertableWait) {
  Pipe p;
  t_seen = {};
  OVERLAPPED ov{};
  char buf[32];
  ASSERT_TRUE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  std::thread([&] { send(p.client, "from another thread"); }).join();
  DWORD n = 0;
  // A non-alertable wait sees the operation complete but runs no routine.
  ASSERT_TRUE(GetOverlappedResultEx(p.server, &ov, &n, INFINITE, FALSE)) << GetLastError();
  EXPECT_EQ(t_seen.calls, 0);
  HANDLE e = CreateEventA(nullptr, TRUE, TRUE, nullptr);
  // Queued routines run first, even though the event is signalled.
  EXPECT_EQ(WaitForSingleObjectEx(e, 0, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(t_seen.calls, 1);
  EXPECT_EQ(t_seen.tid, GetCurrentThreadId());
  EXPECT_EQ(t_seen.bytes, 19u);
  EXPECT_EQ(WaitForSingleObjectEx(e, 0, TRUE), WAIT_OBJECT_0);
  CloseHandle(e);
}

TEST(Win32CompletionRoutine, ImmediateFailuresReturnFalseAndNeverRunARoutine) {
  Pipe p;
  t_seen = {};
  CloseHandle(p.client);
  p.client = nullptr;
  OVERLAPPED ov{};
  char buf[8];
  EXPECT_FALSE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_FALSE(WriteFileEx(p.server, "x", 1, &ov, routine));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
  EXPECT_EQ(SleepEx(0, TRUE), 0u);
  EXPECT_EQ(t_seen.calls, 0);
}

TEST(Win32CompletionRoutine, CancelledAndBrokenOperationsReportTheirErrorWithZeroBytes) {
  Pipe p;
  t_seen = {};
  OVERLAPPED ov{};
  char buf[8];
  ASSERT_TRUE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  ASSERT_TRUE(CancelIoEx(p.server, &ov));
  EXPECT_EQ(SleepEx(INFINITE, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(t_seen.error, static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_EQ(t_seen.bytes, 0u);
  ASSERT_TRUE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  CloseHandle(p.client);
  p.client = nullptr;
  EXPECT_EQ(SleepEx(INFINITE, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(t_seen.error, static_cast<DWORD>(ERROR_BROKEN_PIPE));
}

TEST(Win32CompletionRoutine, WriteFileExCompletesThroughItsRoutine) {
  Pipe p;
  t_seen = {};
  OVERLAPPED ov{};
  ASSERT_TRUE(WriteFileEx(p.server, "abc", 3, &ov, routine));
  EXPECT_EQ(SleepEx(INFINITE, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(t_seen.error, 0u);
  EXPECT_EQ(t_seen.bytes, 3u);
}

TEST(Win32CompletionRoutine, HandlesAssociatedWithAPortRefuseReadFileEx) {
  Pipe p;
  HANDLE port = CreateIoCompletionPort(p.server, nullptr, 1, 0);
  ASSERT_NE(port, nullptr);
  OVERLAPPED ov{};
  char buf[8];
  EXPECT_FALSE(ReadFileEx(p.server, buf, sizeof buf, &ov, routine));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  CloseHandle(port);
}

// ---- APCs ----------------------------------------------------------------------------------------

std::atomic<int> g_apc_calls{0};
VOID NTAPI count_apc(ULONG_PTR add) { g_apc_calls += static_cast<int>(add); }

TEST(Win32Apc, UserApcsRunOnlyInAlertableWaitsOfTheTargetThread) {
  g_apc_calls = 0;
  ASSERT_NE(QueueUserAPC(count_apc, GetCurrentThread(), 2), 0u);
  HANDLE e = CreateEventA(nullptr, TRUE, TRUE, nullptr);
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForMultipleObjectsEx(1, &e, FALSE, 0, FALSE), WAIT_OBJECT_0);
  EXPECT_EQ(g_apc_calls, 0);
  EXPECT_EQ(WaitForMultipleObjectsEx(1, &e, FALSE, 0, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(g_apc_calls, 2);
  CloseHandle(e);
}

DWORD WINAPI alertable_sleeper(LPVOID tid) {
  static_cast<std::atomic<int>*>(tid)->store(sluice::testing::current_thread_id());
  return SleepEx(INFINITE, TRUE);
}

TEST(Win32Apc, AnApcQueuedToASleepingThreadWakesItWithWaitIoCompletion) {
  g_apc_calls = 0;
  std::atomic<int> tid{0};
  HANDLE t = CreateThread(nullptr, 0, alertable_sleeper, &tid, 0, nullptr);
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(sluice::testing::wait_until_sleeping(tid, std::chrono::seconds(10)));
  ASSERT_NE(QueueUserAPC(count_apc, t, 1), 0u);
  ASSERT_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
  DWORD code = 0;
  ASSERT_TRUE(GetExitCodeThread(t, &code));
  EXPECT_EQ(code, static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(g_apc_calls, 1);
  // The thread has exited: its queue takes no more APCs.
  EXPECT_EQ(QueueUserAPC(count_apc, t, 1), 0u);
  CloseHandle(t);
}

TEST(Win32Apc, AlertableGetOverlappedResultExReturnsWaitIoCompletion) {
  Pipe p;
  OVERLAPPED ov{};
  ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  char buf[8];
  ASSERT_FALSE(ReadFile(p.server, buf, sizeof buf, nullptr, &ov));
  ASSERT_NE(QueueUserAPC(count_apc, GetCurrentThread(), 1), 0u);
  DWORD n = 0;
  EXPECT_FALSE(GetOverlappedResultEx(p.server, &ov, &n, INFINITE, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(internal(ov), STATUS_PENDING);
  CancelIoEx(p.server, &ov);
  EXPECT_FALSE(GetOverlappedResult(p.server, &ov, &n, TRUE));
  CloseHandle(ov.hEvent);
}

// ---- completion ports ----------------------------------------------------------------------------

TEST(Win32Port, CreateIoCompletionPortFollowsTheAssociationTable) {
  Pipe p;
  SetLastError(kSentinel);
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(CreateIoCompletionPort(INVALID_HANDLE_VALUE, port, 0, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(CreateIoCompletionPort(p.server, port, 5, 0), port);
  EXPECT_EQ(CreateIoCompletionPort(p.server, port, 6, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(CreateIoCompletionPort(p.server, nullptr, 6, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  HANDLE own = CreateIoCompletionPort(p.client, nullptr, 9, 0);  // new port, associated
  ASSERT_NE(own, nullptr);
  std::string sync_name = unique_pipe_name("sync");
  HANDLE sync = CreateNamedPipeA(sync_name.c_str(), PIPE_ACCESS_DUPLEX, kMessage, 1, 64, 64, 0,
                                 nullptr);
  EXPECT_EQ(CreateIoCompletionPort(sync, port, 1, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  CloseHandle(sync);
  // A duplicate shares the end's association.
  HANDLE dup = nullptr;
  ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), p.server, GetCurrentProcess(), &dup, 0, FALSE,
                              DUPLICATE_SAME_ACCESS));
  EXPECT_EQ(CreateIoCompletionPort(dup, port, 1, 0), nullptr);
  OVERLAPPED ov{};
  EXPECT_TRUE(WriteFile(dup, "x", 1, nullptr, &ov));
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED got;
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(key, 5u);
  EXPECT_EQ(got, &ov);
  CloseHandle(dup);
  CloseHandle(own);
  CloseHandle(port);
}

TEST(Win32Port, PacketsFollowTheOutcomeTable) {
  Pipe p;
  HANDLE port = CreateIoCompletionPort(p.server, nullptr, 42, 0);
  ASSERT_NE(port, nullptr);
  DWORD n = 0;
  ULONG_PTR key = 0;
  LPOVERLAPPED got = nullptr;
  // Immediate success: TRUE and a packet.
  OVERLAPPED w{};
  SetLastError(kSentinel);
  ASSERT_TRUE(WriteFile(p.server, "abc", 3, &n, &w));
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), kSentinel);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(key, 42u);
  EXPECT_EQ(got, &w);
  // Low bit in hEvent: the event is signalled, no packet.
  HANDLE e = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  w.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(e) | 1);
  ASSERT_TRUE(WriteFile(p.server, "d", 1, &n, &w));
  EXPECT_TRUE(signaled(e));
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_EQ(got, nullptr);
  w.hEvent = nullptr;
  // A partial message on a port handle is reported pending, then by a packet (Windows 8+).
  send(p.client, "0123456789");
  OVERLAPPED r{};
  char buf[4];
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &r));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_EQ(internal(r), STATUS_BUFFER_OVERFLOW);
  EXPECT_EQ(r.InternalHigh, 4u);
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(got, &r);
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &r));  // "4567": more data again
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  ASSERT_TRUE(ReadFile(p.server, buf, sizeof buf, &n, &r));  // "89"
  EXPECT_EQ(n, 2u);
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  // Pending, then cancelled: a failure packet with the OVERLAPPED and 0 bytes.
  ASSERT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &r));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  ASSERT_TRUE(CancelIoEx(p.server, &r));
  n = 99;
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(got, &r);
  EXPECT_EQ(key, 42u);
  // Failed now: no packet.
  CloseHandle(p.client);
  p.client = nullptr;
  EXPECT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &r));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(e);
  CloseHandle(port);
}

TEST(Win32Port, SkipModesSuppressThePacketOnSuccessAndTheHandleSignal) {
  Pipe p;
  HANDLE port = CreateIoCompletionPort(p.server, nullptr, 1, 0);
  ASSERT_TRUE(SetFileCompletionNotificationModes(
      p.server, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE));
  EXPECT_FALSE(SetFileCompletionNotificationModes(p.server, 0x80));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  OVERLAPPED w{};
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED got;
  ASSERT_TRUE(WriteFile(p.server, "abc", 3, &n, &w));
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_FALSE(signaled(p.server));  // not signalled on completion any more
  // A pending operation still posts its packet.
  char buf[8];
  ASSERT_FALSE(ReadFile(p.server, buf, sizeof buf, &n, &w));
  send(p.client, "x");
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &got, 10000));
  EXPECT_EQ(n, 1u);
  CloseHandle(port);
}

TEST(Win32Port, PostedPacketsComeBackVerbatimInOrder) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  auto* fake = reinterpret_cast<LPOVERLAPPED>(0x1234);  // never dereferenced
  ASSERT_TRUE(PostQueuedCompletionStatus(port, 7, 70, fake));
  ASSERT_TRUE(PostQueuedCompletionStatus(port, 8, 80, nullptr));
  ASSERT_TRUE(PostQueuedCompletionStatus(port, 9, 90, fake));
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED got;
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &n, &key, &got, 0));
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(key, 70u);
  EXPECT_EQ(got, fake);
  OVERLAPPED_ENTRY entries[4];
  ULONG removed = 0;
  ASSERT_TRUE(GetQueuedCompletionStatusEx(port, entries, 4, &removed, 0, FALSE));
  ASSERT_EQ(removed, 2u);
  EXPECT_EQ(entries[0].lpCompletionKey, 80u);
  EXPECT_EQ(entries[0].lpOverlapped, nullptr);
  EXPECT_EQ(entries[1].dwNumberOfBytesTransferred, 9u);
  EXPECT_EQ(entries[1].Internal, STATUS_SUCCESS);
  EXPECT_FALSE(GetQueuedCompletionStatusEx(port, entries, 4, &removed, 0, FALSE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_EQ(removed, 0u);
  ASSERT_NE(QueueUserAPC(count_apc, GetCurrentThread(), 1), 0u);
  EXPECT_FALSE(GetQueuedCompletionStatusEx(port, entries, 4, &removed, INFINITE, TRUE));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_FALSE(GetQueuedCompletionStatus(port, &n, &key, &got, 10));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  CloseHandle(port);
}

TEST(Win32Port, ClosingThePortEndsAWaitWithAbandonedWait) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  std::atomic<int> tid{0};
  DWORD error = 0;
  LPOVERLAPPED got = reinterpret_cast<LPOVERLAPPED>(1);
  BOOL ok = TRUE;
  std::thread waiter([&] {
    DWORD n;
    ULONG_PTR key;
    tid = sluice::testing::current_thread_id();
    ok = GetQueuedCompletionStatus(port, &n, &key, &got, INFINITE);
    error = GetLastError();
  });
  ASSERT_TRUE(sluice::testing::wait_until_sleeping(tid, std::chrono::seconds(10)));
  CloseHandle(port);
  waiter.join();
  EXPECT_FALSE(ok);
  EXPECT_EQ(error, static_cast<DWORD>(ERROR_ABANDONED_WAIT_0));
  EXPECT_EQ(got, nullptr);
}

TEST(Win32Port, SeveralThreadsShareThePacketsEachExactlyOnce) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 2);
  constexpr int kPackets = 4000;
  std::atomic<int> total{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (;;) {
        DWORD n;
        ULONG_PTR key;
        LPOVERLAPPED got;
        if (!GetQueuedCompletionStatus(port, &n, &key, &got, INFINITE)) return;
        if (key == 0) return;  // the stop packet
        total += static_cast<int>(n);
      }
    });
  }
  for (int i = 0; i < kPackets; ++i) ASSERT_TRUE(PostQueuedCompletionStatus(port, 1, 1, nullptr));
  for (int t = 0; t < 4; ++t) ASSERT_TRUE(PostQueuedCompletionStatus(port, 0, 0, nullptr));
  for (auto& w : workers) w.join();
  EXPECT_EQ(total, kPackets);
  CloseHandle(port);
}

}  // namespace
