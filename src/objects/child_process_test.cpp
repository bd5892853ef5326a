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

// A child `sh -c script` with a relay of a FakeEnd as its stdin (into the child) or stdout.
class ChildWithRelay : public ::testing::Test {
 protected:
  // Starts it and waits for its exit to be signalled.
  void run(const std::string& script, bool child_reads) {
    auto relay = StdioRelay::create(end_, child_reads);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = *relay;
    ChildOptions options;
    options.argv = {"sh", "-c", script};
    (child_reads ? options.stdio.in : options.stdio.out) = relay_->child_fd();
    options.inherit_fds = false;
    options.relays = {relay_};
    auto child = ChildProcess::start(std::move(options));
    ASSERT_TRUE(child) << child.error().message();
    child_ = *child;
    ASSERT_TRUE(wait_signalled(*child_));
  }

  const std::shared_ptr<FakeEnd> end_ = std::make_shared<FakeEnd>();
  std::shared_ptr<StdioRelay> relay_;
  std::shared_ptr<ChildProcess> child_;
};

TEST_F(ChildWithRelay, ItsExitIsSignalledOnlyOnceItsRelayFromTheChildHasPassedOnItsOutput) {
  ASSERT_NO_FATAL_FAILURE(run("echo hello; exit 3", false));
  EXPECT_EQ(end_->written(), "hello\n") << "the output is there when the exit is signalled";
  EXPECT_EQ(child_->exit_code(), 3u);
  EXPECT_TRUE(relay_->finished());
}

TEST_F(ChildWithRelay, ARelayIntoAnExitedChildStopsWaitingForData) {
  ASSERT_NO_FATAL_FAILURE(run("exit 0", true));
  EXPECT_EQ(child_->exit_code(), 0u);
  // The watcher cancels the relay's read of the end until the relay notices.
  auto deadline = std::chrono::steady_clock::now() + kLong;
  while (!relay_->finished() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_TRUE(relay_->finished());
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
