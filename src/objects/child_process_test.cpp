// objects::ChildProcess: a child's exit is signalled after its relays from the child have passed
// on what it wrote, and relays into an exited child stop waiting for data.
#include "objects/child_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace sluice::objects {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;  // a bound for what must happen, never reached when it does

// An end that keeps what is written to it, and whose reads wait until they are cancelled.
class FakeEnd final : public RelayEnd {
 public:
  Result<std::size_t> read(std::span<std::byte>) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return cancelled_; });
    cancelled_ = false;
    return errc::kOperationAborted;
  }
  Result<void> write(std::span<const std::byte> data) override {
    std::lock_guard lock(mu_);
    written_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  void cancel_read(std::uint32_t) noexcept override {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }
  std::string written() {
    std::lock_guard lock(mu_);
    return written_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;  // guarded by mu_
  std::string written_;     // guarded by mu_
};

bool wait_signalled(ChildProcess& child) {
  Waitable* list[] = {&child};
  return wait_for_objects(list, false, Waiter::Clock::now() + kLong).has_value();
}

TEST(ChildProcess, ItsExitIsSignalledOnlyOnceItsRelayFromTheChildHasPassedOnItsOutput) {
  auto end = std::make_shared<FakeEnd>();
  auto relay = StdioRelay::create(end, false);
  ASSERT_TRUE(relay) << relay.error().message();
  ChildOptions options;
  options.argv = {"sh", "-c", "echo hello; exit 3"};
  options.stdio.out = (*relay)->child_fd();
  options.inherit_fds = false;
  options.relays = {*relay};
  auto child = ChildProcess::start(std::move(options));
  ASSERT_TRUE(child) << child.error().message();
  ASSERT_TRUE(wait_signalled(**child));
  EXPECT_EQ(end->written(), "hello\n") << "the output is there when the exit is signalled";
  EXPECT_EQ((*child)->exit_code(), 3u);
  EXPECT_TRUE((*relay)->finished());
}

TEST(ChildProcess, ARelayIntoAnExitedChildStopsWaitingForData) {
  auto end = std::make_shared<FakeEnd>();
  auto relay = StdioRelay::create(end, true);
  ASSERT_TRUE(relay) << relay.error().message();
  ChildOptions options;
  options.argv = {"sh", "-c", "exit 0"};
  options.stdio.in = (*relay)->child_fd();
  options.inherit_fds = false;
  options.relays = {*relay};
  auto child = ChildProcess::start(std::move(options));
  ASSERT_TRUE(child) << child.error().message();
  ASSERT_TRUE(wait_signalled(**child));
  EXPECT_EQ((*child)->exit_code(), 0u);
  // The watcher cancels the relay's read of the end until the relay notices.
  auto deadline = std::chrono::steady_clock::now() + kLong;
  while (!(*relay)->finished() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_TRUE((*relay)->finished());
}

TEST(ChildProcess, TerminateSetsTheCodeAndFailsOnceTheExitIsSignalled) {
  ChildOptions options;
  options.argv = {"sleep", "60"};
  auto child = ChildProcess::start(std::move(options));
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_EQ((*child)->exit_code(), std::nullopt);
  ASSERT_TRUE((*child)->terminate(0xC000013Au));  // STATUS_CONTROL_C_EXIT
  ASSERT_TRUE(wait_signalled(**child));
  EXPECT_EQ((*child)->exit_code(), 0xC000013Au);
  EXPECT_EQ((*child)->terminate(1).error(), errc::kAccessDenied);
  EXPECT_TRUE((*child)->kill()) << "killing an exited child is harmless";
}

}  // namespace
}  // namespace sluice::objects
