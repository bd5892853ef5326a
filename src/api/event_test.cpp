// sluice::Event: unnamed events between threads, named events between processes (the helper is
// this test binary run again), and the waits on several events.
#include "sluice/event.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "pipe_fixture.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::spawn_helper;

constexpr auto kLong = 10s;  // a bound for what must happen, never reached when it does

class Events : public testing::PipeTest {
 protected:
  // `Suite.Test-suffix`: unique per test (each test has a namespace of its own as well).
  std::string event_name(const std::string& suffix) const {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->test_suite_name()) + "." + info->name() + "-" + suffix;
  }
};

TEST_F(Events, AnUnnamedAutoResetEventIsTakenByTheWaitThatSeesIt) {
  Event e = Event::unnamed();
  ASSERT_TRUE(e.valid());
  EXPECT_FALSE(e.manual_reset());
  EXPECT_FALSE(e.existed());
  EXPECT_EQ(e.wait(0ms).error(), errc::kWaitTimeout);
  EXPECT_EQ(e.wait(20ms).error(), errc::kWaitTimeout);
  e.set();
  e.set();  // a set event stays set once: no count
  EXPECT_TRUE(e.wait(0ms));
  EXPECT_EQ(e.wait(0ms).error(), errc::kWaitTimeout) << "the wait took the set";
  e.set();
  e.reset();
  EXPECT_EQ(e.wait(0ms).error(), errc::kWaitTimeout);
}

TEST_F(Events, AManualResetEventStaysSetUntilReset) {
  auto e = Event::create(registry(), "", {.manual_reset = true, .initially_set = true});
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_TRUE(e->manual_reset());
  EXPECT_FALSE(e->existed());
  EXPECT_TRUE(e->wait(0ms));
  EXPECT_TRUE(e->wait(0ms));
  e->reset();
  EXPECT_EQ(e->wait(0ms).error(), errc::kWaitTimeout);
}

TEST_F(Events, ASetWakesAThreadThatWaits) {
  Event e = Event::unnamed({.manual_reset = true});
  Event started = Event::unnamed();
  std::thread waiter([&] {
    started.set();
    EXPECT_TRUE(e.wait(kLong));
  });
  ASSERT_TRUE(started.wait(kLong));
  e.set();
  waiter.join();
}

TEST_F(Events, AnAutoResetSetReleasesExactlyOneOfTheWaitingThreads) {
  Event go = Event::unnamed();
  Event answered = Event::unnamed();
  std::atomic<int> released{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; ++i) {
    waiters.emplace_back([&] {
      EXPECT_TRUE(go.wait(kLong));
      released.fetch_add(1);
      answered.set();
    });
  }
  go.set();
  ASSERT_TRUE(answered.wait(kLong));
  EXPECT_EQ(answered.wait(200ms).error(), errc::kWaitTimeout) << "a second thread was released";
  EXPECT_EQ(released.load(), 1);
  go.set();
  ASSERT_TRUE(answered.wait(kLong));
  for (auto& t : waiters) t.join();
  EXPECT_EQ(released.load(), 2);
  EXPECT_EQ(go.wait(0ms).error(), errc::kWaitTimeout);
}

TEST_F(Events, WaitAnyTakesTheFirstSetEventAndWaitAllTakesAllAtOnce) {
  Event manual = Event::unnamed({.manual_reset = true});
  auto named = Event::create(registry(), event_name("a"));
  ASSERT_TRUE(named) << named.error().message();
  Event* both[2] = {&manual, &*named};
  EXPECT_EQ(wait_any(both, 0ms).error(), errc::kWaitTimeout);
  named->set();
  EXPECT_EQ(wait_any(both, kLong).value(), 1u);
  EXPECT_EQ(named->wait(0ms).error(), errc::kWaitTimeout) << "wait_any took the auto-reset set";
  named->set();
  EXPECT_EQ(wait_all(both, 20ms).error(), errc::kWaitTimeout) << "the manual event is not set";
  EXPECT_TRUE(named->wait(0ms)) << "a wait_all that timed out took nothing";
  named->set();
  manual.set();
  EXPECT_EQ(wait_any(both, 0ms).value(), 0u) << "the lowest index of the set events";
  EXPECT_TRUE(wait_all(both, kLong));
  EXPECT_EQ(named->wait(0ms).error(), errc::kWaitTimeout) << "wait_all took the auto-reset set";
  EXPECT_TRUE(manual.wait(0ms));
}

TEST_F(Events, WaitsRefuseEmptyEventsAndBadLists) {
  Event empty;
  EXPECT_FALSE(empty.valid());
  empty.set();  // does nothing
  EXPECT_EQ(empty.wait(0ms).error(), errc::kInvalidHandle);
  Event e = Event::unnamed();
  Event moved = std::move(e);
  EXPECT_FALSE(e.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty, documented
  EXPECT_TRUE(moved.valid());
  EXPECT_EQ(wait_any({}, 0ms).error(), errc::kInvalidParameter);
  Event* null_entry[1] = {nullptr};
  EXPECT_EQ(wait_any(null_entry, 0ms).error(), errc::kInvalidParameter);
  Event* empty_entry[1] = {&empty};
  EXPECT_EQ(wait_all(empty_entry, 0ms).error(), errc::kInvalidHandle);
  std::vector<Event*> too_many(65, &moved);
  EXPECT_EQ(wait_any(too_many, 0ms).error(), errc::kInvalidParameter);
}

TEST_F(Events, ANameIsOneEventUntilItsLastHolderLetsGo) {
  const std::string name = event_name("e");
  EXPECT_EQ(Event::open(registry(), name).error(), errc::kFileNotFound);
  auto first = Event::create(registry(), name, {.manual_reset = true});
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_FALSE(first->existed());
  // A second create opens the same event; its options are ignored, as on Windows.
  auto second = Event::create(registry(), name, {.manual_reset = false, .initially_set = true});
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->existed());
  EXPECT_TRUE(second->manual_reset());
  EXPECT_EQ(second->wait(0ms).error(), errc::kWaitTimeout);
  auto opened = Event::open(registry(), name);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_TRUE(opened->existed());
  first->set();
  EXPECT_TRUE(opened->wait(0ms));
  EXPECT_TRUE(second->wait(0ms));
  // A thread waiting through one Event hears a set through another (the watcher).
  opened->reset();
  std::thread waiter([&] { EXPECT_TRUE(opened->wait(kLong)); });
  first->set();
  waiter.join();
  *first = Event();
  *second = Event();
  *opened = Event();
  EXPECT_EQ(Event::open(registry(), name).error(), errc::kFileNotFound) << "gone with the last";
}

