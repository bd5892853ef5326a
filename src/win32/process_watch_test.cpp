// CreateProcess's children are watched by one thread of the process, not a thread each
// (objects/child_process.hpp), and their handles wait together.
#include <windows.h>

#include <gtest/gtest.h>

#include <vector>

#include "thread_state.hpp"
#include "win32_test_util.hpp"

namespace sluice::win32::testing {
namespace {

TEST(Win32CreateProcess, ManyChildrenRunWithoutAThreadEachAndTheirHandlesWaitTogether) {
  constexpr DWORD kChildren = MAXIMUM_WAIT_OBJECTS;
  // The watcher thread is started with the first child.
  EXPECT_EQ(exit_code_after(start_process("sh -c \"exit 5\"")), 5u);
  const std::size_t before = sluice::testing::thread_count();

  std::vector<HANDLE> children;
  for (DWORD i = 0; i < kChildren; ++i) {
    HANDLE child = start_process("sleep 60");
    ASSERT_NE(child, nullptr);
    children.push_back(child);
  }
  EXPECT_LE(sluice::testing::thread_count(), before + 2)
      << "threads with " << kChildren << " children running";
  EXPECT_EQ(WaitForMultipleObjects(kChildren, children.data(), FALSE, 0),
            static_cast<DWORD>(WAIT_TIMEOUT));
  for (DWORD i = 0; i < kChildren; ++i) EXPECT_TRUE(TerminateProcess(children[i], 100 + i));
  EXPECT_EQ(WaitForMultipleObjects(kChildren, children.data(), TRUE, 20000),
            static_cast<DWORD>(WAIT_OBJECT_0));
  for (DWORD i = 0; i < kChildren; ++i) {
    DWORD code = 0;
    EXPECT_TRUE(GetExitCodeProcess(children[i], &code));
    EXPECT_EQ(code, 100 + i);
    CloseHandle(children[i]);
  }
  EXPECT_LE(sluice::testing::thread_count(), before + 2);
}

}  // namespace
}  // namespace sluice::win32::testing
