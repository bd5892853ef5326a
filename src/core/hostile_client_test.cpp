// Clients that do not follow the handshake: silent, garbage, wrong descriptors. The server must
// keep serving honest clients at once and lose nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "os/linux/directory.hpp"
#include "os/linux/futex.hpp"
#include "os/linux/unix_socket.hpp"
#include "pipe_fixture.hpp"
#include "registry/pipe_name.hpp"
#include "registry/pipe_namespace.hpp"
#include "shm/channel.hpp"
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

std::chrono::nanoseconds cpu_time(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

TEST_F(HostileClient, APeerThatOnlyRingsCannotKeepAReaderBusy) {
  // A client that keeps changing its data word and waking the server, with no data ever: the
  // server's read must sleep between looks, not spin (before: 96% of a CPU, for as long as the
  // client went on).
  auto s = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(s);
  os::UniqueFd socket = raw_connection();
  auto segment = shm::Channel::create(4096);
  ASSERT_TRUE(segment);
  transport::Hello hello;
  hello.desired_access = rights::kRead | rights::kWrite;
  ASSERT_TRUE(transport::send_hello(socket.get(), hello, segment->own_fd()));
  ASSERT_TRUE(os::socket_wait_readable(socket.get(), 2000ms));
  os::UniqueFd server_segment;
  auto reply = transport::receive_reply(socket.get(), &server_segment);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 0u);

  std::atomic<bool> reading{false};
  clockid_t reader_clock{};
  std::error_code read_error;
  std::thread reader([&] {
    ::pthread_getcpuclockid(::pthread_self(), &reader_clock);
    reading = true;
    std::byte buf[64];
    auto r = s->read(buf);
    read_error = r ? std::error_code() : r.error();
  });
  while (!reading) std::this_thread::yield();
  auto& word = segment->own().data_seq;
  auto rings_until = std::chrono::steady_clock::now() + 100ms;  // the reader settles meanwhile
  while (std::chrono::steady_clock::now() < rings_until) {
    word.fetch_add(1);
    os::futex_wake_all(&word, true);
  }
  auto cpu_before = cpu_time(reader_clock);
  auto wall_before = std::chrono::steady_clock::now();
  rings_until = wall_before + 400ms;
  while (std::chrono::steady_clock::now() < rings_until) {
    word.fetch_add(1);
    os::futex_wake_all(&word, true);
  }
  auto busy = cpu_time(reader_clock) - cpu_before;
  auto wall = std::chrono::steady_clock::now() - wall_before;
  socket.reset();  // the client goes: the read ends
  reader.join();
  EXPECT_EQ(read_error, errc::kBrokenPipe);
  std::printf(
      "reader busy %lld us of %lld us\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(busy).count()),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(wall).count()));
  EXPECT_LT(busy, wall / 10);
}

}  // namespace
}  // namespace sluice
