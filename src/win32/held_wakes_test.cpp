// A thread running for a completion port holds the wakes of the readers it writes to while more
// packets wait for it, and lets them go when it will not go straight on to its next packet:
// when it takes the last one, waits for anything, falls asleep in a synchronous operation, or
// ends. Each test of a way to let go pauses the keeper, which would otherwise wake the reader
// 50-100 ms later whether that way works or not.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "os/linux/held_wakes.hpp"
#include "thread_state.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace std::chrono_literals;

constexpr DWORD kMessage = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT;

bool wakes_can_be_held() {
  bool can = false;
  std::thread probe([&] { can = sluice::os::hold_wakes(true); });
  probe.join();
  return can;
}

// A server end (overlapped) and a client whose thread sleeps in a synchronous ReadFile.
class SleepingClient {
 public:
  SleepingClient() {
    std::string name = sluice::win32::testing::unique_pipe_name();
    server_ = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, kMessage, 1,
                               4096, 4096, 0, nullptr);
    EXPECT_NE(server_, INVALID_HANDLE_VALUE);
    client_ = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                          nullptr);
    EXPECT_NE(client_, INVALID_HANDLE_VALUE);
    reader_ = std::thread([this] {
      tid_ = sluice::testing::current_thread_id();
      char buf[64];
      DWORD n = 0;
      if (ReadFile(client_, buf, sizeof buf, &n, nullptr)) got_ = std::string(buf, n);
      done_ = true;
    });
  }
  ~SleepingClient() {
    CloseHandle(server_);  // ends the read if nothing did
    reader_.join();
    CloseHandle(client_);
  }
  bool asleep() { return sluice::testing::wait_until_sleeping(tid_, 10s); }
  // The server's reply, written the overlapped way; it completes at once (room in the pipe).
  void reply(const char* text) {
    OVERLAPPED ov{};
    DWORD n = 0;
    BOOL ok = WriteFile(server_, text, static_cast<DWORD>(strlen(text)), &n, &ov);
    EXPECT_TRUE(ok || GetLastError() == ERROR_IO_PENDING) << GetLastError();
    EXPECT_TRUE(GetOverlappedResult(server_, &ov, &n, FALSE)) << GetLastError();
  }
  bool read_within(std::chrono::milliseconds limit) const {
    return sluice::testing::becomes_true(done_, limit);
  }
  const std::string& got() const { return got_; }

 private:
  HANDLE server_ = nullptr;
  HANDLE client_ = nullptr;
  std::atomic<int> tid_{0};
  std::atomic<bool> done_{false};
  std::string got_;
  std::thread reader_;
};

// A port with `packets` posted packets.
HANDLE port_with(int packets) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  EXPECT_NE(port, nullptr);
  for (int i = 1; i <= packets; ++i)
    EXPECT_TRUE(PostQueuedCompletionStatus(port, 0, static_cast<ULONG_PTR>(i), nullptr));
  return port;
}

bool take_packet(HANDLE port) {
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  LPOVERLAPPED ov = nullptr;
  return GetQueuedCompletionStatus(port, &bytes, &key, &ov, 5000) != FALSE;
}

TEST(Win32HeldWakes, AReplyWrittenInABurstWakesItsReaderWhenTheThreadTakesItsLastPacket) {
  if (!wakes_can_be_held()) GTEST_SKIP() << "io_uring futex wakes are not available here";
  SleepingClient c;
  ASSERT_TRUE(c.asleep());
  sluice::os::KeeperPause only_the_last_packet;
  HANDLE port = port_with(2);
  ASSERT_TRUE(take_packet(port));  // one more waits: a burst
  c.reply("first");
  EXPECT_FALSE(c.read_within(10ms)) << "the reply's wake was not held";
  ASSERT_TRUE(take_packet(port));  // the last one: the thread lets its wakes go
  EXPECT_TRUE(c.read_within(10s));
  EXPECT_EQ(c.got(), "first");
  CloseHandle(port);
}

