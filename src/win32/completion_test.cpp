// Completion routines and APCs and completion ports: who runs what, where, and what each port call
// returns.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
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
  EXPECT_EQ(t_seen.error, 0u);  // a partial message is a success for the routine
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

// ---- APCs
// ----------------------------------------------------------------------------------------

std::atomic<int> g_apc_calls{0};
VOID NTAPI count_apc(ULONG_PTR add) { g_apc_calls += static_cast<int>(add); }

TEST(Win32Apc, UserApcsRunOnlyInAlertableWaitsOfTheTargetThread) {
  g_apc_calls = 0;
  ASSERT_NE(QueueUserAPC(count_apc, GetCurrentThread(), 2), 0u);
  HANDLE e = CreateEventA(nullptr, TRUE, TRUE, nullptr);
  EXPECT_EQ(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
  EXPECT_EQ(WaitForMultipleObjectsEx(1, &e, FALSE, 0, FALSE), WAIT_OBJECT_0);
  EXPECT_EQ(g_apc_calls, 0);
  EXPECT_EQ(WaitForMultipleObjectsEx(1, &e, FALSE, 0, TRUE),
            static_cast<DWORD>(WAIT_IO_COMPLETION));
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

// ---- completion ports
// ----------------------------------------------------------------------------

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
  HANDLE sync =
      CreateNamedPipeA(sync_name.c_str(), PIPE_ACCESS_DUPLEX, kMessage, 1, 64, 64, 0, nullptr);
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

// ---- completion ports: concurrency limit and LIFO release ---------------------------------------

// A thread that waits in GetQueuedCompletionStatus (10 s at most) on a port and, once it has a
// packet, holds it (so it counts as running for the port) until the test lets it go back to the
// port for the next one or lets its thread end.
class PortWorker {
 public:
  explicit PortWorker(HANDLE port) : thread_([this, port] { run(port); }) {}
  ~PortWorker() {
    finish();
    thread_.join();
  }
  /// Back to the port for another packet.
  void again() {
    std::lock_guard lock(mu_);
    ++permits_;
    cv_.notify_all();
  }
  /// The thread ends (after its current packet, or when its wait ends).
  void finish() {
    std::lock_guard lock(mu_);
    exit_ = true;
    cv_.notify_all();
  }
  /// Waits (bounded) until the thread is asleep in GetQueuedCompletionStatus.
  bool wait_until_waiting() {
    return sluice::testing::wait_until_sleeping(waiting_tid_, std::chrono::seconds(10));
  }
  /// Waits (bounded) until it has taken `n` packets in all.
  bool wait_taken(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return keys_.size() >= n; });
  }
  std::size_t taken() {
    std::lock_guard lock(mu_);
    return keys_.size();
  }
  std::vector<ULONG_PTR> keys() {
    std::lock_guard lock(mu_);
    return keys_;
  }

 private:
  void run(HANDLE port) {
    int used = 0;
    for (;;) {
      DWORD n = 0;
      ULONG_PTR key = 0;
      LPOVERLAPPED ov = nullptr;
      waiting_tid_ = sluice::testing::current_thread_id();
      BOOL ok = GetQueuedCompletionStatus(port, &n, &key, &ov, 10000);
      waiting_tid_ = 0;
      std::unique_lock lock(mu_);
      if (!ok) return;  // time-out or the port closed: the test sees the missing packet
      keys_.push_back(key);
      cv_.notify_all();
      cv_.wait(lock, [&] { return permits_ > used || exit_; });
      if (permits_ == used) return;
      ++used;
    }
  }

  std::atomic<int> waiting_tid_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ULONG_PTR> keys_;  // guarded by mu_
  int permits_ = 0;              // guarded by mu_
  bool exit_ = false;            // guarded by mu_
  std::thread thread_;           // last: starts after the members above exist
};

// A port and the workers that wait on it; the port closes first, which ends every wait.
struct WorkedPort {
  explicit WorkedPort(DWORD concurrency)
      : port(CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, concurrency)) {
    EXPECT_NE(port, nullptr);
  }
  ~WorkedPort() {
    for (auto& w : workers) w->finish();
    CloseHandle(port);
    workers.clear();
  }
  // Starts a worker; `wait`: returns once it waits in the port (so waiters start in call order).
  PortWorker& start(bool wait = true) {
    workers.push_back(std::make_unique<PortWorker>(port));
    if (wait) {
      EXPECT_TRUE(workers.back()->wait_until_waiting());
    }
    return *workers.back();
  }
  std::size_t taken() {
    std::size_t n = 0;
    for (auto& w : workers) n += w->taken();
    return n;
  }
  HANDLE port;
  std::vector<std::unique_ptr<PortWorker>> workers;
};

// Long enough for a wrongly released thread to take a packet; short, as it only fails tests.
constexpr auto kChanceToGoWrong = std::chrono::milliseconds(100);

