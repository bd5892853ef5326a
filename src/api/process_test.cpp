#include "sluice/process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helper_process.hpp"
#include "objects/exit_code.hpp"
#include "sluice/anonymous_pipe.hpp"
#include "sluice/event.hpp"
#include "thread_state.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;  // a bound for what must happen, never reached when it does

std::span<const std::byte> bytes(const std::string& text) { return std::as_bytes(std::span(text)); }

// Reads `end` until the last writer is gone. Bounded: if that takes longer than 10 s the child
// is killed, which closes its ends and frees the reader, and the result says so.
std::string read_until_broken(AnonReadEnd& end, Process& child) {
  auto reader = std::async(std::launch::async, [&] {
    std::string all;
    std::vector<std::byte> buffer(4096);
    for (;;) {
      auto n = end.read(buffer);
      if (!n)
        return n.error() == errc::kBrokenPipe ? all : all + "<error " + n.error().message() + ">";
      all.append(reinterpret_cast<const char*>(buffer.data()), *n);
    }
  });
  if (reader.wait_for(10s) != std::future_status::ready) {
    (void)child.kill();
    return reader.get() + "<timed out>";
  }
  return reader.get();
}

TEST(CurrentProcess, IdsAreTheKernelsProcessAndThreadIds) {
  EXPECT_EQ(current_process_id(), static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(current_thread_id(), static_cast<std::uint32_t>(::gettid()));
  std::uint32_t other = 0, other_kernel = 0, other_process = 0;
  std::thread([&] {
    other = current_thread_id();
    other_kernel = static_cast<std::uint32_t>(::gettid());
    other_process = current_process_id();
  }).join();
  EXPECT_EQ(other, other_kernel);
  EXPECT_NE(other, current_thread_id());
  EXPECT_EQ(other_process, current_process_id());
}

TEST(CurrentProcess, TheExecutablePathIsTheTestProgram) {
  auto path = executable_path();
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, std::filesystem::read_symlink("/proc/self/exe").string());
  EXPECT_TRUE(std::filesystem::path(*path).is_absolute());
}

TEST(Process, SearchesPathAndReportsTheExitCode) {
  auto child = Process::spawn({.argv = {"sh", "-c", "exit 7"}});
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_GT(child->pid(), 0u);
  EXPECT_EQ(child->wait(10s).value(), 7);
  EXPECT_EQ(child->wait(0ms).value(), 7) << "a reaped child keeps its exit code";
}

TEST(Process, SpawnOfAMissingProgramFailsWithFileNotFound) {
  EXPECT_EQ(Process::spawn({.argv = {"sluice-no-such-program"}}).error(), errc::kFileNotFound);
  EXPECT_EQ(Process::spawn({.argv = {"./sluice/no/such/program"}}).error(), errc::kFileNotFound);
}

TEST(Process, SpawnWithoutAProgramFailsWithInvalidParameter) {
  EXPECT_EQ(Process::spawn({}).error(), errc::kInvalidParameter);
}

TEST(Process, WaitTimesOutWhileTheChildRunsAndKillReportsTheSignal) {
  auto child = Process::spawn({.argv = {"sleep", "60"}});
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_EQ(child->wait(50ms).error(), errc::kWaitTimeout);
  ASSERT_TRUE(child->kill());
  EXPECT_EQ(child->wait(10s).value(), 128 + 9);
  EXPECT_TRUE(child->kill()) << "killing a finished child is harmless";
}

TEST(Process, ChildSortReadsStdinFromOnePipeAndWritesStdoutToAnother) {
  auto to_child = AnonymousPipe::create();
  auto from_child = AnonymousPipe::create();
  ASSERT_TRUE(to_child && from_child);
  auto child = Process::spawn({.argv = {"sort"},
                               .stdin_fd = to_child->read.native_handle(),
                               .stdout_fd = from_child->write.native_handle(),
                               .inherit_handles = false});
  ASSERT_TRUE(child) << child.error().message();
  // The parent's copies must go, or sort never sees end of input and we never see its end.
  to_child->read.close();
  from_child->write.close();

  ASSERT_TRUE(to_child->write.write(bytes("pear\napple\nfig\n")));
  to_child->write.close();
  EXPECT_EQ(read_until_broken(from_child->read, *child), "apple\nfig\npear\n");
  EXPECT_EQ(child->wait(10s).value(), 0);
}

