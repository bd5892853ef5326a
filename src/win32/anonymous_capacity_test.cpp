// CreatePipe's nSize as the capacity WriteFile observes (docs/architecture.md, "Anonymous
// pipes"): what fits goes in at once, a write beyond the free room waits for ReadFile, and a
// no-wait write beyond it writes nothing.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "thread_state.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::testing::current_thread_id;
using sluice::testing::wait_until_sleeping;

struct Pipe {
  explicit Pipe(DWORD size) { EXPECT_TRUE(CreatePipe(&r, &w, nullptr, size)) << GetLastError(); }
  ~Pipe() {
    CloseHandle(r);
    CloseHandle(w);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // WriteFile on its own thread: the count written, or 0 on failure.
  std::future<DWORD> write_async(std::string data, std::atomic<int>* tid = nullptr) {
    return std::async(std::launch::async, [this, data = std::move(data), tid] {
      if (tid) *tid = current_thread_id();
      DWORD n = 0;
      return WriteFile(w, data.data(), static_cast<DWORD>(data.size()), &n, nullptr) ? n : 0;
    });
  }
  // ReadFile until `count` bytes came out or a read fails; the bytes read.
  std::string read(std::size_t count) {
    std::string got;
    std::vector<char> buffer(65536);
    while (got.size() < count) {
      DWORD n = 0;
      auto want = static_cast<DWORD>(std::min(buffer.size(), count - got.size()));
      if (!ReadFile(r, buffer.data(), want, &n, nullptr)) break;
      got.append(buffer.data(), n);
    }
    return got;
  }
  // Whether a waiting WriteFile returned after the reader made room. If not, closing the read
  // end fails it, so that its thread can end.
  bool released(std::future<DWORD>& writer) {
    if (writer.wait_for(5s) == std::future_status::ready) return true;
    ADD_FAILURE() << "the reader's room did not release the waiting WriteFile";
    CloseHandle(r);
    r = nullptr;
    return false;
  }

  HANDLE r = nullptr;
  HANDLE w = nullptr;
};

// `capacity` bytes go into the empty pipe at once; one byte more leaves WriteFile asleep until
// ReadFile has drained the pipe.
void expect_capacity(DWORD size, std::size_t capacity) {
  SCOPED_TRACE("nSize " + std::to_string(size));
  Pipe pipe(size);
  auto fill = pipe.write_async(std::string(capacity, 'f'));
  bool at_once = fill.wait_for(5s) == std::future_status::ready;
  EXPECT_TRUE(at_once) << capacity << " bytes into the empty pipe waited for the reader";
  if (!at_once) pipe.read(capacity);
  EXPECT_EQ(fill.get(), capacity);
  if (!at_once) return;

  std::atomic<int> tid{0};
  auto extra = pipe.write_async("+", &tid);
  bool asleep = wait_until_sleeping(tid, 2s);
  EXPECT_TRUE(asleep && extra.wait_for(0s) == std::future_status::timeout)
      << "WriteFile of one byte beyond " << capacity << " returned without a reader";
  EXPECT_EQ(pipe.read(capacity).size(), capacity);
  if (!pipe.released(extra)) return;
  EXPECT_EQ(extra.get(), 1u);
  EXPECT_EQ(pipe.read(1), "+");
}

TEST(Win32AnonymousCapacity, WriteFileBeyondTheDefaultSizeWaitsForReadFile) {
  expect_capacity(0, 4096);
}

TEST(Win32AnonymousCapacity, PageMultiplesHoldExactlyNSize) {
  expect_capacity(4096, 4096);
  expect_capacity(16384, 16384);
}

TEST(Win32AnonymousCapacity, OtherSizesHoldNSizeRoundedUpToAPowerOfTwoPages) {
  expect_capacity(1000, 4096);
  expect_capacity(4097, 8192);
  expect_capacity(100000, 131072);
}

TEST(Win32AnonymousCapacity, WriteFileLargerThanTheFreeRoomWaitsUntilReadFileMakesRoom) {
  Pipe pipe(4096);
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(pipe.w, std::string(1000, 'a').data(), 1000, &n, nullptr));
  std::atomic<int> tid{0};
  auto writer = pipe.write_async(std::string(4000, 'b'), &tid);  // 1000 + 4000 > 4096
  bool asleep = wait_until_sleeping(tid, 2s);
  EXPECT_TRUE(asleep && writer.wait_for(0s) == std::future_status::timeout)
      << "4000 bytes went into a 4096-byte pipe holding 1000";
  EXPECT_EQ(pipe.read(1000), std::string(1000, 'a'));
  if (!pipe.released(writer)) return;
  EXPECT_EQ(writer.get(), 4000u);
  EXPECT_EQ(pipe.read(4000), std::string(4000, 'b'));
}

TEST(Win32AnonymousCapacity, NoWaitWriteFileBeyondTheFreeRoomSucceedsWritingNothing) {
  // Windows: all or nothing against nSize exactly, TRUE with 0 bytes when it does not fit.
  for (DWORD size : {0u, 1000u}) {
    SCOPED_TRACE(size);
    Pipe pipe(size);
    DWORD quota = size == 0 ? 4096 : size;
    DWORD mode = PIPE_NOWAIT;
    ASSERT_TRUE(SetNamedPipeHandleState(pipe.w, &mode, nullptr, nullptr));
    std::string data(quota + 1, 'n');
    DWORD n = 9;
    EXPECT_TRUE(WriteFile(pipe.w, data.data(), quota + 1, &n, nullptr));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(WriteFile(pipe.w, data.data(), quota, &n, nullptr));
    EXPECT_EQ(n, quota);
    EXPECT_TRUE(WriteFile(pipe.w, data.data(), 1, &n, nullptr));
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(pipe.read(quota).size(), quota);
  }
}

}  // namespace
