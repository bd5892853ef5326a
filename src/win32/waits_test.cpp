// Who a change wakes: a SetEvent reaches the threads waiting for that event and no others
// (docs/architecture.md, "Waiting for objects"). Seen from outside, through the kernel's count of
// each thread's voluntary context switches: a thread that sleeps undisturbed keeps its count.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The kernel's count of times thread `tid` of this process went to sleep, or -1.
long sleeps_of(DWORD tid) {
  std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
  }
  return -1;
}

// Whether thread `tid` is asleep (state S) right now.
bool asleep(DWORD tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto paren = all.rfind(')');
  return paren != std::string::npos && paren + 2 < all.size() && all[paren + 2] == 'S';
}

TEST(Win32Waits, ASetEventWakesNoThreadThatWaitsForAnotherObject) {
  constexpr int kBystanders = 8, kHandOffs = 200;
  std::vector<HANDLE> own(kBystanders);
  for (auto& e : own) e = CreateEventA(nullptr, FALSE, FALSE, nullptr);
  std::vector<std::atomic<DWORD>> tids(kBystanders);
  std::vector<std::thread> bystanders;
  for (int i = 0; i < kBystanders; ++i) {
    bystanders.emplace_back([&, i] {
      tids[i] = GetCurrentThreadId();
      (void)WaitForSingleObject(own[i], 30000);
    });
  }
  // Every bystander asleep in its wait (bounded: a loaded machine may take a while).
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (int i = 0; i < kBystanders; ++i) {
    while ((tids[i] == 0 || !asleep(tids[i])) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(tids[i] != 0 && asleep(tids[i])) << "bystander " << i << " never slept";
  }
  std::vector<long> before(kBystanders);
  for (int i = 0; i < kBystanders; ++i) before[i] = sleeps_of(tids[i]);

  // Two other threads hand a token back and forth through their own events.
  HANDLE ping = CreateEventA(nullptr, FALSE, FALSE, nullptr);
  HANDLE pong = CreateEventA(nullptr, FALSE, FALSE, nullptr);
  std::thread partner([&] {
    for (int i = 0; i < kHandOffs; ++i) {
      if (WaitForSingleObject(ping, 10000) != WAIT_OBJECT_0) return;
      SetEvent(pong);
    }
  });
  int done = 0;
  for (; done < kHandOffs; ++done) {
    SetEvent(ping);
    if (WaitForSingleObject(pong, 10000) != WAIT_OBJECT_0) break;
  }
  partner.join();
  EXPECT_EQ(done, kHandOffs);

  for (int i = 0; i < kBystanders; ++i) {
    // A stray wake-up or two (a signal, the scheduler) is not the bug; one per hand-off is.
    EXPECT_LE(sleeps_of(tids[i]) - before[i], 5)
        << "bystander " << i << " was woken by hand-offs on events it does not wait for";
  }
  for (int i = 0; i < kBystanders; ++i) SetEvent(own[i]);
  for (auto& t : bystanders) t.join();
  for (auto& e : own) CloseHandle(e);
  CloseHandle(ping);
  CloseHandle(pong);
}

}  // namespace
