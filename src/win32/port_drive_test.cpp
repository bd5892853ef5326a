// A thread waiting in GetQueuedCompletionStatus(Ex) on a port with associated pipe ends serves
// the pipe engine itself (dequeue in completion_ports.cpp): it sleeps in the engine's poller, not
// on a futex, and everything that ends a port wait must still reach it there.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "thread_state.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sluice::win32::testing::unique_pipe_name;

constexpr DWORD kMessage = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT;

struct Pipe {
  explicit Pipe(const char* suffix = "p") {
    name = unique_pipe_name(suffix);
    server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, kMessage, 1,
                              4096, 4096, 0, nullptr);
    EXPECT_NE(server, INVALID_HANDLE_VALUE);
    client = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                         nullptr);
    EXPECT_NE(client, INVALID_HANDLE_VALUE);
  }
  ~Pipe() {
    CloseHandle(server);
    CloseHandle(client);
  }
  std::string name;
  HANDLE server = nullptr;
  HANDLE client = nullptr;
};

// The system call thread `tid` of this process is blocked in (first field of
// /proc/self/task/TID/syscall), or -1.
long blocked_in(int tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long nr = -1;
  f >> nr;
  return nr;
}
bool is_epoll_wait(long nr) { return nr == 232 || nr == 281 || nr == 441; }  // x86-64

// A thread in GetQueuedCompletionStatus(Ex) on a port that has a pipe end associated.
struct PortWaiter {
  PortWaiter() {
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
    EXPECT_NE(port, nullptr);
    EXPECT_EQ(CreateIoCompletionPort(pipe.server, port, 7, 0), port);
  }
  ~PortWaiter() {
    if (thread.joinable()) thread.join();
    if (!port_closed) CloseHandle(port);
  }
  // Starts the wait; returns once the thread sleeps in it.
  template <class Wait>
  void start(Wait wait) {
    thread = std::thread([this, wait] {
      tid = sluice::testing::current_thread_id();
      wait(*this);
      done = true;
    });
    ASSERT_TRUE(sluice::testing::wait_until_sleeping(tid, 10s));
  }
  // Whether the wait ended within `limit`; if not, closes the port so that the thread ends.
  bool ended_within(std::chrono::milliseconds limit) {
    auto end = Clock::now() + limit;
    while (!done.load() && Clock::now() < end) std::this_thread::sleep_for(1ms);
    if (done.load()) return true;
    close_port();
    return false;
  }
  void close_port() {
    if (!port_closed) CloseHandle(port);
    port_closed = true;
  }
  Pipe pipe{"port"};
  HANDLE port = nullptr;  // the waiting thread reads it: never changed after the start
  bool port_closed = false;
  std::thread thread;
  std::atomic<int> tid{0};
  std::atomic<bool> done{false};
  BOOL ok = FALSE;
  DWORD error = 0;
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  LPOVERLAPPED ov = nullptr;
};

// Deletes a waiter whose wait ended; one still hanging (the failure tests look for) is leaked
// with its thread detached, so that a failing test fails instead of hanging the suite.
struct EndOrLeak {
  void operator()(PortWaiter* w) const {
    auto end = Clock::now() + 10s;
    while (w->thread.joinable() && !w->done.load() && Clock::now() < end) {
      std::this_thread::sleep_for(1ms);
    }
    if (w->thread.joinable() && !w->done.load()) {
      w->thread.detach();
      return;
    }
    delete w;
  }
};
using PortWaiterPtr = std::unique_ptr<PortWaiter, EndOrLeak>;

void wait_infinite(PortWaiter& w) {
  w.ok = GetQueuedCompletionStatus(w.port, &w.bytes, &w.key, &w.ov, INFINITE);
  w.error = GetLastError();
}