TEST(Process, StdioSourcesThatAreThemselvesStandardDescriptorsAreNotClobbered) {
  // The child's stdout is the pipe and its stderr our fd 1. Copying the pipe onto 1 first and
  // then 1 onto 2 would send stderr into the pipe too.
  auto out = AnonymousPipe::create();
  ASSERT_TRUE(out);
  auto child = Process::spawn(
      {.argv = {"sh", "-c", "echo to-stdout; echo '(expected line from a sluice test child)' >&2"},
       .stdout_fd = out->write.native_handle(),
       .stderr_fd = 1,
       .inherit_handles = false});
  ASSERT_TRUE(child) << child.error().message();
  out->write.close();
  EXPECT_EQ(read_until_broken(out->read, *child), "to-stdout\n");
  EXPECT_EQ(child->wait(10s).value(), 0);
}

// Ends with the code in args[1], by std::exit (args[0] "exit") or a return from main.
SLUICE_TEST_HELPER(exit_with) {
  auto code = static_cast<int>(static_cast<std::uint32_t>(std::stoul(args.at(1), nullptr, 0)));
  if (args.at(0) == "exit") std::exit(code);
  return code;
}

TEST(Process, ASluiceChildsExitCodeArrivesWithAll32Bits) {
  for (const char* how : {"exit", "return"}) {
    for (std::uint32_t code : {300u, 0xC0000005u, 0xFFFFFFFFu, 7u}) {
      auto child = testing::spawn_helper("exit_with", {how, std::to_string(code)});
      ASSERT_TRUE(child) << child.error().message();
      auto got = child->wait(10s);
      ASSERT_TRUE(got) << got.error().message();
      EXPECT_EQ(static_cast<std::uint32_t>(*got), code) << how;
    }
  }
}

TEST(Process, AChildThatIsNotASluiceProgramReportsTheLow8Bits) {
  auto child = Process::spawn({.argv = {"sh", "-c", "exit 300"}});
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_EQ(child->wait(10s).value(), 300 & 255);
}

TEST(Process, AChildsExitWakesAWaitAnyOverAnEventAndTheProcess) {
  auto child = Process::spawn({.argv = {"sleep", "60"}});
  ASSERT_TRUE(child) << child.error().message();
  testing::KillOnExit cleanup(*child);
  Event event = Event::unnamed();
  Waitable* both[] = {&event, &*child};
  EXPECT_EQ(wait_any(both, 20ms).error(), errc::kWaitTimeout);
  event.set();
  EXPECT_EQ(wait_any(both, kLong).value(), 0u) << "the event, while the child runs";
  EXPECT_EQ(wait_any(both, 0ms).error(), errc::kWaitTimeout) << "the auto-reset set was taken";

  // Another thread waits; the child's exit, not a time-out, ends its wait.
  auto waiter = std::async(std::launch::async, [&] { return wait_any(both, kLong); });
  ASSERT_TRUE(child->kill());
  auto woken = waiter.get();
  ASSERT_TRUE(woken) << woken.error().message();
  EXPECT_EQ(*woken, 1u);
  EXPECT_EQ(child->wait(0ms).value(), 128 + 9);
  event.set();
  EXPECT_TRUE(wait_all({&event, &*child}, 0ms)) << "an exited child stays signalled";
}

TEST(Process, WaitsRefuseAnEmptyProcess) {
  Process empty;
  EXPECT_EQ(empty.pid(), 0u);
  EXPECT_EQ(empty.wait(0ms).error(), errc::kInvalidHandle);
  EXPECT_EQ(empty.kill().error(), errc::kInvalidHandle);
  Waitable* list[] = {&empty};
  EXPECT_EQ(wait_any(list, 0ms).error(), errc::kInvalidHandle);
}

