// Registry::events(): the engine's work done by an event loop of the caller's.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using testing::PipeTest;
using Clock = std::chrono::steady_clock;

class RegistryEventsTest : public PipeTest {};

bool readable_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

// A client connecting is work for the engine: the descriptor says so, and serve() called in a
// loop takes that work from the agent thread, so the accept completes on the serving thread.
// The agent serves whenever the loop pauses for a millisecond (a loaded machine may pause it),
// so of a few connections at least one must have completed here.
TEST_F(RegistryEventsTest, ServingInALoopCompletesAnAcceptOnTheServingThread) {
  RegistryEvents events = registry().events();
  ASSERT_GE(events.descriptor(), 0);
  const auto me = std::this_thread::get_id();
  int completed_here = 0;
  for (int attempt = 0; attempt < 5 && completed_here == 0; ++attempt) {
    auto server = ServerEnd::create(registry(), pipe_name());
    ASSERT_TRUE(server) << server.error().message();
    std::atomic<bool> done{false};
    std::thread::id ran_on;
    auto inline_executor = [](std::function<void()> f) { f(); };
    ASSERT_TRUE(server->async_connect(inline_executor, [&](Result<ConnectStatus> r) {
      EXPECT_TRUE(r);
      ran_on = std::this_thread::get_id();
      done = true;
    }));
    for (auto until = Clock::now() + std::chrono::milliseconds(20); Clock::now() < until;)
      (void)events.serve();  // from here on the agent stands by
    auto client =
        std::async(std::launch::async, [&] { return ClientEnd::open(registry(), pipe_name()); });
    for (auto until = Clock::now() + std::chrono::seconds(10); !done && Clock::now() < until;)
      (void)events.serve();
    ASSERT_TRUE(done);
    ASSERT_TRUE(client.get());
    if (ran_on == me) ++completed_here;
  }
  EXPECT_EQ(completed_here, 1);
}

// An event loop watching the descriptor must not spin: once the work is done and the connection
// idles, the descriptor is not readable and serve() finds nothing.
TEST_F(RegistryEventsTest, AnIdleConnectionLeavesTheDescriptorQuiet) {
  RegistryEvents events = registry().events();
  auto server = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(server);
  std::atomic<bool> done{false};
  ASSERT_TRUE(server->async_connect([](std::function<void()> f) { f(); },
                                    [&](Result<ConnectStatus>) { done = true; }));
  auto client =
      std::async(std::launch::async, [&] { return ClientEnd::open(registry(), pipe_name()); });
  for (auto until = Clock::now() + std::chrono::seconds(10); !done && Clock::now() < until;)
    (void)events.serve();
  ASSERT_TRUE(done);
  auto connected = client.get();  // kept open: its close would be work again
  ASSERT_TRUE(connected);
  while (events.serve() > 0) {
  }
  EXPECT_FALSE(readable_within(events.descriptor(), 50));
  EXPECT_EQ(events.serve(), 0u);
}

}  // namespace
}  // namespace sluice
