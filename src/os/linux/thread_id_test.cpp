// os::current_thread_id: cached per thread, and still right in a fork's child.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "os/linux/directory.hpp"

namespace sluice::os {
namespace {

std::uint32_t kernel_thread_id() { return static_cast<std::uint32_t>(::gettid()); }

TEST(ThreadId, IsTheKernelIdOfEachThreadAndOfAForkedChildsThread) {
  ASSERT_EQ(current_thread_id(), kernel_thread_id());
  ASSERT_EQ(current_thread_id(), kernel_thread_id());  // the cached answer
  std::uint32_t other = 0;
  bool other_right = false;
  std::thread([&] {
    other = current_thread_id();
    other_right = other == kernel_thread_id();
  }).join();
  EXPECT_TRUE(other_right);
  EXPECT_NE(other, current_thread_id());
  // The child runs a copy of this thread, whose id was cached, under a new id.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(current_thread_id() == kernel_thread_id() ? 0 : 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child saw its parent's thread id";
}

}  // namespace
}  // namespace sluice::os
