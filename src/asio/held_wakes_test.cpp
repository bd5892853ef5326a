// Held wakes in the Asio adapter: on a context that runs on one thread, a handler's write wakes
// its reader once the handlers queued at that moment have run; elsewhere at once.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>

#include "asio_fixture.hpp"
#include "os/linux/held_wakes.hpp"
#include "thread_state.hpp"

namespace sluice::asio {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::AsioPipeTest;

bool wakes_can_be_held() {
  bool can = false;
  std::thread probe([&] {
    can = RegistryEvents::hold_wakes();
    RegistryEvents::release_wakes();
  });
  probe.join();
  return can;
}

// A client end whose thread sleeps in a synchronous read.
class SleepingReader {
 public:
  explicit SleepingReader(ClientEnd& end) {
    thread_ = std::thread([this, &end] {
      tid_ = sluice::testing::current_thread_id();
      std::array<std::byte, 64> buf{};
      auto r = end.read(buf);
      got_ = r.has_value() && r->bytes > 0;
      done_ = true;
    });
  }
  ~SleepingReader() { thread_.join(); }
  bool asleep() { return sluice::testing::wait_until_sleeping(tid_, 10s); }
  const std::atomic<bool>& done() const { return done_; }
  bool got() const { return got_.load(); }

 private:
  std::atomic<int> tid_{0};
  std::atomic<bool> done_{false};
  std::atomic<bool> got_{false};
  std::thread thread_;
};

class AsioHeldWakes : public AsioPipeTest {
 protected:
  // Runs `context` until `done` or 10 s pass.
  static void run_until(::asio::io_context& context, const std::atomic<bool>& done) {
    auto deadline = Clock::now() + 10s;
    while (!done.load() && Clock::now() < deadline) {
      context.restart();
      context.run_one_for(20ms);
    }
  }

  // Posts a handler that writes a reply on `server` and then looks, still inside the handler,
  // whether the reader woke within `limit`; sets `wrote` when the write completes.
  static void post_reply_and_look(::asio::io_context& context, PipeStream& server,
                                  const SleepingReader& reader, std::chrono::milliseconds limit,
                                  std::atomic<bool>& wrote, bool& woken_in_handler) {
    ::asio::post(context, [&, limit] {
      server.async_write_some(::asio::buffer("reply", 5),
                              [&](std::error_code, std::size_t) { wrote = true; });
      woken_in_handler = sluice::testing::becomes_true(reader.done(), limit);
    });
  }
};

TEST_F(AsioHeldWakes, OnAOneThreadContextAHandlersWriteWakesItsReaderAfterTheQueuedHandlers) {
  if (!wakes_can_be_held()) GTEST_SKIP() << "io_uring futex wakes are not available here";
  ::asio::io_context one(1);
  auto [s, c] = connected_ends();
  PipeStream server(one, std::move(s));
  SleepingReader reader(c);
  ASSERT_TRUE(reader.asleep());
  os::KeeperPause only_the_queued_release;  // the keeper would wake the reader regardless
  std::atomic<bool> wrote{false};
  bool woken_in_handler = true;
  post_reply_and_look(one, server, reader, 10ms, wrote, woken_in_handler);
  // On a thread of its own: its wake ring (a descriptor) goes with it, before the leak check.
  std::thread runner([&] {
    run_until(one, reader.done());
    run_until(one, wrote);
  });
  runner.join();
  EXPECT_FALSE(woken_in_handler) << "the write's wake was not held";
  EXPECT_TRUE(reader.done().load());
  EXPECT_TRUE(reader.got());
}

TEST_F(AsioHeldWakes, OnAContextOfSeveralThreadsAHandlersWriteWakesItsReaderAtOnce) {
  ::asio::io_context several;  // no concurrency hint: Asio assumes several threads
  auto [s, c] = connected_ends();
  PipeStream server(several, std::move(s));
  SleepingReader reader(c);
  ASSERT_TRUE(reader.asleep());
  std::atomic<bool> wrote{false};
  bool woken_in_handler = false;
  post_reply_and_look(several, server, reader, 10s, wrote, woken_in_handler);
  run_until(several, wrote);
  EXPECT_TRUE(woken_in_handler);
}

TEST_F(AsioHeldWakes, AWriteStartedOffTheContextsThreadWakesItsReaderAtOnce) {
  ::asio::io_context one(1);
  auto [s, c] = connected_ends();
  PipeStream server(one, std::move(s));
  SleepingReader reader(c);
  ASSERT_TRUE(reader.asleep());
  os::KeeperPause only_an_unheld_wake;
  std::atomic<bool> wrote{false};
  // Not inside run(): nothing would release a held wake while this thread waits below.
  server.async_write_some(::asio::buffer("reply", 5),
                          [&](std::error_code, std::size_t) { wrote = true; });
  EXPECT_TRUE(sluice::testing::becomes_true(reader.done(), 10s));
  run_until(one, wrote);
}

}  // namespace
}  // namespace sluice::asio