TEST(Win32PortDriving, AWaiterOnAPortWithAPipeSleepsInThePipeEnginesPollerAndTakesItsRead) {
  PortWaiterPtr owner(new PortWaiter);
  PortWaiter& w = *owner;
  OVERLAPPED ov{};
  char buf[16];
  ASSERT_FALSE(ReadFile(w.pipe.server, buf, sizeof buf, nullptr, &ov));
  ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  w.start(wait_infinite);
  // Asleep in epoll_wait (the engine's poller), not on the port's condition variable (futex).
  // It may need a moment to take the poller from the agent thread.
  long nr = -1;
  for (auto end = Clock::now() + 5s; Clock::now() < end; std::this_thread::sleep_for(5ms)) {
    nr = blocked_in(w.tid.load());
    if (is_epoll_wait(nr)) break;
  }
  EXPECT_TRUE(is_epoll_wait(nr)) << "blocked in system call " << nr;
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(w.pipe.client, "hello", 5, &n, nullptr));
  ASSERT_TRUE(w.ended_within(10s));
  EXPECT_TRUE(w.ok);
  EXPECT_EQ(w.ov, &ov);
  EXPECT_EQ(w.key, 7u);
  EXPECT_EQ(w.bytes, 5u);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(Win32PortDriving, APostedPacketEndsADrivingWait) {
  PortWaiterPtr owner(new PortWaiter);
  PortWaiter& w = *owner;
  w.start(wait_infinite);
  std::this_thread::sleep_for(20ms);  // into the poller, most likely
  ASSERT_TRUE(PostQueuedCompletionStatus(w.port, 3, 9, reinterpret_cast<LPOVERLAPPED>(0x10)));
  ASSERT_TRUE(w.ended_within(10s));
  EXPECT_TRUE(w.ok);
  EXPECT_EQ(w.key, 9u);
  EXPECT_EQ(w.bytes, 3u);
  EXPECT_EQ(w.ov, reinterpret_cast<LPOVERLAPPED>(0x10));
}

TEST(Win32PortDriving, ClosingThePortEndsADrivingWaitWithAbandonedWait) {
  PortWaiterPtr owner(new PortWaiter);
  PortWaiter& w = *owner;
  w.start(wait_infinite);
  std::this_thread::sleep_for(20ms);
  w.close_port();
  auto end = Clock::now() + 10s;
  while (!w.done.load() && Clock::now() < end) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(w.done.load()) << "the wait did not end; the process will hang in join";
  EXPECT_FALSE(w.ok);
  EXPECT_EQ(w.error, static_cast<DWORD>(ERROR_ABANDONED_WAIT_0));
  EXPECT_EQ(w.ov, nullptr);
}

TEST(Win32PortDriving, AThreadThatImpersonatesAClientWaitsWithoutServingTheEngine) {
  std::atomic<bool> impersonated{false};  // before the waiter: its thread sets it
  PortWaiterPtr owner(new PortWaiter);
  PortWaiter& w = *owner;
  // ImpersonateNamedPipeClient wants data read from the client first; the read's packet is
  // taken here.
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(w.pipe.client, "x", 1, &n, nullptr));
  OVERLAPPED ov{};
  char c = 0;
  if (!ReadFile(w.pipe.server, &c, 1, nullptr, &ov)) {
    ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  }
  ULONG_PTR key = 0;
  LPOVERLAPPED got = nullptr;
  ASSERT_TRUE(GetQueuedCompletionStatus(w.port, &n, &key, &got, 10000));
  ASSERT_EQ(got, &ov);
  w.start([&](PortWaiter& pw) {
    impersonated = ImpersonateNamedPipeClient(pw.pipe.server) != FALSE;
    wait_infinite(pw);
    RevertToSelf();
  });
  ASSERT_TRUE(impersonated.load());
  // Whatever the engine would create meanwhile must not belong to the client: the thread sleeps
  // on the port's condition variable (futex, 202), never in the engine's poller.
  for (int i = 0; i < 20; ++i) {
    long nr = blocked_in(w.tid.load());
    EXPECT_FALSE(is_epoll_wait(nr)) << "look " << i;
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(PostQueuedCompletionStatus(w.port, 0, 5, nullptr));
  ASSERT_TRUE(w.ended_within(10s));
  EXPECT_TRUE(w.ok);
  EXPECT_EQ(w.key, 5u);
}

std::atomic<int> g_apcs{0};
VOID WINAPI count_apc(ULONG_PTR) { ++g_apcs; }

