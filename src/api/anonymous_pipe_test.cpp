#include "sluice/anonymous_pipe.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "helper_process.hpp"
#include "other_user.hpp"
#include "thread_state.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::current_thread_id;
using testing::wait_until_sleeping;

std::span<const std::byte> bytes(const std::string& text) { return std::as_bytes(std::span(text)); }

std::string text(std::span<const std::byte> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

std::string read_text(AnonReadEnd& end, std::size_t max) {
  std::vector<std::byte> buffer(max);
  auto n = end.read(buffer);
  if (!n) return "error " + std::to_string(n.error().value());
  return text(std::span(buffer).first(*n));
}

AnonymousPipe make_pipe(std::uint32_t size = 0, bool inheritable = false) {
  auto pipe = AnonymousPipe::create(size, inheritable);
  EXPECT_TRUE(pipe) << pipe.error().message();
  return std::move(*pipe);
}

// ---- creation and reporting ------------------------------------------------------------------

TEST(AnonymousPipe, ReportsFourKibibytesWhenCreatedWithSizeZero) {
  auto pipe = make_pipe(0);
  for (const PipeInfo& info : {pipe.read.info(), pipe.write.info()}) {
    EXPECT_EQ(info.out_buffer_size, 4096u);
    EXPECT_EQ(info.in_buffer_size, 4096u);
    EXPECT_EQ(info.max_instances, 1u);
    EXPECT_EQ(info.type, PipeType::kByte);
  }
}

TEST(AnonymousPipe, ReportsTheRequestedSizeVerbatim) {
  for (std::uint32_t size : {1u, 100000u}) {
    auto pipe = make_pipe(size);
    EXPECT_EQ(pipe.read.info().in_buffer_size, size);
    EXPECT_EQ(pipe.read.info().out_buffer_size, size);
    EXPECT_EQ(pipe.write.info().in_buffer_size, size);
    EXPECT_EQ(pipe.write.info().out_buffer_size, size);
  }
}

TEST(AnonymousPipe, ReadEndIsTheServerEndAndWriteEndTheClientEnd) {
  auto pipe = make_pipe();
  EXPECT_TRUE(pipe.read.info().server_end);
  EXPECT_FALSE(pipe.write.info().server_end);
  for (const HandleState& state : {pipe.read.state(), pipe.write.state()}) {
    EXPECT_EQ(state.read_mode, ReadMode::kByte);
    EXPECT_EQ(state.wait_mode, WaitMode::kWait);
    EXPECT_EQ(state.current_instances, 1u);
  }
}

TEST(AnonymousPipe, WritingTheRequestedSizeIntoAnEmptyPipeNeverWaits) {
  // Windows: with nSize = 32768 + 24 a single 32768-byte write completes at once. No-wait mode
  // proves it: it would report 0 bytes if the data did not fit.
  for (std::uint32_t size : {32768u + 24u, 100000u}) {
    auto pipe = make_pipe(size);
    ASSERT_TRUE(pipe.write.set_state(ReadMode::kByte, WaitMode::kNoWait));
    std::string data(size == 100000u ? 100000u : 32768u, 'q');
    EXPECT_EQ(*pipe.write.write(bytes(data)), data.size());
  }
}

TEST(AnonymousPipe, HandlesAreNotInheritableUnlessAskedFor) {
  auto plain = make_pipe(0, false);
  EXPECT_FALSE(plain.read.inheritable());
  EXPECT_FALSE(plain.write.inheritable());
  auto shared = make_pipe(0, true);
  EXPECT_TRUE(shared.read.inheritable());
  EXPECT_TRUE(shared.write.inheritable());
  ASSERT_TRUE(shared.read.set_inheritable(false));
  EXPECT_FALSE(shared.read.inheritable());
  ASSERT_TRUE(plain.write.set_inheritable(true));
  EXPECT_TRUE(plain.write.inheritable());
}

TEST(AnonymousPipe, RefusesMessageReadModeButChangesTheWaitMode) {
  auto pipe = make_pipe();
  EXPECT_EQ(pipe.read.set_state(ReadMode::kMessage, WaitMode::kWait).error(),
            errc::kInvalidParameter);
  EXPECT_EQ(pipe.write.set_state(ReadMode::kMessage, WaitMode::kNoWait).error(),
            errc::kInvalidParameter);
  EXPECT_EQ(pipe.write.state().wait_mode, WaitMode::kWait);
  ASSERT_TRUE(pipe.read.set_state(ReadMode::kByte, WaitMode::kNoWait));
  EXPECT_EQ(pipe.read.state().wait_mode, WaitMode::kNoWait);
  EXPECT_EQ(pipe.read.state().read_mode, ReadMode::kByte);
}

TEST(AnonymousPipe, ClosedEndsReportAnInvalidHandle) {
  auto pipe = make_pipe();
  pipe.read.close();
  pipe.write.close();
  std::byte buffer[1];
  EXPECT_EQ(pipe.read.read(buffer).error(), errc::kInvalidHandle);
  EXPECT_EQ(pipe.write.write(bytes("x")).error(), errc::kInvalidHandle);
  EXPECT_EQ(pipe.read.peek().error(), errc::kInvalidHandle);
  EXPECT_EQ(pipe.write.flush().error(), errc::kInvalidHandle);
}

// ---- reading ---------------------------------------------------------------------------------

TEST(AnonymousPipe, BytesFromSeparateWritesAreReadAsOneStream) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("abc")));
  ASSERT_TRUE(pipe.write.write(bytes("defg")));
  EXPECT_EQ(read_text(pipe.read, 100), "abcdefg");
}

