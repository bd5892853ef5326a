#include "pipe_fixture.hpp"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace sluice::testing {

int open_descriptor_count() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return -1;
  while (dirent* e = ::readdir(dir)) count += e->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory stream itself
}

void PipeTest::SetUp() {
  descriptors_at_start_ = open_descriptor_count();
  char pattern[] = "/tmp/sluice-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  directory_ = pattern;
  auto reg = Registry::open(directory_);
  ASSERT_TRUE(reg) << reg.error().message();
  registry_.emplace(std::move(*reg));
}

void PipeTest::TearDown() {
  registry_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
  // The agent thread may still hold the last reference to an end for the event it is handling
  // (a peer's hang-up); it lets go within microseconds. Leaks stay leaks past the deadline.
  // The count judged is the one that ended the wait: counting again could catch a descriptor
  // another thread holds for an instant (a file it reads), as CI's ASan run once did.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int open = open_descriptor_count();
  while (open != descriptors_at_start_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    open = open_descriptor_count();
  }
  EXPECT_EQ(open, descriptors_at_start_) << "descriptor leak";
}

std::string PipeTest::pipe_name(std::string_view suffix) const {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("\\\\.\\pipe\\") + info->test_suite_name() + "." + info->name() + "-" +
         std::string(suffix);
}

ServerEnd PipeTest::sized_server(std::uint32_t quota, PipeType type) {
  ServerOptions o;
  o.type = type;
  o.in_buffer_size = quota;
  o.out_buffer_size = quota;
  auto s = ServerEnd::create(registry(), pipe_name(), o);
  EXPECT_TRUE(s) << s.error().message();
  return s ? std::move(*s) : ServerEnd{};
}

}  // namespace sluice::testing
