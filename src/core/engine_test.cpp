// Engine::drive: a thread serving the engine in place of the agent thread (leader/follower), the
// agent standing by and taking over again, wake().
#include "core/engine.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

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
  std::atomic<bool> nested_drive_refused_{true};

 private:
  std::shared_ptr<Engine> engine_;
  int read_ = -1;
  int write_ = -1;
  std::uint64_t key_ = 0;
};

class EngineDrive : public testing::PipeTest {};

TEST_F(EngineDrive, AThreadInDriveRunsTheHandlersItselfAndTheAgentServesWhenItStops) {
  const auto& engine = registry().engine();
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
  const auto& engine = registry().engine();
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

TEST_F(EngineDrive, ADriveWithATimeOutReturnsAfterIt) {
  const auto& engine = registry().engine();
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

}  // namespace
}  // namespace sluice::core