TEST(AnonymousPipe, ZeroByteReadReturnsAtOnceWhenDataIsThereAndLeavesIt) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("kept")));
  EXPECT_EQ(*pipe.read.read({}), 0u);
  EXPECT_EQ(read_text(pipe.read, 100), "kept");
}

TEST(AnonymousPipe, ZeroByteReadWaitsForDataAndLeavesIt) {
  auto pipe = make_pipe();
  std::atomic<int> tid{0};
  auto zero_read = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    return pipe.read.read({});
  });
  EXPECT_TRUE(wait_until_sleeping(tid, 5s));
  EXPECT_EQ(zero_read.wait_for(0s), std::future_status::timeout) << "did not wait for data";
  ASSERT_TRUE(pipe.write.write(bytes("late")));  // also releases the reader if a check failed
  ASSERT_EQ(zero_read.wait_for(5s), std::future_status::ready);
  auto result = zero_read.get();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, 0u);
  EXPECT_EQ(read_text(pipe.read, 100), "late");
}

TEST(AnonymousPipe, ReadDrainsRemainingDataBeforeReportingBrokenPipe) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("rest")));
  pipe.write.close();
  EXPECT_EQ(read_text(pipe.read, 2), "re");
  EXPECT_EQ(read_text(pipe.read, 100), "st");
  std::byte buffer[4];
  EXPECT_EQ(pipe.read.read(buffer).error(), errc::kBrokenPipe);
  EXPECT_EQ(pipe.read.read({}).error(), errc::kBrokenPipe);
}

TEST(AnonymousPipe, BlockedReadFailsWithBrokenPipeWhenTheLastWriterCloses) {
  auto pipe = make_pipe();
  std::atomic<int> tid{0};
  auto reader = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    std::byte buffer[16];
    return pipe.read.read(buffer);
  });
  EXPECT_TRUE(wait_until_sleeping(tid, 5s));
  pipe.write.close();
  ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(reader.get().error(), errc::kBrokenPipe);
}

TEST(AnonymousPipe, NoWaitReadOfAnEmptyPipeFailsWithNoData) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.read.set_state(ReadMode::kByte, WaitMode::kNoWait));
  std::byte buffer[4];
  EXPECT_EQ(pipe.read.read(buffer).error(), errc::kNoData);
  EXPECT_EQ(pipe.read.read({}).error(), errc::kNoData);
  ASSERT_TRUE(pipe.write.write(bytes("ok")));
  EXPECT_EQ(read_text(pipe.read, 4), "ok");
  pipe.write.close();
  EXPECT_EQ(pipe.read.read(buffer).error(), errc::kBrokenPipe);
}

