#include "os/linux/kernel_pipe.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <vector>

namespace sluice::os {
namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes(const char* text) {
  return std::as_bytes(std::span(text, std::char_traits<char>::length(text)));
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

// Restores the SIGPIPE disposition a test changed, so one test cannot change another.
class DefaultSigpipe {
 public:
  DefaultSigpipe() { saved_ = std::signal(SIGPIPE, SIG_DFL); }
  ~DefaultSigpipe() { std::signal(SIGPIPE, saved_); }
  DefaultSigpipe(const DefaultSigpipe&) = delete;
  DefaultSigpipe& operator=(const DefaultSigpipe&) = delete;

 private:
  void (*saved_)(int) = SIG_DFL;
};

TEST(KernelPipe, IsCloseOnExecUnlessAskedToBeInheritable) {
  auto plain = create_pipe(0, false);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(*inheritable(plain->read.get()));
  EXPECT_FALSE(*inheritable(plain->write.get()));
  auto shared = create_pipe(0, true);
  ASSERT_TRUE(shared);
  EXPECT_TRUE(*inheritable(shared->read.get()));
  EXPECT_TRUE(*inheritable(shared->write.get()));
  ASSERT_TRUE(set_inheritable(shared->write.get(), false));
  EXPECT_FALSE(*inheritable(shared->write.get()));
}

TEST(KernelPipe, SizesTheKernelBufferToTheCapacityRoundedUpToAPowerOfTwoPages) {
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  struct Case {
    std::size_t asked, granted;
  } cases[] = {{0, page},
               {1, page},
               {page, page},
               {page + 1, 2 * page},
               {3 * page, 4 * page},
               {32 * page - 1, 32 * page}};
  for (auto [asked, granted] : cases) {
    auto pipe = create_pipe(asked, false);
    ASSERT_TRUE(pipe);
    EXPECT_EQ(*pipe_capacity(pipe->read.get()), granted) << "asked for " << asked;
  }
}

TEST(KernelPipe, ReadsWithoutWaitingReportNoDataThenEndOfFileAsBrokenPipe) {
  auto pipe = create_pipe(0, false);
  ASSERT_TRUE(pipe);
  std::byte buffer[8];
  EXPECT_EQ(read_nowait(pipe->read.get(), buffer).error(), errc::kNoData);
  ASSERT_TRUE(write_wait(pipe->write.get(), bytes("ab")));
  EXPECT_EQ(*read_nowait(pipe->read.get(), buffer), 2u);
  pipe->write.reset();
  EXPECT_EQ(read_nowait(pipe->read.get(), buffer).error(), errc::kBrokenPipe);
}

TEST(KernelPipe, PeekCopiesMoreThanTheDefaultBufferWithoutConsuming) {
  constexpr std::size_t kSize = 200000;
  auto pipe = create_pipe(kSize, false);
  ASSERT_TRUE(pipe);
  std::vector<std::byte> data(kSize);
  for (std::size_t i = 0; i < kSize; ++i) data[i] = static_cast<std::byte>(i * 7);
  ASSERT_EQ(*write_nowait(pipe->write.get(), data), kSize);
  std::vector<std::byte> copy(kSize);
  ASSERT_EQ(*peek(pipe->read.get(), copy), kSize);
  EXPECT_EQ(copy, data);
  EXPECT_EQ(*bytes_queued(pipe->read.get()), kSize);
}

TEST(KernelPipe, WriteWithoutReaderIsNoDataAndLeavesNoSigpipeBehind) {
  DefaultSigpipe lethal;  // a leaked SIGPIPE would now end the test binary
  auto pipe = create_pipe(0, false);
  ASSERT_TRUE(pipe);
  pipe->read.reset();
  EXPECT_EQ(write_wait(pipe->write.get(), bytes("x")).error(), errc::kNoData);
  EXPECT_EQ(write_nowait(pipe->write.get(), bytes("x")).error(), errc::kNoData);
  EXPECT_FALSE(sigpipe_pending());
  EXPECT_FALSE(sigpipe_blocked());
}

TEST(KernelPipe, WriteWithoutReaderKeepsASigpipeThatWasPendingBefore) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t saved;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_only, &saved), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
  ASSERT_TRUE(sigpipe_pending());

  auto pipe = create_pipe(0, false);
  ASSERT_TRUE(pipe);
  pipe->read.reset();
  EXPECT_EQ(write_wait(pipe->write.get(), bytes("x")).error(), errc::kNoData);
  EXPECT_TRUE(sigpipe_pending()) << "the caller's own SIGPIPE was swallowed";
  EXPECT_TRUE(sigpipe_blocked()) << "the caller's mask was not restored";

  timespec no_wait{};
  while (sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

TEST(KernelPipe, WaitReadersGoneSeesTheLastReaderClose) {
  auto pipe = create_pipe(0, false);
  ASSERT_TRUE(pipe);
  EXPECT_FALSE(*wait_readers_gone(pipe->write.get(), 0us));
  pipe->read.reset();
  EXPECT_TRUE(*wait_readers_gone(pipe->write.get(), 0us));
}

}  // namespace
}  // namespace sluice::os
