// Held wakes: a sleeper on a shared word is woken only when the holding thread releases,
// after the last of kMaxHeldWakes, or when that thread exits. Each test of a way to let go
// pauses the keeper, which would otherwise wake the sleeper 50-100 ms later regardless.
#include "os/linux/held_wakes.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "os/linux/futex.hpp"
#include "thread_state.hpp"

namespace sluice::os {
namespace {

using namespace std::chrono_literals;

// Words in a shared mapping, as the segments' words are.
class SharedWords {
 public:
  SharedWords() {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    words_ = static_cast<std::atomic<std::uint32_t>*>(p);
  }
  ~SharedWords() { ::munmap(words_, 4096); }
  std::atomic<std::uint32_t>& operator[](std::size_t i) { return words_[i]; }

 private:
  std::atomic<std::uint32_t>* words_;
};

// A thread asleep on one shared word until it changes and is woken.
class Sleeper {
 public:
  explicit Sleeper(std::atomic<std::uint32_t>& word) : word_(word) {
    thread_ = std::thread([this] {
      tid_ = testing::current_thread_id();
      while (word_.load() == 0) {
        FutexWaiter w{&word_, 0, true};
        (void)futex_wait_any(&w, 1, std::nullopt);
      }
      woken_ = true;
    });
  }
  ~Sleeper() {
    // Never leave it asleep: wake it directly whatever the test did.
    word_.store(1);
    futex_wake_all(&word_, true);
    thread_.join();
  }
  bool asleep() { return testing::wait_until_sleeping(tid_, 10s); }
  bool woken_within(std::chrono::milliseconds limit) const {
    return testing::becomes_true(woken_, limit);
  }
  bool woken() const { return woken_.load(); }

 private:
  std::atomic<std::uint32_t>& word_;
  std::atomic<int> tid_{0};
  std::atomic<bool> woken_{false};
  std::thread thread_;
};

// Changes the word, then wakes it as a writer does (held or not).
void publish(std::atomic<std::uint32_t>& word) {
  word.store(1);
  wake_shared(&word);
}

TEST(HeldWakes, ASleeperIsWokenOnlyWhenTheHoldingThreadReleases) {
  SharedWords words;
  Sleeper sleeper(words[0]);
  ASSERT_TRUE(sleeper.asleep());
  KeeperPause only_the_release;
  if (!hold_wakes(true)) GTEST_SKIP() << "io_uring futex wakes are not available here";
  publish(words[0]);
  EXPECT_FALSE(sleeper.woken_within(10ms)) << "the wake was not held";
  EXPECT_TRUE(holds_wakes());
  release_held_wakes();
  EXPECT_FALSE(holds_wakes());
  EXPECT_TRUE(sleeper.woken_within(10s));
  hold_wakes(false);
}

TEST(HeldWakes, WithoutHoldingAWakeIsImmediate) {
  SharedWords words;
  Sleeper sleeper(words[0]);
  ASSERT_TRUE(sleeper.asleep());
  hold_wakes(false);
  publish(words[0]);
  EXPECT_TRUE(sleeper.woken_within(10s));
}

TEST(HeldWakes, StoppingToHoldReleases) {
  SharedWords words;
  Sleeper sleeper(words[0]);
  ASSERT_TRUE(sleeper.asleep());
  KeeperPause only_stopping;
  if (!hold_wakes(true)) GTEST_SKIP() << "io_uring futex wakes are not available here";
  publish(words[0]);
  hold_wakes(false);
  EXPECT_TRUE(sleeper.woken_within(10s));
}

TEST(HeldWakes, TheLastWakeAThreadCanHoldReleasesThemAllInOneGo) {
  SharedWords words;
  std::vector<std::unique_ptr<Sleeper>> sleepers;
  for (std::size_t i = 0; i < kMaxHeldWakes; ++i) {
    sleepers.push_back(std::make_unique<Sleeper>(words[i]));
    ASSERT_TRUE(sleepers.back()->asleep());
  }
  KeeperPause only_the_last_wake;
  if (!hold_wakes(true)) GTEST_SKIP() << "io_uring futex wakes are not available here";
  for (std::size_t i = 0; i + 1 < kMaxHeldWakes; ++i) publish(words[i]);
  publish(words[kMaxHeldWakes - 2]);  // again: held once
  EXPECT_FALSE(sleepers.front()->woken_within(10ms));
  for (auto& s : sleepers) EXPECT_FALSE(s->woken());
  publish(words[kMaxHeldWakes - 1]);
  for (auto& s : sleepers) EXPECT_TRUE(s->woken_within(10s));
  EXPECT_FALSE(holds_wakes());
  hold_wakes(false);
}

TEST(HeldWakes, AThreadThatEndsReleasesWhatItHeld) {
  SharedWords words;
  Sleeper sleeper(words[0]);
  ASSERT_TRUE(sleeper.asleep());
  KeeperPause only_the_thread_end;
  std::atomic<bool> held{false};
  std::thread holder([&] {
    held = hold_wakes(true);
    publish(words[0]);
  });
  holder.join();
  if (!held) GTEST_SKIP() << "io_uring futex wakes are not available here";
  EXPECT_TRUE(sleeper.woken_within(10s));
}

TEST(HeldWakes, WakesHeldByAThreadThatBlocksElsewhereAreLetGoByTheKeeper) {
  SharedWords words;
  Sleeper sleeper(words[0]);
  ASSERT_TRUE(sleeper.asleep());
  std::promise<void> unblock;
  std::atomic<bool> held{false};
  std::atomic<bool> published{false};
  // It holds, writes, then blocks on something that is not sluice's (here: until the end).
  std::thread holder([&, blocked = unblock.get_future()] {
    held = hold_wakes(true);
    publish(words[0]);
    published = true;
    (void)blocked.wait_for(20s);
    hold_wakes(false);
  });
  bool woken = testing::becomes_true(published, 10s) && held && sleeper.woken_within(5s);
  unblock.set_value();
  holder.join();
  if (!held) GTEST_SKIP() << "io_uring futex wakes are not available here";
  EXPECT_TRUE(woken) << "a blocked holder kept its reader asleep";
}

}  // namespace
}  // namespace sluice::os