// ---- writing ---------------------------------------------------------------------------------

TEST(AnonymousPipe, ZeroByteWriteSucceedsAndWritesNothing) {
  auto pipe = make_pipe();
  EXPECT_EQ(*pipe.write.write({}), 0u);
  EXPECT_EQ(pipe.read.peek()->total_available, 0u);
}

TEST(AnonymousPipe, WriteAfterTheReaderClosedFailsWithNoDataAndRaisesNoSigpipe) {
  auto lethal = std::signal(SIGPIPE, SIG_DFL);  // a raised SIGPIPE would end the test binary
  auto pipe = make_pipe();
  pipe.read.close();
  EXPECT_EQ(pipe.write.write(bytes("lost")).error(), errc::kNoData);
  ASSERT_TRUE(pipe.write.set_state(ReadMode::kByte, WaitMode::kNoWait));
  EXPECT_EQ(pipe.write.write(bytes("lost")).error(), errc::kNoData);
  std::string too_big(5000, 'x');
  EXPECT_EQ(pipe.write.write(bytes(too_big)).error(), errc::kNoData);
  std::signal(SIGPIPE, lethal);
}

TEST(AnonymousPipe, BlockedWriteFailsWithBrokenPipeWhenTheReaderCloses) {
  auto pipe = make_pipe();
  std::string big(1 << 20, 'w');  // far more than the kernel buffer
  std::atomic<int> tid{0};
  auto writer = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    return pipe.write.write(bytes(big));
  });
  EXPECT_TRUE(wait_until_sleeping(tid, 5s));
  pipe.read.close();
  ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(writer.get().error(), errc::kBrokenPipe);
}

TEST(AnonymousPipe, NoWaitWriteIsAllOrNothingAgainstTheQuota) {
  // What Windows does with quota 512 and no reader waiting: 513 bytes into an empty pipe write
  // 0, 300 write 300, another 300 write 0, 212 fill it exactly, then 1 writes 0.
  auto pipe = make_pipe(512);
  ASSERT_TRUE(pipe.write.set_state(ReadMode::kByte, WaitMode::kNoWait));
  auto write_n = [&](std::size_t n) { return *pipe.write.write(bytes(std::string(n, 'n'))); };
  EXPECT_EQ(write_n(513), 0u);
  EXPECT_EQ(write_n(300), 300u);
  EXPECT_EQ(write_n(300), 0u);
  EXPECT_EQ(write_n(212), 212u);
  EXPECT_EQ(write_n(1), 0u);
  EXPECT_EQ(pipe.read.peek()->total_available, 512u);
}

TEST(AnonymousPipe, BlockingWriteLargerThanTheQuotaCompletesOnceTheReaderTakesIt) {
  auto pipe = make_pipe(1);
  std::string big(300000, 'b');
  auto writer = std::async(std::launch::async, [&] { return pipe.write.write(bytes(big)); });
  std::string received;
  std::vector<std::byte> buffer(65536);
  while (received.size() < big.size()) {
    auto n = pipe.read.read(buffer);
    ASSERT_TRUE(n) << n.error().message();
    received += text(std::span(buffer).first(*n));
  }
  ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(*writer.get(), big.size());
  EXPECT_EQ(received, big);
}

// ---- capacity --------------------------------------------------------------------------------

// Reads until `count` bytes came out (or the read fails); returns how many did.
std::size_t drain(AnonReadEnd& end, std::size_t count) {
  std::vector<std::byte> buffer(65536);
  std::size_t drained = 0;
  while (drained < count) {
    auto n = end.read(std::span(buffer).first(std::min(buffer.size(), count - drained)));
    if (!n) break;
    drained += *n;
  }
  return drained;
}