TEST(Process, ManyChildrenAreWatchedWithoutAThreadEach) {
  constexpr int kChildren = 64;
  // The watcher thread is started with the first child.
  auto first = Process::spawn({.argv = {"sh", "-c", "exit 0"}});
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->wait(kLong).value(), 0);
  const std::size_t before = testing::thread_count();

  std::vector<Process> children;
  for (int i = 0; i < kChildren; ++i) {
    auto child = Process::spawn({.argv = {"sleep", "60"}});
    ASSERT_TRUE(child) << child.error().message();
    children.push_back(std::move(*child));
  }
  EXPECT_LE(testing::thread_count(), before + 2)
      << "threads with " << kChildren << " children running";
  for (auto& child : children) ASSERT_TRUE(child.kill());
  std::vector<Waitable*> all;
  for (auto& child : children) all.push_back(&child);
  EXPECT_TRUE(wait_all(all, kLong));
  for (auto& child : children) EXPECT_EQ(child.wait(0ms).value(), 128 + 9);
  EXPECT_LE(testing::thread_count(), before + 2);
}

// Prints "NUMBER TARGET" for each open descriptor, one per line (targets of pipes look like
// "pipe:[INODE]", so numbers reused by the child cannot pass for an inherited pipe).
// The channel its 32-bit exit code goes back through (objects/exit_code.hpp) is left out.
SLUICE_TEST_HELPER(list_fds) {
  const std::string exit_code_fd = std::to_string(objects::adopted_exit_code_fd());
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    if (entry.path().filename() == exit_code_fd) continue;
    std::error_code ignored;
    std::printf("%s %s\n", entry.path().filename().c_str(),
                std::filesystem::read_symlink(entry.path(), ignored).c_str());
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

using FdTable = std::map<int, std::string>;

std::string target_of(int fd) {
  return std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd)).string();
}

// Whether the child had `fd` open as the same file as we have it.
bool has_same(const FdTable& child, int fd) {
  auto it = child.find(fd);
  return it != child.end() && it->second == target_of(fd);
}

// Whether the child had the pipe behind `fd` open under any number.
bool has_pipe_of(const FdTable& child, int fd) {
  std::string target = target_of(fd);
  for (const auto& [number, what] : child) {
    if (what == target) return true;
  }
  return false;
}

FdTable list_child_fds(bool inherit_handles) {
  auto out = AnonymousPipe::create();
  EXPECT_TRUE(out);
  if (!out) return {};
  SpawnOptions options;
  options.stdout_fd = out->write.native_handle();
  options.inherit_handles = inherit_handles;
  auto child = testing::spawn_helper("list_fds", {}, options);
  EXPECT_TRUE(child) << child.error().message();
  if (!child) return {};
  out->write.close();
  std::string listing = read_until_broken(out->read, *child);
  EXPECT_EQ(child->wait(10s).value(), 0) << listing;
  FdTable table;
  std::istringstream lines(listing);
  int fd = -1;
  std::string target;
  while (lines >> fd >> target) table[fd] = target;
  EXPECT_EQ(table.count(1), 1u) << listing;
  return table;
}

TEST(ProcessInheritance, ChildGetsInheritableDescriptorsAtTheSameNumbersAndNoOthers) {
  auto inherited = AnonymousPipe::create(0, true);
  auto private_pipe = AnonymousPipe::create(0, false);
  auto made_inheritable = AnonymousPipe::create(0, false);
  ASSERT_TRUE(inherited && private_pipe && made_inheritable);
  ASSERT_TRUE(made_inheritable->write.set_inheritable(true));

  FdTable child = list_child_fds(true);
  EXPECT_TRUE(has_same(child, inherited->read.native_handle()));
  EXPECT_TRUE(has_same(child, inherited->write.native_handle()));
  EXPECT_TRUE(has_same(child, made_inheritable->write.native_handle()));
  EXPECT_FALSE(has_same(child, made_inheritable->read.native_handle()));
  EXPECT_FALSE(has_pipe_of(child, private_pipe->read.native_handle()));
}

TEST(ProcessInheritance, ChildGetsOnlyItsStandardDescriptorsWhenHandlesAreNotInherited) {
  auto inherited = AnonymousPipe::create(0, true);
  ASSERT_TRUE(inherited);
  FdTable child = list_child_fds(false);
  EXPECT_FALSE(has_pipe_of(child, inherited->read.native_handle()));
  // Beyond 0, 1, 2 only the descriptor of the directory being listed may be open.
  EXPECT_LE(child.size(), 4u);
}

}  // namespace
}  // namespace sluice