TEST_F(Events, NamesFollowWindowsRules) {
  EXPECT_EQ(Event::open(registry(), "").error(), errc::kInvalidParameter);
  EXPECT_EQ(Event::create(registry(), "a\\b").error(), errc::kPathNotFound);
  EXPECT_EQ(Event::create(registry(), std::string(261, 'x')).error(), errc::kFilenameExcedRange);
  // Global\ names are a scope of their own (unless this process has no session, like Windows'
  // session 0); a name without a prefix is Local\. Names are case-sensitive.
  auto global = Event::create(registry(), "Global\\" + event_name("g"));
  ASSERT_TRUE(global) << global.error().message();
  EXPECT_EQ(Event::open(registry(), event_name("L")).error(), errc::kFileNotFound);
  auto local = Event::create(registry(), event_name("l"));
  ASSERT_TRUE(local) << local.error().message();
  auto same = Event::open(registry(), "Local\\" + event_name("l"));
  ASSERT_TRUE(same) << same.error().message();
  local->set();
  EXPECT_TRUE(same->wait(0ms));
}

// ---- several processes --------------------------------------------------------------------------

// args: directory, go, ready, done. Opens the events, sets `ready`, waits for `go`, sets `done`.
SLUICE_TEST_HELPER(event_waiter) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  auto go = Event::open(*reg, args.at(1));
  auto ready = Event::open(*reg, args.at(2));
  auto done = Event::open(*reg, args.at(3));
  if (!go || !ready || !done) return 11;
  ready->set();
  if (!go->wait(kLong)) return 12;
  done->set();
  return 0;
}

// Two children waiting for one event `go`, each with a `ready` and a `done` event of its own (a
// set does not count: two sets of one event may make one).
class EventProcesses : public Events {
 protected:
  void start(EventOptions go_options) {
    go_name_ = event_name("go");
    auto go = Event::create(registry(), go_name_, go_options);
    ASSERT_TRUE(go) << go.error().message();
    go_ = std::move(*go);
    for (int i = 0; i < 2; ++i) {
      const std::string suffix = std::to_string(i);
      auto r = Event::create(registry(), event_name("ready" + suffix));
      auto d = Event::create(registry(), event_name("done" + suffix));
      ASSERT_TRUE(r && d);
      ready_[i] = std::move(*r);
      done_[i] = std::move(*d);
      auto child = spawn_helper(
          "event_waiter",
          {directory(), go_name_, event_name("ready" + suffix), event_name("done" + suffix)});
      ASSERT_TRUE(child) << child.error().message();
      children_[i] = std::move(*child);
      guards_[i].emplace(children_[i]);
    }
    // Both children have the events open and are (about to be) waiting.
    Event* ready[2] = {&ready_[0], &ready_[1]};
    ASSERT_TRUE(wait_all(ready, kLong));
  }

  void TearDown() override {
    // Everything held goes before the fixture counts descriptors.
    for (auto& guard : guards_) guard.reset();
    for (auto& child : children_) child = Process();
    go_ = Event();
    for (auto& e : ready_) e = Event();
    for (auto& e : done_) e = Event();
    Events::TearDown();
  }

  std::string go_name_;
  Event go_;
  Event ready_[2];
  Event done_[2];
  Process children_[2];
  std::optional<testing::KillOnExit> guards_[2];
};

TEST_F(EventProcesses, AnAutoResetSetReleasesExactlyOneWaitingProcess) {
  ASSERT_NO_FATAL_FAILURE(start({}));
  go_.set();
  Event* done[2] = {&done_[0], &done_[1]};
  auto first = wait_any(done, kLong);
  ASSERT_TRUE(first) << first.error().message();
  const std::size_t second = 1 - *first;
  EXPECT_EQ(done_[second].wait(300ms).error(), errc::kWaitTimeout)
      << "the other process was released too";
  EXPECT_EQ(go_.wait(0ms).error(), errc::kWaitTimeout) << "the released child took the set";
  go_.set();
  EXPECT_TRUE(done_[second].wait(kLong));
  for (auto& child : children_) EXPECT_EQ(child.wait(kLong).value(), 0);
}

TEST_F(EventProcesses, AManualResetSetReleasesEveryWaitingProcess) {
  ASSERT_NO_FATAL_FAILURE(start({.manual_reset = true}));
  go_.set();
  Event* done[2] = {&done_[0], &done_[1]};
  EXPECT_TRUE(wait_all(done, kLong));
  for (auto& child : children_) EXPECT_EQ(child.wait(kLong).value(), 0);
  EXPECT_TRUE(go_.wait(0ms)) << "still set";
}

}  // namespace
}  // namespace sluice