TEST(Win32HeldWakes, AThreadWithoutAnotherPacketWaitingWakesAtOnce) {
  SleepingClient c;
  ASSERT_TRUE(c.asleep());
  HANDLE port = port_with(1);
  ASSERT_TRUE(take_packet(port));
  c.reply("only");
  EXPECT_TRUE(c.read_within(10s));
  CloseHandle(port);
}

TEST(Win32HeldWakes, WaitingForSomethingElseLetsTheHeldWakesGo) {
  if (!wakes_can_be_held()) GTEST_SKIP() << "io_uring futex wakes are not available here";
  SleepingClient c;
  ASSERT_TRUE(c.asleep());
  sluice::os::KeeperPause only_the_wait;
  HANDLE port = port_with(2);
  ASSERT_TRUE(take_packet(port));
  c.reply("first");
  HANDLE never = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  EXPECT_EQ(WaitForSingleObject(never, 10), static_cast<DWORD>(WAIT_TIMEOUT));
  EXPECT_TRUE(c.read_within(10s)) << "a wait kept the reply's wake held";
  CloseHandle(never);
  ASSERT_TRUE(take_packet(port));
  CloseHandle(port);
}

// This thread, in a burst, replies to a sleeping client and then sleeps in a synchronous
// ReadFile of `read_end`. What it reads is written to `write_end` only once the client has its
// reply: the client wakes only if this thread lets its wakes go as it falls asleep (else the
// data comes after 10 s anyway).
void expect_falling_asleep_lets_the_wakes_go(HANDLE read_end, HANDLE write_end) {
  SleepingClient c;
  ASSERT_TRUE(c.asleep());
  sluice::os::KeeperPause only_the_sleep;
  HANDLE port = port_with(2);
  ASSERT_TRUE(take_packet(port));
  c.reply("first");
  std::atomic<bool> client_woke{false};
  std::thread answer([&] {
    client_woke = c.read_within(10s);
    DWORD n = 0;
    EXPECT_TRUE(WriteFile(write_end, "go", 2, &n, nullptr)) << GetLastError();
  });
  char buf[8];
  DWORD n = 0;
  EXPECT_TRUE(ReadFile(read_end, buf, sizeof buf, &n, nullptr)) << GetLastError();
  answer.join();
  EXPECT_TRUE(client_woke.load()) << "a thread asleep in ReadFile kept the reply's wake held";
  EXPECT_EQ(c.got(), "first");
  ASSERT_TRUE(take_packet(port));
  CloseHandle(port);
}

TEST(Win32HeldWakes, FallingAsleepInAReadOfANamedPipeLetsTheHeldWakesGo) {
  if (!wakes_can_be_held()) GTEST_SKIP() << "io_uring futex wakes are not available here";
  sluice::win32::testing::ConnectedPipe answer("answer");
  expect_falling_asleep_lets_the_wakes_go(answer.server, answer.client);
}

// An anonymous pipe is a kernel pipe: its read sleeps in read(2), not in sluice.
TEST(Win32HeldWakes, FallingAsleepInAReadOfAnAnonymousPipeLetsTheHeldWakesGo) {
  if (!wakes_can_be_held()) GTEST_SKIP() << "io_uring futex wakes are not available here";
  sluice::win32::testing::AnonymousPipe answer;
  expect_falling_asleep_lets_the_wakes_go(answer.read_end, answer.write_end);
}

TEST(Win32HeldWakes, AThreadThatEndsLetsItsHeldWakesGo) {
  if (!wakes_can_be_held()) GTEST_SKIP() << "io_uring futex wakes are not available here";
  SleepingClient c;
  ASSERT_TRUE(c.asleep());
  sluice::os::KeeperPause only_the_thread_end;
  HANDLE port = port_with(2);
  std::thread worker([&] {
    if (take_packet(port)) c.reply("first");
  });
  worker.join();
  EXPECT_TRUE(c.read_within(10s));
  CloseHandle(port);
}

}  // namespace