// Whether a waiting write returned after the reader made room. If not, closing the read end
// fails it, so that its thread can end.
bool released(AnonymousPipe& pipe, std::future<Result<std::size_t>>& writer) {
  if (writer.wait_for(5s) == std::future_status::ready) return true;
  ADD_FAILURE() << "the reader's room did not release the waiting write";
  pipe.read.close();
  return false;
}

// The capacity a program observes: `capacity` bytes go into the empty pipe without waiting, and
// one byte more waits for the reader (the writer is asleep in the call and has not returned)
// until the reader has drained what was there.
void expect_capacity(AnonymousPipe& pipe, std::size_t capacity) {
  std::string fill(capacity, 'f');
  auto filled = std::async(std::launch::async, [&] { return pipe.write.write(bytes(fill)); });
  bool at_once = filled.wait_for(5s) == std::future_status::ready;
  EXPECT_TRUE(at_once) << capacity << " bytes into the empty pipe waited for the reader";
  if (!at_once) drain(pipe.read, capacity);  // releases it
  EXPECT_EQ(filled.get().value_or(0), capacity);
  if (!at_once) return;

  std::atomic<int> tid{0};
  auto extra = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    return pipe.write.write(bytes("+"));
  });
  bool asleep = wait_until_sleeping(tid, 2s);
  EXPECT_TRUE(asleep && extra.wait_for(0s) == std::future_status::timeout)
      << "a byte beyond " << capacity << " did not wait for the reader";
  EXPECT_EQ(drain(pipe.read, capacity), capacity);
  if (!released(pipe, extra)) return;
  EXPECT_EQ(extra.get().value_or(0), 1u);
  EXPECT_EQ(read_text(pipe.read, 10), "+");
}

TEST(AnonymousPipeCapacity, SizeZeroHoldsFourKibibytesAndAByteMoreWaitsForTheReader) {
  auto pipe = make_pipe(0);
  expect_capacity(pipe, 4096);
}

TEST(AnonymousPipeCapacity, PageMultiplesArePreciseCapacities) {
  for (std::uint32_t size : {4096u, 8192u, 65536u}) {
    SCOPED_TRACE(size);
    auto pipe = make_pipe(size);
    expect_capacity(pipe, size);
  }
}

TEST(AnonymousPipeCapacity, OtherSizesRoundUpToTheNextPowerOfTwoPages) {
  struct Case {
    std::uint32_t size;
    std::size_t capacity;
  } cases[] = {{1, 4096}, {1000, 4096}, {5000, 8192}, {100000, 131072}};
  for (auto [size, capacity] : cases) {
    SCOPED_TRACE(size);
    auto pipe = make_pipe(size);
    EXPECT_EQ(pipe.read.info().in_buffer_size, size) << "reported verbatim all the same";
    expect_capacity(pipe, capacity);
  }
}

TEST(AnonymousPipeCapacity, AWriteLargerThanTheFreeRoomWaitsUntilTheReaderMakesRoom) {
  auto pipe = make_pipe(4096);
  ASSERT_TRUE(pipe.write.write(bytes(std::string(1000, 'a'))));
  std::string more(4000, 'b');  // 1000 + 4000 > 4096
  std::atomic<int> tid{0};
  auto writer = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    return pipe.write.write(bytes(more));
  });
  bool asleep = wait_until_sleeping(tid, 2s);
  EXPECT_TRUE(asleep && writer.wait_for(0s) == std::future_status::timeout)
      << "4000 bytes went into a 4096-byte pipe holding 1000";
  EXPECT_EQ(read_text(pipe.read, 1000), std::string(1000, 'a'));
  if (!released(pipe, writer)) return;
  EXPECT_EQ(writer.get().value_or(0), more.size());
  EXPECT_EQ(drain(pipe.read, more.size()), more.size());
}

std::size_t pipe_max_size() {
  std::ifstream in("/proc/sys/fs/pipe-max-size");
  std::size_t size = 0;
  in >> size;
  return size;
}

