// The waitable-object primitive: who a change wakes, what a wait takes, and time-outs.
#include "objects/waitable.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace sluice::objects {
namespace {

using namespace std::chrono_literals;
using Clock = Waiter::Clock;

// An event as Windows has it: manual-reset or auto-reset (a satisfied wait takes the state).
class TestEvent final : public Waitable {
 public:
  explicit TestEvent(bool manual = false, bool initial = false)
      : manual_(manual), signalled_(initial) {}
  void set() {
    std::lock_guard lock(mutex());
    signalled_ = true;
    wake_waiters_locked();
  }
  bool signalled() {
    std::lock_guard lock(mutex());
    return signalled_;
  }
  bool signalled_locked() noexcept override { return signalled_; }
  bool take_locked() noexcept override {
    if (refuse_take_) return false;
    if (!manual_) signalled_ = false;
    return true;
  }
  void give_back_locked() noexcept override { signalled_ = true; }
  // Stands for state shared with another process that took it between the look and the take.
  void refuse_takes() {
    std::lock_guard lock(mutex());
    refuse_take_ = true;
  }

 private:
  const bool manual_;
  bool signalled_;
  bool refuse_take_ = false;
};

TEST(Waitable, AChangeWakesOnlyTheWaitersOfThatObject) {
  TestEvent a, b;
  Waiter on_a, on_b;
  std::array<Waitable*, 1> just_a{&a}, just_b{&b};
  WaitBlock wait_a(on_a, just_a), wait_b(on_b, just_b);
  EXPECT_FALSE(wait_a.take_any());  // lists the waiters
  EXPECT_FALSE(wait_b.take_any());
  auto ticket_a = on_a.ticket(), ticket_b = on_b.ticket();
  a.set();
  EXPECT_NE(on_a.ticket(), ticket_a);
  EXPECT_EQ(on_b.ticket(), ticket_b) << "a waiter of another object was woken";
  EXPECT_EQ(wait_a.take_any(), 0u);
}

TEST(Waitable, AWaiterLeavesEveryListWhenItsWaitEnds) {
  TestEvent a;
  Waiter w;
  std::array<Waitable*, 2> twice{&a, &a};
  {
    WaitBlock wait(w, twice);
    EXPECT_FALSE(wait.take_any());
  }
  auto ticket = w.ticket();
  a.set();
  EXPECT_EQ(w.ticket(), ticket) << "a finished wait still hears its object";
}

TEST(Waitable, WaitAnyTakesTheFirstSignalledObjectAndOnlyThatOne) {
  TestEvent a, b(false, true), c(false, true);
  std::array<Waitable*, 3> objects{&a, &b, &c};
  EXPECT_EQ(wait_for_objects(objects, false, Clock::now()), 1u);
  EXPECT_FALSE(b.signalled());
  EXPECT_TRUE(c.signalled());
}

TEST(Waitable, WaitAllTakesNothingUntilEveryObjectIsSignalled) {
  TestEvent a(false, true), b;
  std::array<Waitable*, 2> objects{&a, &b};
  EXPECT_FALSE(wait_for_objects(objects, true, Clock::now()));
  EXPECT_TRUE(a.signalled()) << "a wait-all that failed took an object";
  b.set();
  EXPECT_EQ(wait_for_objects(objects, true, Clock::now()), 0u);
  EXPECT_FALSE(a.signalled());
  EXPECT_FALSE(b.signalled());
}

TEST(Waitable, WaitAllGivesBackWhatItTookWhenALaterTakeFails) {
  TestEvent a(false, true), b(false, true);
  std::array<Waitable*, 2> objects{&a, &b};
  (&a < &b ? b : a).refuse_takes();  // the one taken second
  EXPECT_FALSE(wait_for_objects(objects, true, Clock::now()));
  EXPECT_TRUE(a.signalled());
  EXPECT_TRUE(b.signalled());
}

TEST(Waitable, ASleepEndsAtItsDeadlineWithoutAWake) {
  TestEvent a;
  std::array<Waitable*, 1> objects{&a};
  auto start = Clock::now();
  EXPECT_FALSE(wait_for_objects(objects, false, start + 50ms));
  EXPECT_GE(Clock::now() - start, 50ms);
}

TEST(Waitable, ASetFromAnotherThreadEndsAWaitWithoutADeadline) {
  TestEvent a;
  std::array<Waitable*, 1> objects{&a};
  auto waiting = std::async(std::launch::async,
                            [&] { return wait_for_objects(objects, false, std::nullopt); });
  EXPECT_EQ(waiting.wait_for(20ms), std::future_status::timeout);  // still waiting
  a.set();
  ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waiting.get(), 0u);
}

// Each set of an auto-reset event satisfies exactly one wait, however many threads wait.
TEST(Waitable, EachSetOfAnAutoResetObjectReleasesExactlyOneOfManyWaiters) {
  constexpr int kThreads = 8, kSets = 2000;
  TestEvent e;
  std::atomic<int> taken{0};
  std::atomic<bool> stop{false};
  std::array<Waitable*, 1> objects{&e};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      while (!stop) {
        if (wait_for_objects(objects, false, Clock::now() + 20ms)) ++taken;
      }
    });
  }
  for (int i = 0; i < kSets; ++i) {
    // The next set only once the last one was taken, so none merges into another.
    e.set();
    auto deadline = Clock::now() + 10s;
    while (e.signalled() && Clock::now() < deadline) std::this_thread::yield();
    ASSERT_FALSE(e.signalled()) << "set " << i << " was never taken";
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken, kSets);
}

// Threads hand a token around a ring of objects, each waiting for its own: every hand-off
// wakes one thread, and none is lost (run under ThreadSanitizer in CI).
TEST(Waitable, ARelayOfThreadsEachOnItsOwnObjectLosesNoHandOff) {
  constexpr int kThreads = 16, kRounds = 300;
  std::vector<std::unique_ptr<TestEvent>> events;
  for (int i = 0; i <= kThreads; ++i) events.push_back(std::make_unique<TestEvent>());
  std::vector<std::thread> relay;
  for (int i = 0; i < kThreads; ++i) {
    relay.emplace_back([&, i] {
      std::array<Waitable*, 1> mine{events[i].get()};
      for (int r = 0; r < kRounds; ++r) {
        if (!wait_for_objects(mine, false, Clock::now() + 30s)) return;
        events[i + 1]->set();
      }
    });
  }
  std::array<Waitable*, 1> back{events[kThreads].get()};
  int rounds = 0;
  for (; rounds < kRounds; ++rounds) {
    events[0]->set();
    if (!wait_for_objects(back, false, Clock::now() + 30s)) break;
  }
  for (auto& t : relay) t.join();
  EXPECT_EQ(rounds, kRounds);
}

}  // namespace
}  // namespace sluice::objects
