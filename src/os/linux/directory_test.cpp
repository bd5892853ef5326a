#include "os/linux/directory.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "os/linux/shared_memory.hpp"

namespace sluice::os {
namespace {

// A private directory for one test, removed (with what the test left) at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::string("/tmp/sluice-os-dir-") + info->name() + "-" +
            std::to_string(current_process_id());
    auto fd = open_directory(path_, 0700, true);
    EXPECT_TRUE(fd);
    if (fd) fd_ = std::move(*fd);
  }
  ~ScratchDir() {
    if (auto names = list_directory(fd_.get(), "")) {
      for (const auto& n : *names) unlink_at(fd_.get(), n);
    }
    fd_.reset();
    std::remove(path_.c_str());
  }
  int fd() const { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

TEST(OsDirectory, AnUnnamedFileGetsItsNameOnceAndOnlyOnce) {
  ScratchDir dir;
  auto first = create_unnamed_file(dir.fd(), 4096, 0600);
  ASSERT_TRUE(first);
  EXPECT_EQ(*link_count(first->get()), 0u);
  EXPECT_TRUE(list_directory(dir.fd(), "")->empty());  // nobody sees it yet
  EXPECT_TRUE(*link_file_at(first->get(), dir.fd(), "name"));
  EXPECT_EQ(*link_count(first->get()), 1u);
  auto second = create_unnamed_file(dir.fd(), 4096, 0600);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*link_file_at(second->get(), dir.fd(), "name"));  // taken: no error, false
  unlink_at(dir.fd(), "name");
  EXPECT_EQ(*link_count(first->get()), 0u);
}

TEST(OsDirectory, ASharedFileMappingIsSeenThroughEveryDescriptor) {
  ScratchDir dir;
  auto fd = create_unnamed_file(dir.fd(), 4096, 0600);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(*link_file_at(fd->get(), dir.fd(), "shared"));
  auto other = open_file_at(dir.fd(), "shared", 0, false);
  ASSERT_TRUE(other);
  auto a = map_shared_file(fd->get(), 4096);
  auto b = map_shared_file(other->get(), 4096);
  ASSERT_TRUE(a && b);
  static_cast<std::atomic<std::uint32_t>*>(a->address())->store(7);
  EXPECT_EQ(static_cast<std::atomic<std::uint32_t>*>(b->address())->load(), 7u);
  // A file of another size is refused rather than mapped (a short one would SIGBUS).
  EXPECT_EQ(map_shared_file(fd->get(), 8192).error(), make_error_code(errc::kBadPipe));
}

TEST(OsDirectory, OnlyAnotherDescriptionsLockIsSeen) {
  ScratchDir dir;
  auto a = open_file_at(dir.fd(), "lock", 0600, true);
  auto b = open_file_at(dir.fd(), "lock", 0600, false);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(*lock_byte(a->get(), 0, false, false));
  EXPECT_FALSE(byte_is_locked(a->get(), 0));
  EXPECT_TRUE(byte_is_locked(b->get(), 0));
  EXPECT_FALSE(*lock_byte(b->get(), 0, true, false));  // a holds it shared
  EXPECT_TRUE(*lock_byte(b->get(), 0, false, false));
  a->reset();  // a's lock goes with its description
  EXPECT_TRUE(*lock_byte(b->get(), 0, true, false));
}

}  // namespace
}  // namespace sluice::os