// Creates a pipe of args[0] bytes, more than pipe-max-size, as a user the kernel holds to that
// limit, and writes args[1] bytes (the limit) into it in no-wait mode. Exit code 0: all went in.
SLUICE_TEST_HELPER(fill_pipe_beyond_the_kernel_limit) {
  auto pipe = AnonymousPipe::create(static_cast<std::uint32_t>(std::stoul(args.at(0))));
  if (!pipe) return 2;
  if (!pipe->write.set_state(ReadMode::kByte, WaitMode::kNoWait)) return 3;
  std::string data(std::stoul(args.at(1)), 'm');
  auto written = pipe->write.write(bytes(data));
  if (!written) return 4;
  return *written == data.size() ? 0 : 5;
}

TEST(AnonymousPipeCapacity, ASizeAboveTheKernelLimitGetsTheLargestBufferTheKernelAllows) {
  SLUICE_SKIP_UNLESS_ROOT();
  std::size_t limit = pipe_max_size();
  ASSERT_GT(limit, 0u);
  auto child = testing::spawn_helper_as(testing::kAlice, "fill_pipe_beyond_the_kernel_limit",
                                        {std::to_string(limit + 1), std::to_string(limit)});
  ASSERT_TRUE(child) << child.error().message();
  auto code = child->wait(30s);
  if (!code) (void)child->kill();
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0) << "a pipe asked for " << limit + 1 << " bytes did not take " << limit;
}

// ---- peek ------------------------------------------------------------------------------------

TEST(AnonymousPipe, PeekCopiesWithoutRemovingAndFollowsByteArithmetic) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("hello world")));
  std::byte buffer[4];
  auto peeked = pipe.read.peek(buffer);
  ASSERT_TRUE(peeked) << peeked.error().message();
  EXPECT_EQ(peeked->bytes_read, 4u);
  EXPECT_EQ(peeked->total_available, 11u);
  EXPECT_EQ(peeked->bytes_left_this_message, 0xFFFFFFFCu);
  EXPECT_EQ(text(buffer), "hell");

  auto counts_only = pipe.read.peek();
  ASSERT_TRUE(counts_only);
  EXPECT_EQ(counts_only->bytes_read, 0u);
  EXPECT_EQ(counts_only->total_available, 11u);
  EXPECT_EQ(counts_only->bytes_left_this_message, 0u);

  EXPECT_EQ(read_text(pipe.read, 100), "hello world");
}

TEST(AnonymousPipe, PeekOfAnEmptyPipeSucceedsWithNothingAvailable) {
  auto pipe = make_pipe();
  std::byte buffer[4];
  auto peeked = pipe.read.peek(buffer);
  ASSERT_TRUE(peeked);
  EXPECT_EQ(peeked->bytes_read, 0u);
  EXPECT_EQ(peeked->total_available, 0u);
}

TEST(AnonymousPipe, PeekFailsWithBrokenPipeOnlyAfterTheLastWriterClosedAndDataIsGone) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("xy")));
  pipe.write.close();
  std::byte buffer[4];
  auto peeked = pipe.read.peek(buffer);
  ASSERT_TRUE(peeked);
  EXPECT_EQ(peeked->bytes_read, 2u);
  EXPECT_EQ(read_text(pipe.read, 4), "xy");
  EXPECT_EQ(pipe.read.peek(buffer).error(), errc::kBrokenPipe);
  EXPECT_EQ(pipe.read.peek().error(), errc::kBrokenPipe);
}

// ---- flush -----------------------------------------------------------------------------------

TEST(AnonymousPipe, FlushReturnsAtOnceWhenNothingIsBuffered) {
  auto pipe = make_pipe();
  EXPECT_TRUE(pipe.write.flush());
}

TEST(AnonymousPipe, FlushWaitsUntilTheReaderHasTakenEverything) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("0123456789")));
  std::atomic<int> tid{0};
  auto flushed = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    return pipe.write.flush();
  });
  EXPECT_TRUE(wait_until_sleeping(tid, 5s));
  EXPECT_EQ(read_text(pipe.read, 4), "0123");
  EXPECT_EQ(flushed.wait_for(0s), std::future_status::timeout) << "returned with data unread";
  EXPECT_EQ(read_text(pipe.read, 100), "456789");
  ASSERT_EQ(flushed.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(flushed.get());
}

