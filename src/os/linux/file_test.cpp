#include "os/linux/file.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "os/linux/directory.hpp"
#include "os/linux/kernel_pipe.hpp"
#include "os/linux/thread.hpp"

namespace sluice::os {
namespace {

std::span<const std::byte> bytes(const char* text) {
  return std::as_bytes(std::span(text, std::char_traits<char>::length(text)));
}

std::string scratch_path(const char* suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("/tmp/sluice-os-") + info->name() + "-" + suffix + "-" +
         std::to_string(current_process_id());
}

TEST(OsFile, OpenFileReportsEachFailureAsItsWin32Error) {
  std::string path = scratch_path("f");
  (void)remove_file(path);
  FileOpen read_only{.read = true};
  EXPECT_EQ(open_file(path, read_only).error(), make_error_code(errc::kFileNotFound));
  EXPECT_EQ(open_file("/tmp/no-such-dir-sluice/x", read_only).error(),
            make_error_code(errc::kFileNotFound));
  FileOpen create{.write = true, .create = true, .exclusive = true};
  auto fd = open_file(path, create);
  ASSERT_TRUE(fd);
  EXPECT_FALSE(is_directory(fd->get()));
  EXPECT_FALSE(is_stream(fd->get()));
  EXPECT_EQ(open_file(path, create).error(), make_error_code(errc::kAlreadyExists));
  EXPECT_EQ(open_file(path + "/below", read_only).error(), make_error_code(errc::kPathNotFound));
  EXPECT_EQ(open_file("/tmp", FileOpen{.write = true}).error(),
            make_error_code(errc::kAccessDenied));  // a directory
  auto dir = open_file("/tmp", read_only);
  ASSERT_TRUE(dir);
  EXPECT_TRUE(is_directory(dir->get()));
  EXPECT_TRUE(directory_exists("/tmp"));
  EXPECT_FALSE(directory_exists(path));
  EXPECT_TRUE(remove_file(path));
  EXPECT_EQ(remove_file(path).error(), make_error_code(errc::kFileNotFound));
}

TEST(OsFile, ReadsAndWritesAtThePositionOrAtAnOffset) {
  std::string path = scratch_path("rw");
  auto fd = open_file(path, FileOpen{.read = true, .write = true, .create = true});
  ASSERT_TRUE(fd);
  ASSERT_EQ(*write_file_all(fd->get(), bytes("hello world"), std::nullopt), 11u);
  ASSERT_EQ(*write_file_all(fd->get(), bytes("W"), 6), 1u);  // leaves the position at 11
  ASSERT_EQ(*write_file_all(fd->get(), bytes("!"), std::nullopt), 1u);
  char buf[32] = {};
  auto all = std::as_writable_bytes(std::span(buf));
  EXPECT_EQ(*read_file(fd->get(), all, 0), 12u);
  EXPECT_EQ(std::string(buf, 12), "hello World!");
  EXPECT_EQ(*read_file(fd->get(), all, std::nullopt), 0u);  // at the end
  EXPECT_EQ(*read_file(fd->get(), all.first(5), 6), 5u);
  EXPECT_EQ(std::string(buf, 5), "World");
  EXPECT_TRUE(sync_file(fd->get()));
  fd->reset();
  EXPECT_TRUE(remove_file(path));
}

TEST(OsFile, AppendAndTruncateDoWhatTheySay) {
  std::string path = scratch_path("at");
  auto fd = open_file(path, FileOpen{.write = true, .create = true});
  ASSERT_TRUE(fd);
  ASSERT_TRUE(write_file_all(fd->get(), bytes("abc"), std::nullopt));
  auto app = open_file(path, FileOpen{.write = true, .append = true});
  ASSERT_TRUE(app);
  ASSERT_TRUE(write_file_all(app->get(), bytes("def"), std::nullopt));
  auto rd = open_file(path, FileOpen{.read = true});
  char buf[16] = {};
  EXPECT_EQ(*read_file(rd->get(), std::as_writable_bytes(std::span(buf)), 0), 6u);
  EXPECT_EQ(std::string(buf, 6), "abcdef");
  ASSERT_TRUE(open_file(path, FileOpen{.write = true, .truncate = true}));
  EXPECT_EQ(*read_file(rd->get(), std::as_writable_bytes(std::span(buf)), 0), 0u);
  EXPECT_TRUE(remove_file(path));
}

TEST(OsFile, PipesAreStreamsWithNothingToSyncAndGiveKeysOneByteAtATime) {
  auto pipe = create_pipe(0, false);
  ASSERT_TRUE(pipe);
  EXPECT_TRUE(is_stream(pipe->read.get()));
  EXPECT_TRUE(sync_file(pipe->write.get()));
  ASSERT_TRUE(write_file_all(pipe->write.get(), bytes("xy"), std::nullopt));
  pipe->write.reset();
  EXPECT_EQ(read_key(pipe->read.get()), std::optional<unsigned char>('x'));
  EXPECT_EQ(read_key(pipe->read.get()), std::optional<unsigned char>('y'));
  EXPECT_EQ(read_key(pipe->read.get()), std::nullopt);  // end of input
}

TEST(OsFile, TypesAndAccessModesAreThoseOfTheOpenDescriptor) {
  std::string path = scratch_path("t");
  (void)remove_file(path);
  auto file = open_file(path, FileOpen{.read = true, .write = true, .create = true});
  ASSERT_TRUE(file);
  (void)remove_file(path);  // the descriptor keeps the file
  EXPECT_EQ(file_type(file->get()).value(), FileType::kRegular);
  auto both = access_mode(file->get()).value();
  EXPECT_TRUE(both.read && both.write);
  auto dir = open_file("/tmp", FileOpen{.read = true});
  ASSERT_TRUE(dir);
  EXPECT_EQ(file_type(dir->get()).value(), FileType::kDirectory);
  auto null = open_file("/dev/null", FileOpen{.write = true});
  ASSERT_TRUE(null);
  EXPECT_EQ(file_type(null->get()).value(), FileType::kCharacterDevice);
  auto write_only = access_mode(null->get()).value();
  EXPECT_TRUE(!write_only.read && write_only.write);
  auto pipe = create_pipe(0, false);
  ASSERT_TRUE(pipe);
  EXPECT_EQ(file_type(pipe->read.get()).value(), FileType::kFifo);
  auto read_only = access_mode(pipe->read.get()).value();
  EXPECT_TRUE(read_only.read && !read_only.write);
  EXPECT_EQ(file_type(-1).error(), make_error_code(errc::kInvalidHandle));
  EXPECT_EQ(access_mode(-1).error(), make_error_code(errc::kInvalidHandle));
}

TEST(OsFile, TheExecutablePathIsAbsolute) {
  auto path = executable_path();
  ASSERT_TRUE(path);
  EXPECT_EQ(path->front(), '/');
}

std::atomic<int> g_thread_result{0};

void* run_and_exit(void* arg) {
  g_thread_result.store(*static_cast<int*>(arg));
  g_thread_result.notify_all();
  exit_thread();
}

TEST(OsThread, ADetachedThreadRunsItsEntryAndMayExitEarly) {
  int value = 42;
  ASSERT_TRUE(start_detached_thread(run_and_exit, &value, 0));
  g_thread_result.wait(0);
  EXPECT_EQ(g_thread_result.load(), 42);
}

}  // namespace
}  // namespace sluice::os