struct AlertableWait {
  HANDLE port = nullptr;
  std::atomic<int> tid{0};
  BOOL ok = TRUE;
  DWORD error = 0;
};

DWORD WINAPI alertable_port_wait(LPVOID arg) {
  auto* w = static_cast<AlertableWait*>(arg);
  OVERLAPPED_ENTRY entries[2];
  ULONG count = 0;
  w->tid = sluice::testing::current_thread_id();
  w->ok = GetQueuedCompletionStatusEx(w->port, entries, 2, &count, INFINITE, TRUE);
  w->error = GetLastError();
  return 0;
}

TEST(Win32PortDriving, AnApcEndsAnAlertableDrivingWaitWithWaitIoCompletion) {
  g_apcs = 0;
  Pipe pipe("apc");
  auto* owned = new AlertableWait;  // leaked if the wait hangs (the thread still uses it)
  AlertableWait& w = *owned;
  w.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  ASSERT_NE(w.port, nullptr);
  ASSERT_EQ(CreateIoCompletionPort(pipe.server, w.port, 1, 0), w.port);
  HANDLE t = CreateThread(nullptr, 0, alertable_port_wait, &w, 0, nullptr);
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(sluice::testing::wait_until_sleeping(w.tid, 10s));
  std::this_thread::sleep_for(20ms);  // into the poller, most likely
  ASSERT_NE(QueueUserAPC(count_apc, t, 1), 0u);
  if (WaitForSingleObject(t, 10000) != WAIT_OBJECT_0) {
    CloseHandle(w.port);  // may end the wait; if not, the thread is left behind
    if (WaitForSingleObject(t, 1000) == WAIT_OBJECT_0) delete owned;
    CloseHandle(t);
    FAIL() << "the APC did not end the wait";
  }
  EXPECT_FALSE(w.ok);
  EXPECT_EQ(w.error, static_cast<DWORD>(WAIT_IO_COMPLETION));
  EXPECT_EQ(g_apcs.load(), 1);
  CloseHandle(t);
  CloseHandle(w.port);
  delete owned;
}

TEST(Win32PortDriving, ATimedDrivingWaitTimesOutOnTime) {
  PortWaiterPtr owner(new PortWaiter);
  PortWaiter& w = *owner;
  auto start = Clock::now();
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED ov = reinterpret_cast<LPOVERLAPPED>(1);
  EXPECT_FALSE(GetQueuedCompletionStatus(w.port, &n, &key, &ov, 150));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_EQ(ov, nullptr);
  auto took = Clock::now() - start;
  EXPECT_GE(took, 140ms);
  EXPECT_LT(took, 5s);
}

TEST(Win32PortDriving, OtherPipesCompleteWhileTheDrivingThreadIsAwayFromThePort) {
  // The port thread takes one packet, then stays away from the port; meanwhile an overlapped
  // read on another pipe (no port) must still complete: the agent thread takes the engine back.
  std::atomic<bool> away{false};  // before the waiter: its thread uses them until it ends
  std::atomic<bool> leave{false};
  PortWaiterPtr owner(new PortWaiter);
  PortWaiter& w = *owner;
  w.start([&](PortWaiter& pw) {
    wait_infinite(pw);
    away = true;
    for (auto end = Clock::now() + 20s; !leave.load() && Clock::now() < end;) {
      std::this_thread::sleep_for(1ms);
    }
  });
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(PostQueuedCompletionStatus(w.port, 0, 1, nullptr));
  for (auto end = Clock::now() + 10s; !away.load() && Clock::now() < end;) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(away.load());
  Pipe other("other");
  OVERLAPPED ov{};
  ov.hEvent = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  char buf[8];
  ASSERT_FALSE(ReadFile(other.server, buf, sizeof buf, nullptr, &ov));
  ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(other.client, "x", 1, &n, nullptr));
  EXPECT_EQ(WaitForSingleObject(ov.hEvent, 10000), WAIT_OBJECT_0);
  EXPECT_TRUE(GetOverlappedResult(other.server, &ov, &n, FALSE));
  EXPECT_EQ(n, 1u);
  leave = true;
  CloseHandle(ov.hEvent);
}

}  // namespace