TEST(Win32PortConcurrency, ALimitOfOneKeepsASecondWaiterAsleepUntilTheFirstThreadEnds) {
  WorkedPort p(1);
  PortWorker& a = p.start();
  PortWorker& b = p.start();
  ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, 1, nullptr));
  ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, 2, nullptr));
  ASSERT_TRUE(b.wait_taken(1));  // the later waiter first (LIFO)
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(a.taken(), 0u);  // one thread runs for the port already
  // The running thread ends without coming back: its place goes to the waiter.
  b.finish();
  ASSERT_TRUE(a.wait_taken(1));
  EXPECT_EQ(a.keys(), std::vector<ULONG_PTR>{2});
  EXPECT_EQ(b.keys(), std::vector<ULONG_PTR>{1});
}

TEST(Win32PortConcurrency, AThreadBackFromItsPacketTakesTheNextOneBeforeAnOlderWaiter) {
  WorkedPort p(1);
  PortWorker& a = p.start();
  PortWorker& b = p.start();
  ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, 1, nullptr));
  ASSERT_TRUE(b.wait_taken(1));
  ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, 2, nullptr));
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(a.taken(), 0u);
  b.again();  // back in GetQueuedCompletionStatus: no longer running, and on top of the waiters
  ASSERT_TRUE(b.wait_taken(2));
  EXPECT_EQ(b.keys(), (std::vector<ULONG_PTR>{1, 2}));
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(a.taken(), 0u);
}

TEST(Win32PortConcurrency, WaitingThreadsAreReleasedLastInFirstOut) {
  constexpr int kWorkers = 4;
  WorkedPort p(kWorkers);  // the limit never holds anyone back here
  std::vector<PortWorker*> w;
  for (int i = 0; i < kWorkers; ++i) w.push_back(&p.start());
  // One packet at a time; each taker keeps its packet, so it leaves the waiters for good.
  for (int i = kWorkers - 1; i >= 0; --i) {
    ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, static_cast<ULONG_PTR>(i), nullptr));
    ASSERT_TRUE(w[static_cast<std::size_t>(i)]->wait_taken(1)) << "worker " << i;
    EXPECT_EQ(p.taken(), static_cast<std::size_t>(kWorkers - i)) << "worker " << i;
  }
}

TEST(Win32PortConcurrency, ZeroMeansOneRunningThreadPerProcessor) {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  WorkedPort p(0);
  for (unsigned i = 0; i <= cpus; ++i) p.start();
  for (unsigned i = 0; i <= cpus; ++i) {
    ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, i + 1, nullptr));
  }
  for (unsigned i = 1; i <= cpus; ++i) ASSERT_TRUE(p.workers[i]->wait_taken(1)) << i;
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(p.taken(), cpus);
  EXPECT_EQ(p.workers[0]->taken(), 0u);  // the first waiter is the last released
  p.workers[1]->finish();
  ASSERT_TRUE(p.workers[0]->wait_taken(1));
}

// This thread takes packet 1 of `p` (concurrency 1) and so runs for it; a worker then waits
// for packet 2, which is posted.
PortWorker& run_for_the_port_with_a_waiter(WorkedPort& p) {
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED got;
  EXPECT_TRUE(PostQueuedCompletionStatus(p.port, 0, 1, nullptr));
  EXPECT_TRUE(GetQueuedCompletionStatus(p.port, &n, &key, &got, 0));
  PortWorker& w = p.start();
  EXPECT_TRUE(PostQueuedCompletionStatus(p.port, 0, 2, nullptr));
  return w;
}

TEST(Win32PortConcurrency, WaitingOnAnotherPortFreesTheThreadsPlaceOnTheFirst) {
  WorkedPort p(1);
  HANDLE other = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_NE(other, nullptr);
  PortWorker& w = run_for_the_port_with_a_waiter(p);
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(w.taken(), 0u);
  // A wait on another port (a time-out here) ends this thread's run for the first.
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED got;
  EXPECT_FALSE(GetQueuedCompletionStatus(other, &n, &key, &got, 0));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  ASSERT_TRUE(w.wait_taken(1));
  EXPECT_EQ(w.keys(), std::vector<ULONG_PTR>{2});
  CloseHandle(other);
}

// Windows counts a thread out while it blocks in a wait, and in again when the wait ends.
TEST(Win32PortConcurrency, AThreadBlockedInAWaitLeavesItsPlaceToAWaiterAndTakesItBackAfter) {
  WorkedPort p(1);
  PortWorker& w = run_for_the_port_with_a_waiter(p);
  std::this_thread::sleep_for(kChanceToGoWrong);  // not a wait of the layer: still running
  EXPECT_EQ(w.taken(), 0u);
  // Blocked in WaitForSingleObject, this thread no longer counts: the worker takes packet 2
  // and then sets the event this thread waits for.
  HANDLE taken = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(taken, nullptr);
  auto signal = std::async(std::launch::async, [&] {
    if (w.wait_taken(1)) SetEvent(taken);
  });
  EXPECT_EQ(WaitForSingleObject(taken, 5000), WAIT_OBJECT_0);
  signal.get();
  EXPECT_EQ(w.keys(), std::vector<ULONG_PTR>{2});
  // Back from the wait, this thread counts again: the worker, back at the port, waits.
  ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, 3, nullptr));
  w.again();
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(w.taken(), 1u);
  // Sleep is a wait too.
  for (int i = 0; i < 100 && w.taken() < 2; ++i) Sleep(50);
  EXPECT_EQ(w.keys(), (std::vector<ULONG_PTR>{2, 3}));
  CloseHandle(taken);
}

