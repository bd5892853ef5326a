// Clients that do not follow the handshake: silent, garbage, wrong descriptors. The server must
// keep serving honest clients at once and lose nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "os/linux/directory.hpp"
#include "os/linux/unix_socket.hpp"
#include "pipe_fixture.hpp"
#include "registry/pipe_name.hpp"
#include "registry/pipe_namespace.hpp"
#include "sluice/named_pipe.hpp"
#include "transport/handshake.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

class HostileClient : public testing::PipeTest {
 protected:
  // Connects a raw socket to the instance's listener, as a client that skips the protocol.
  os::UniqueFd raw_connection() {
    registry::PipeName parsed;
    EXPECT_EQ(registry::parse_pipe_name(pipe_name(), &parsed), registry::NameProblem::kNone);
    auto names = registry::PipeNamespace::open(directory(), 0);
    EXPECT_TRUE(names);
    auto view = names->find(parsed);
    EXPECT_TRUE(view);
    auto listeners = registry::PipeNamespace::listeners(*view, true);
    EXPECT_FALSE(listeners.empty());
    int dir = view->entries.at(listeners.front().entry).dir.get();
    // A full backlog refuses (busy): the agent has not caught up yet; that is what clients see.
    auto deadline = std::chrono::steady_clock::now() + 2s;
    for (;;) {
      auto socket = os::connect_at(dir, listeners.front().file);
      if (socket) return std::move(*socket);
      EXPECT_EQ(socket.error(), errc::kPipeBusy);
      if (std::chrono::steady_clock::now() > deadline) return {};
      std::this_thread::yield();
    }
  }
};

TEST_F(HostileClient, SilentConnectionsDoNotDelayAnHonestClient) {
  auto s = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(s);
  std::vector<os::UniqueFd> silent;
  for (int i = 0; i < 40; ++i) silent.push_back(raw_connection());  // more than are kept
  auto start = std::chrono::steady_clock::now();
  auto c = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);  // 40 × 200 ms when the agent waited
  EXPECT_EQ(s->connect().value(), ConnectStatus::kAlreadyConnected);
}

TEST_F(HostileClient, GarbageHelloIsDroppedAndTheInstanceStaysListening) {
  auto s = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(s);
  auto hung_up = [](int fd) {
    char byte;
    return os::socket_wait_readable(fd, 2000ms) && ::read(fd, &byte, 1) <= 0;
  };
  os::UniqueFd junk_sender = raw_connection();
  const char junk[] = "not a hello at all, and far too long for one";
  ASSERT_TRUE(os::send_message(junk_sender.get(), junk, sizeof junk));
  EXPECT_TRUE(hung_up(junk_sender.get()));

  os::UniqueFd wrong_descriptor = raw_connection();
  os::UniqueFd not_a_memfd(::dup(0));
  int fd = not_a_memfd.get();
  transport::Hello hello;
  ASSERT_TRUE(os::send_message(wrong_descriptor.get(), &hello, sizeof hello, &fd, 1));
  ASSERT_TRUE(os::socket_wait_readable(wrong_descriptor.get(), 2000ms));
  os::UniqueFd segment;
  auto reply = transport::receive_reply(wrong_descriptor.get(), &segment);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, static_cast<std::uint32_t>(errc::kBadPipe));
  EXPECT_FALSE(segment);  // no server segment for a client that sent a bad one
  EXPECT_TRUE(hung_up(wrong_descriptor.get()));

  auto c = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(c) << c.error().message();
}

}  // namespace
}  // namespace sluice
