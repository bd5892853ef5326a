// Engine::drive: a thread serving the engine in place of the agent thread (leader/follower), the
// agent standing by and taking over again, wake().
#include "core/engine.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "api/engine_access.hpp"
#include "freezer.hpp"
#include "pipe_fixture.hpp"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A pipe(2) watched by the engine: each byte written is one event; the handler takes it and
// records which thread ran it.
class Bell final : public Watched {
 public:
  explicit Bell(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_ = fds[0];
    write_ = fds[1];
  }
  ~Bell() override {
    engine_->unwatch(read_, key_);
    ::close(read_);
    ::close(write_);
  }
  void start(const std::shared_ptr<Bell>& self) {
    auto key = engine_->watch(read_, self);
    ASSERT_TRUE(key);
    key_ = *key;
  }
  void ring() {
    char b = 1;
    EXPECT_EQ(::write(write_, &b, 1), 1);
  }
  void on_ready(std::uint64_t, bool readable, bool) override {
    char b[16];
    if (!readable || ::read(read_, b, sizeof b) <= 0) return;
    // Serving is never nested, whoever serves (the agent or a driver).
    nested_drive_refused_ = nested_drive_refused_ && !engine_->drive(0);
    last_thread_.store(std::this_thread::get_id());
    last_pthread_.store(::pthread_self());
    last_tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    ++handled_;
  }
  // Waits until `n` events were handled; false after `limit`.
  bool wait_handled(int n, std::chrono::milliseconds limit) {
    auto end = Clock::now() + limit;
    while (handled_.load() < n) {
      if (Clock::now() > end) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  std::atomic<int> handled_{0};
  std::atomic<std::thread::id> last_thread_{};
  std::atomic<pthread_t> last_pthread_{};
  std::atomic<pid_t> last_tid_{0};
  std::atomic<bool> nested_drive_refused_{true};

 private:
  std::shared_ptr<Engine> engine_;
  int read_ = -1;
  int write_ = -1;
  std::uint64_t key_ = 0;
};

class EngineDrive : public testing::PipeTest {};

TEST_F(EngineDrive, AThreadInDriveRunsTheHandlersItselfAndTheAgentServesWhenItStops) {
  const auto& engine = EngineAccess::engine(registry());
  auto bell = std::make_shared<Bell>(engine);
  bell->start(bell);
  // The driver serves 20 events one at a time; each is rung while it is (very likely) in the
  // poller. A busy machine may deschedule it for longer than the grace period, when the agent
  // takes some back, so only "at least one on the driver" is required.
  std::atomic<bool> stop{false};
  std::atomic<std::thread::id> driver_id{};
  std::atomic<int> drives{0};
  std::thread driver([&] {
    driver_id = std::this_thread::get_id();
    while (!stop.load()) {
      if (engine->drive(100)) ++drives;
    }
  });
  int on_driver = 0;
  for (int i = 0; i < 20; ++i) {
    int before = drives.load();
    auto end = Clock::now() + 5s;
    while (drives.load() == before && Clock::now() < end) std::this_thread::sleep_for(1ms);
    bell->ring();
    ASSERT_TRUE(bell->wait_handled(i + 1, 10s)) << "event " << i << " never handled";
    if (bell->last_thread_.load() == driver_id.load()) ++on_driver;
  }
  stop = true;
  driver.join();
  EXPECT_GE(on_driver, 1);
  // Nobody drives now: the agent takes the descriptors back after the grace period.
  bell->ring();
  ASSERT_TRUE(bell->wait_handled(21, 10s));
  EXPECT_NE(bell->last_thread_.load(), driver_id.load());
  EXPECT_NE(bell->last_thread_.load(), std::this_thread::get_id());
  EXPECT_TRUE(bell->nested_drive_refused_.load());
}

TEST_F(EngineDrive, WakeEndsADriveAndAWakeBeforeADriveMakesItReturnAtOnce) {
  const auto& engine = EngineAccess::engine(registry());
  auto waiting = std::async(std::launch::async, [&] { return engine->drive(-1); });
  // Whether the wake comes before or while it waits, the drive returns.
  std::this_thread::sleep_for(50ms);
  engine->wake();
  if (waiting.wait_for(10s) != std::future_status::ready) {
    // Don't hang the suite: keep waking until it returns, then fail.
    while (waiting.wait_for(10ms) != std::future_status::ready) engine->wake();
    FAIL() << "a wake() did not end drive(-1)";
  }
  EXPECT_TRUE(waiting.get());
  engine->wake();
  auto start = Clock::now();
  auto at_once = std::async(std::launch::async, [&] { return engine->drive(5000); });
  ASSERT_EQ(at_once.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(at_once.get());
  EXPECT_LT(Clock::now() - start, 4s);
}

// A thread that decides to drive reads a ticket; a wake() after that is meant for it, even when
// another drive (here: the next drive(0)) takes the wake-up before this thread's turn comes.
TEST_F(EngineDrive, AWakeAfterTheTicketEndsTheDriveEvenWhenAnotherDriveTookIt) {
  const auto& engine = EngineAccess::engine(registry());
  const std::uint64_t ticket = engine->wake_ticket();
  engine->wake();
  ASSERT_TRUE(engine->drive(0));  // another driver's turn: it takes the wake-up
  auto start = Clock::now();
  auto mine = std::async(std::launch::async, [&] { return engine->drive(5000, nullptr, ticket); });
  ASSERT_EQ(mine.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(mine.get());
  EXPECT_LT(Clock::now() - start, 4s) << "the wake-up meant for this drive was lost";
}

TEST_F(EngineDrive, ADriveWithATimeOutReturnsAfterIt) {
  const auto& engine = EngineAccess::engine(registry());
  auto start = Clock::now();
  // The first call may return early (it took the descriptors from the agent by waking it);
  // calls that find nothing last their time-out.
  int calls = 0;
  while (Clock::now() - start < 200ms && calls < 1000) {
    ASSERT_TRUE(engine->drive(50));
    ++calls;
  }
  EXPECT_LE(calls, 100);  // not a busy loop: most calls waited
}

// The system call a thread of this process is in ("7" poll, "232" epoll_wait; "running" if none).
std::string current_system_call(pid_t tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string number;
  file >> number;
  return number;
}

// A driver must not depend on the agent thread being scheduled: on a busy machine that took
// milliseconds each time a driver came back from its work (a 256-client echo server slept ~15 %
// of its time there). Here the agent waits for events but cannot run at all.
TEST_F(EngineDrive, ADriverTakesOverFromAWaitingAgentThatCannotRun) {
  const auto& engine = EngineAccess::engine(registry());
  auto bell = std::make_shared<Bell>(engine);
  bell->start(bell);
  bell->ring();  // nobody drives: the agent handles it, which tells us its thread
  ASSERT_TRUE(bell->wait_handled(1, 10s));
  ASSERT_NE(bell->last_thread_.load(), std::this_thread::get_id());
  pid_t agent = bell->last_tid_.load();
  // Until it waits for the next event again (the grace period after its batch is short).
  auto end = Clock::now() + 10s;
  for (std::string call = current_system_call(agent); call != "7" && call != "232";
       call = current_system_call(agent)) {
    ASSERT_LT(Clock::now(), end) << "the agent never waited again (in system call " << call << ")";
    std::this_thread::yield();
  }
  testing::Freezer freezer;
  freezer.freeze(bell->last_pthread_.load());
  // Thaws the agent after 3 s whatever happens: a drive() waiting for it would never return.
  std::promise<void> done;
  std::thread thaw([&freezer, finished = done.get_future()] {
    (void)finished.wait_for(3s);
    freezer.release();
  });
  bell->ring();
  auto start = Clock::now();
  while (bell->handled_.load() < 2 && Clock::now() - start < 3s) (void)engine->drive(100);
  auto took = Clock::now() - start;
  done.set_value();
  thaw.join();
  ASSERT_EQ(bell->handled_.load(), 2) << "the event waited for the frozen agent";
  EXPECT_EQ(bell->last_thread_.load(), std::this_thread::get_id());
  EXPECT_LT(took, 2s);
}

}  // namespace
}  // namespace sluice::core