TEST(AnonymousPipe, FlushSucceedsAtOnceWhenTheReaderIsAlreadyGone) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("never read")));
  pipe.read.close();
  EXPECT_TRUE(pipe.write.flush());
}

TEST(AnonymousPipe, WaitingFlushFailsWithBrokenPipeWhenTheReaderCloses) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.write.write(bytes("never read")));
  std::atomic<int> tid{0};
  auto flushed = std::async(std::launch::async, [&] {
    tid = current_thread_id();
    return pipe.write.flush();
  });
  EXPECT_TRUE(wait_until_sleeping(tid, 5s));
  pipe.read.close();
  ASSERT_EQ(flushed.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(flushed.get().error(), errc::kBrokenPipe);
}

// ---- across processes ------------------------------------------------------------------------

// Writes "hello" to the inherited write end whose number is args[0], closes it, then stays alive
// until its stdin reaches end of file, so the parent sees the close and not the exit.
SLUICE_TEST_HELPER(write_then_close) {
  AnonWriteEnd out(std::stoi(args.at(0)), 0);
  if (!out.write(bytes("hello"))) return 2;
  out.close();
  AnonReadEnd in(0, 0);
  std::byte buffer[64];
  while (in.read(buffer)) {
  }
  in.release();
  return 0;
}

TEST(AnonymousPipeAcrossProcesses, ReaderSeesBrokenPipeWhenTheWriterClosesInAnotherProcess) {
  auto data = make_pipe(0, true);
  auto hold = make_pipe();  // the child's stdin; only this process can end it
  SpawnOptions options;
  options.stdin_fd = hold.read.native_handle();
  auto child = testing::spawn_helper("write_then_close",
                                     {std::to_string(data.write.native_handle())}, options);
  ASSERT_TRUE(child) << child.error().message();
  data.write.close();  // Windows pitfall: our copy would keep the pipe alive
  hold.read.close();

  auto reader = std::async(std::launch::async, [&] {
    std::string got = read_text(data.read, 100);
    auto last = data.read.read(std::span<std::byte>{});
    return std::make_pair(got, last.error());
  });
  bool finished = reader.wait_for(10s) == std::future_status::ready;
  if (!finished) (void)child->kill();  // the child's end closes and the reader gets free
  auto [got, last] = reader.get();
  EXPECT_TRUE(finished) << "the reader never saw the child's close";
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(last, errc::kBrokenPipe);
  EXPECT_EQ(child->wait(0ms).error(), errc::kWaitTimeout) << "child exited before the check";

  hold.write.close();
  EXPECT_EQ(child->wait(10s).value(), 0);
}

// With SIGPIPE at its default action, writes to a pipe without reader; exit code 0 means both
// writes reported kNoData and nothing killed the process (SIGPIPE would give 128 + 13).
SLUICE_TEST_HELPER(write_without_reader) {
  std::signal(SIGPIPE, SIG_DFL);
  auto pipe = AnonymousPipe::create();
  if (!pipe) return 2;
  pipe->read.close();
  if (pipe->write.write(bytes("x")).error() != errc::kNoData) return 3;
  if (!pipe->write.set_state(ReadMode::kByte, WaitMode::kNoWait)) return 4;
  if (pipe->write.write(bytes("x")).error() != errc::kNoData) return 5;
  return 0;
}

TEST(AnonymousPipeAcrossProcesses, SigpipeNeverKillsAWriterWithDefaultSignalHandling) {
  auto child = testing::spawn_helper("write_without_reader");
  ASSERT_TRUE(child) << child.error().message();
  auto code = child->wait(10s);
  if (!code) (void)child->kill();
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0) << "128 + 13 would mean SIGPIPE killed it";
}

}  // namespace
}  // namespace sluice