// A time-out of 0 looks and does not wait: the thread keeps its place.
TEST(Win32PortConcurrency, PollingWithATimeOutOfZeroKeepsTheThreadsPlace) {
  WorkedPort p(1);
  PortWorker& w = run_for_the_port_with_a_waiter(p);
  HANDLE never = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(never, nullptr);
  for (int i = 0; i < 2000 && w.taken() == 0; ++i) {
    ASSERT_EQ(WaitForSingleObject(never, 0), static_cast<DWORD>(WAIT_TIMEOUT));
    ASSERT_EQ(SleepEx(0, TRUE), 0u);
  }
  std::this_thread::sleep_for(kChanceToGoWrong);
  EXPECT_EQ(w.taken(), 0u);
  CloseHandle(never);
}

// This thread, running for a port of concurrency 1 with a waiting worker, makes a `blocking`
// call. Once the worker has packet 2 (possible only while this thread is counted out, asleep in
// that call) it calls `unblock`, which ends the call; it calls it anyway after 10 s.
void expect_asleep_in_it_the_thread_leaves_its_place(const std::function<bool()>& blocking,
                                                     const std::function<void()>& unblock) {
  WorkedPort p(1);
  PortWorker& w = run_for_the_port_with_a_waiter(p);
  auto unblocker = std::async(std::launch::async, [&] {
    bool taken = w.wait_taken(1);
    unblock();
    return taken;
  });
  EXPECT_TRUE(blocking()) << GetLastError();
  EXPECT_TRUE(unblocker.get()) << "the worker got no packet while this thread slept";
  EXPECT_EQ(w.keys(), std::vector<ULONG_PTR>{2});
}

// Reads "go" from `read_end`, which the worker writes to `write_end`.
void expect_asleep_in_a_read_the_thread_leaves_its_place(HANDLE read_end, HANDLE write_end) {
  char buf[8];
  DWORD read = 0;
  expect_asleep_in_it_the_thread_leaves_its_place(
      [&] { return ReadFile(read_end, buf, sizeof buf, &read, nullptr) != FALSE; },
      [&] {
        DWORD written = 0;
        EXPECT_TRUE(WriteFile(write_end, "go", 2, &written, nullptr));
      });
  EXPECT_EQ(std::string(buf, read), "go");
}

TEST(Win32PortConcurrency, AThreadAsleepInASynchronousReadLeavesItsPlaceToAWaiter) {
  sluice::win32::testing::ConnectedPipe pipe;
  expect_asleep_in_a_read_the_thread_leaves_its_place(pipe.server, pipe.client);
}

// An anonymous pipe is a kernel pipe: the read sleeps in read(2), and counts as a wait still.
TEST(Win32PortConcurrency, AThreadAsleepInAReadOfAnAnonymousPipeLeavesItsPlaceToAWaiter) {
  sluice::win32::testing::AnonymousPipe pipe;
  expect_asleep_in_a_read_the_thread_leaves_its_place(pipe.read_end, pipe.write_end);
}

TEST(Win32PortConcurrency, AThreadAsleepInWaitNamedPipeLeavesItsPlaceToAWaiter) {
  std::string name = sluice::win32::testing::unique_pipe_name();
  HANDLE busy = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT, 2,
                                 4096, 4096, 0, nullptr);
  ASSERT_NE(busy, INVALID_HANDLE_VALUE);
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              0, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE);
  HANDLE second = INVALID_HANDLE_VALUE;
  // Every instance busy: WaitNamedPipe sleeps until the worker creates a second one.
  expect_asleep_in_it_the_thread_leaves_its_place(
      [&] { return WaitNamedPipeA(name.c_str(), 20000) != FALSE; },
      [&] {
        second = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT, 2,
                                  4096, 4096, 0, nullptr);
        EXPECT_NE(second, INVALID_HANDLE_VALUE);
      });
  CloseHandle(second);
  CloseHandle(client);
  CloseHandle(busy);
}

TEST(Win32PortConcurrency, GetQueuedCompletionStatusExTakesSeveralPacketsAsOneRunningThread) {
  WorkedPort p(2);
  for (ULONG_PTR k = 1; k <= 3; ++k) ASSERT_TRUE(PostQueuedCompletionStatus(p.port, 0, k, nullptr));
  OVERLAPPED_ENTRY entries[2];
  ULONG removed = 0;
  ASSERT_TRUE(GetQueuedCompletionStatusEx(p.port, entries, 2, &removed, 0, FALSE));
  EXPECT_EQ(removed, 2u);
  // One place of two is taken: another thread gets the third packet.
  PortWorker& w = p.start(false);
  ASSERT_TRUE(w.wait_taken(1));
  EXPECT_EQ(w.keys(), std::vector<ULONG_PTR>{3});
}

}  // namespace
