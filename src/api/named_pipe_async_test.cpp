// Asynchronous operations: completion contract, ordering, quotas, cancellation, state changes.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include <sys/mman.h>

#include "freezer.hpp"
#include "helper_process.hpp"
#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"
#include "thread_state.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::bytes;
using testing::text;

class AsyncPipe : public testing::PipeTest {
 protected:
  static ServerOptions message_pipe() {
    ServerOptions o;
    o.type = PipeType::kMessage;
    o.read_mode = ReadMode::kMessage;
    return o;
  }
  std::pair<ServerEnd, ClientEnd> connected(ServerOptions o = {}) {
    auto s = ServerEnd::create(registry(), pipe_name(), o);
    EXPECT_TRUE(s);
    auto c = ClientEnd::open(registry(), pipe_name());
    EXPECT_TRUE(c);
    if (o.type == PipeType::kMessage) {
      EXPECT_TRUE(c->set_state(ReadMode::kMessage, WaitMode::kWait));
    }
    return {std::move(*s), std::move(*c)};
  }
  // Runs handlers until `done` or 5 s pass.
  void run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) context.run_one_for(50ms);
    ASSERT_TRUE(done()) << "timed out waiting for completions";
  }
  IoContext context;
};

TEST_F(AsyncPipe, PendingReadCompletesWhenDataArrivesAndNeverInsideTheCall) {
  auto [s, c] = connected(message_pipe());
  std::byte buf[64];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(s.async_read(buf, context.executor(), [&](Result<ReadResult> r) { got = r; }));
  EXPECT_EQ(context.poll(), 0u);
  EXPECT_FALSE(got);
  ASSERT_TRUE(c.write(bytes("hello")));
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->bytes, 5u);
  EXPECT_EQ(text(std::span(buf, 5)), "hello");
}

TEST_F(AsyncPipe, ImmediateCompletionStillRunsThroughTheExecutor) {
  auto [s, c] = connected();
  ASSERT_TRUE(c.write(bytes("ready")));
  std::byte buf[64];
  bool ran = false;
  ASSERT_TRUE(s.async_read(buf, context.executor(), [&](Result<ReadResult> r) {
    EXPECT_EQ(r->bytes, 5u);
    ran = true;
  }));
  EXPECT_FALSE(ran);
  EXPECT_EQ(context.poll(), 1u);
  EXPECT_TRUE(ran);
}

TEST_F(AsyncPipe, PendingReadsCompleteInTheOrderTheyWereStarted) {
  auto [s, c] = connected(message_pipe());
  std::byte a[16], b[16], d[16];
  std::vector<int> order;
  auto track = [&](int n) {
    return [&order, n](Result<ReadResult> r) {
      if (r) order.push_back(n);
    };
  };
  ASSERT_TRUE(s.async_read(a, context.executor(), track(1)));
  ASSERT_TRUE(s.async_read(b, context.executor(), track(2)));
  ASSERT_TRUE(s.async_read(d, context.executor(), track(3)));
  ASSERT_TRUE(c.write(bytes("first")));
  ASSERT_TRUE(c.write(bytes("second")));
  ASSERT_TRUE(c.write(bytes("third")));
  run_until([&] { return order.size() == 3; });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(text(std::span(a, 5)), "first");
  EXPECT_EQ(text(std::span(b, 6)), "second");
  EXPECT_EQ(text(std::span(d, 5)), "third");
}

TEST_F(AsyncPipe, WriteCompletesOnlyOnceTheReaderMakesRoomInTheQuota) {
  ServerOptions o;
  o.out_buffer_size = 0;
  auto [s, c] = connected(o);
  std::optional<Result<std::size_t>> wrote;
  ASSERT_TRUE(s.async_write(bytes("zero quota"), context.executor(),
                            [&](Result<std::size_t> r) { wrote = r; }));
  EXPECT_EQ(context.run_one_for(50ms), 0u);  // nobody read: still pending
  EXPECT_FALSE(wrote);
  std::byte buf[32];
  ASSERT_EQ(c.read(buf)->bytes, 10u);
  run_until([&] { return wrote.has_value(); });
  EXPECT_EQ(wrote->value(), 10u);
}

TEST_F(AsyncPipe, APendingReadTakesTheHandOffOfANoWaitWrite) {
  ServerOptions o;
  o.in_buffer_size = 512;
  auto [s, c] = connected(o);
  std::byte one[1];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(s.async_read(one, context.executor(), [&](Result<ReadResult> r) { got = r; }));
  ASSERT_TRUE(c.set_state(ReadMode::kByte, WaitMode::kNoWait));
  std::string data(514, 'h');
  EXPECT_EQ(c.write(bytes(data)).value(), 1u);  // only the waiting read's byte goes
  run_until([&] { return got.has_value(); });
  EXPECT_EQ((*got)->bytes, 1u);
}

TEST_F(AsyncPipe, CancelEndsPendingOperationsWithOperationAborted) {
  auto [s, c] = connected();
  std::byte buf[8];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(s.async_read(buf, context.executor(), [&](Result<ReadResult> r) { got = r; }));
  EXPECT_EQ(s.cancel(), 1u);
  EXPECT_EQ(s.cancel(), 0u);  // nothing left
  run_until([&] { return got.has_value(); });
  EXPECT_EQ(got->error(), errc::kOperationAborted);
  ASSERT_TRUE(c.write(bytes("after")));  // the pipe still works
  EXPECT_EQ(s.read(buf)->bytes, 5u);
}

TEST_F(AsyncPipe, DisconnectFailsPendingReadsOnBothEnds) {
  auto [s, c] = connected();
  std::byte sb[8], cb[8];
  std::optional<Result<ReadResult>> server_got, client_got;
  ASSERT_TRUE(s.async_read(sb, context.executor(), [&](Result<ReadResult> r) { server_got = r; }));
  ASSERT_TRUE(c.async_read(cb, context.executor(), [&](Result<ReadResult> r) { client_got = r; }));
  ASSERT_TRUE(s.disconnect());
  run_until([&] { return server_got && client_got; });
  EXPECT_EQ(server_got->error(), errc::kPipeNotConnected);
  EXPECT_EQ(client_got->error(), errc::kPipeNotConnected);
}

TEST_F(AsyncPipe, PeerCloseFailsAPendingReadWithBrokenPipe) {
  auto [s, c] = connected();
  std::byte buf[8];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(s.async_read(buf, context.executor(), [&](Result<ReadResult> r) { got = r; }));
  c.close();
  run_until([&] { return got.has_value(); });
  EXPECT_EQ(got->error(), errc::kBrokenPipe);
}

TEST_F(AsyncPipe, ClosingTheOwnEndFailsItsPendingReads) {
  auto [s, c] = connected();
  std::byte buf[8];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(c.async_read(buf, context.executor(), [&](Result<ReadResult> r) { got = r; }));
  c.close();
  run_until([&] { return got.has_value(); });
  EXPECT_EQ(got->error(), errc::kBrokenPipe);
}

TEST_F(AsyncPipe, FailuresAtInitiationNeverRunTheHandler) {
  auto s = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(s);
  std::byte buf[8];
  bool ran = false;
  auto handler = [&](Result<ReadResult>) { ran = true; };
  EXPECT_EQ(s->async_read(buf, context.executor(), handler).error(), errc::kPipeListening);
  auto c = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->set_state(ReadMode::kByte, WaitMode::kNoWait));
  EXPECT_EQ(c->async_read(buf, context.executor(), handler).error(), errc::kNoData);
  c->close();
  EXPECT_EQ(s->async_write(bytes("x"), context.executor(), [&](Result<std::size_t>) { ran = true; })
                .error(),
            errc::kNoData);
  EXPECT_EQ(context.run_one_for(20ms), 0u);
  EXPECT_FALSE(ran);
}

TEST_F(AsyncPipe, ConnectCompletesWhenAClientOpens) {
  auto s = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(s);
  std::optional<Result<ConnectStatus>> connected_status;
  ASSERT_TRUE(
      s->async_connect(context.executor(), [&](Result<ConnectStatus> r) { connected_status = r; }));
  EXPECT_EQ(context.run_one_for(20ms), 0u);
  auto c = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(c);
  run_until([&] { return connected_status.has_value(); });
  EXPECT_EQ(connected_status->value(), ConnectStatus::kConnected);
  std::optional<Result<ConnectStatus>> again;
  ASSERT_TRUE(s->async_connect(context.executor(), [&](Result<ConnectStatus> r) { again = r; }));
  run_until([&] { return again.has_value(); });
  EXPECT_EQ(again->value(), ConnectStatus::kAlreadyConnected);
}

TEST_F(AsyncPipe, PendingConnectEndsWithTheInstance) {
  auto s = ServerEnd::create(registry(), pipe_name());
  ASSERT_TRUE(s);
  std::optional<Result<ConnectStatus>> first, second;
  ASSERT_TRUE(s->async_connect(context.executor(), [&](Result<ConnectStatus> r) { first = r; }));
  ASSERT_TRUE(s->disconnect());  // LISTENING → DISCONNECTED
  run_until([&] { return first.has_value(); });
  EXPECT_EQ(first->error(), errc::kPipeNotConnected);
  ASSERT_TRUE(s->async_connect(context.executor(), [&](Result<ConnectStatus> r) { second = r; }));
  s->close();
  run_until([&] { return second.has_value(); });
  EXPECT_EQ(second->error(), errc::kBrokenPipe);
}

TEST_F(AsyncPipe, TransactionSendsAtOnceAndCompletesWithTheReply) {
  auto [s, c] = connected(message_pipe());
  std::byte reply[8];
  std::optional<Result<ReadResult>> got;
  ASSERT_TRUE(c.async_transact(bytes("question"), reply, context.executor(),
                               [&](Result<ReadResult> r) { got = r; }));
  std::byte request[16];
  auto r = s.read(request);  // the request is there before any handler ran
  ASSERT_TRUE(r);
  EXPECT_EQ(text(std::span(request, r->bytes)), "question");
  EXPECT_FALSE(got);
  EXPECT_EQ(c.async_transact(bytes("again"), reply, context.executor(), [](Result<ReadResult>) {})
                .error(),
            errc::kPipeBusy);  // a read is pending on this end
  ASSERT_TRUE(s.write(bytes("an answer too long")));
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->bytes, 8u);
  EXPECT_TRUE((*got)->more_data);
  EXPECT_EQ(text(std::span(reply, 8)), "an answe");
}

TEST_F(AsyncPipe, AMessageLargerThanTheRingArrivesWhole) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 4096;  // a 64 KiB ring
  auto [s, c] = connected(o);
  std::vector<std::byte> big(1 << 20), got(big.size());
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 13 + 1);
  std::optional<Result<ReadResult>> read;
  std::optional<Result<std::size_t>> wrote;
  ASSERT_TRUE(c.async_read(got, context.executor(), [&](Result<ReadResult> r) { read = r; }));
  ASSERT_TRUE(s.async_write(big, context.executor(), [&](Result<std::size_t> r) { wrote = r; }));
  run_until([&] { return read && wrote; });
  ASSERT_TRUE(*read);
  EXPECT_EQ((*read)->bytes, big.size());
  EXPECT_FALSE((*read)->more_data);
  EXPECT_EQ(got, big);
  EXPECT_EQ(wrote->value(), big.size());
}

TEST_F(AsyncPipe, ThousandsOfPendingOperationsAllComplete) {
  constexpr int kInstances = 50;
  constexpr int kReadsEach = 40;
  std::vector<std::pair<ServerEnd, ClientEnd>> pipes;
  for (int i = 0; i < kInstances; ++i) pipes.push_back(connected(message_pipe()));
  std::vector<std::array<std::byte, 8>> buffers(kInstances * kReadsEach);
  std::atomic<int> completed{0};
  for (int i = 0; i < kInstances; ++i)
    for (int j = 0; j < kReadsEach; ++j)
      ASSERT_TRUE(pipes[i].first.async_read(buffers[i * kReadsEach + j], context.executor(),
                                            [&](Result<ReadResult> r) {
                                              EXPECT_TRUE(r);
                                              ++completed;
                                            }));
  for (auto& [s, c] : pipes)
    for (int j = 0; j < kReadsEach; ++j) ASSERT_TRUE(c.write(bytes("12345678")));
  run_until([&] { return completed == kInstances * kReadsEach; });
}

// args: directory, pipe name, count. Writes `count` numbered messages, then waits for "bye".
SLUICE_TEST_HELPER(async_peer_writer) {
  auto reg = Registry::open(args.at(0));
  if (!reg) return 10;
  auto c = ClientEnd::open(*reg, args.at(1));
  if (!c) return 11;
  int count = std::stoi(args.at(2));
  for (int i = 0; i < count; ++i)
    if (!c->write(bytes(std::to_string(i)))) return 12;
  std::byte buf[8];
  auto r = c->read(buf);
  return r && text(std::span(buf, r->bytes)) == "bye" ? 0 : 13;
}

TEST_F(AsyncPipe, AReaderInOneProcessIsWokenByAWriterInAnother) {
  auto s = ServerEnd::create(registry(), pipe_name(), message_pipe());
  ASSERT_TRUE(s);
  constexpr int kCount = 2000;
  auto child = testing::spawn_helper("async_peer_writer",
                                     {directory(), pipe_name(), std::to_string(kCount)});
  ASSERT_TRUE(child);
  testing::KillOnExit guard(*child);
  std::optional<Result<ConnectStatus>> connected_status;
  ASSERT_TRUE(
      s->async_connect(context.executor(), [&](Result<ConnectStatus> r) { connected_status = r; }));
  run_until([&] { return connected_status.has_value(); });
  ASSERT_TRUE(*connected_status);
  int next = 0;
  std::byte buf[16];
  std::function<void(Result<ReadResult>)> on_read = [&](Result<ReadResult> r) {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(text(std::span(buf, r->bytes)), std::to_string(next));
    if (++next < kCount) {
      ASSERT_TRUE(s->async_read(buf, context.executor(), on_read));
    }
  };
  ASSERT_TRUE(s->async_read(buf, context.executor(), on_read));
  run_until([&] { return next == kCount; });
  ASSERT_TRUE(s->write(bytes("bye")));
  EXPECT_EQ(child->wait(10s).value_or(-1), 0);
}

// ---- a cancelled write leaves the pipe (docs/data-path.md) --------------------------------------

std::vector<std::byte> letters(std::size_t n, char c) {
  return std::vector<std::byte>(n, static_cast<std::byte>(c));
}

class CancelledWrite : public AsyncPipe {
 protected:
  // Starts a write that waits for the reader (its data is in the pipe, beyond the quota).
  void start_pending_write(PipeEnd& end, std::span<const std::byte> data) {
    ASSERT_TRUE(
        end.async_write(data, context.executor(), [&](Result<std::size_t> r) { result = r; }));
    ASSERT_EQ(context.poll(), 0u);
    ASSERT_FALSE(result) << "the write was to wait for the reader";
  }
  void cancel_it(PipeEnd& end) {
    EXPECT_EQ(end.cancel(), 1u);
    run_until([&] { return result.has_value(); });
    ASSERT_FALSE(*result);
    EXPECT_EQ(result->error(), errc::kOperationAborted);
  }
  std::string read_text(PipeEnd& end, std::size_t size = 256) {
    std::vector<std::byte> buf(size);
    auto r = end.read(buf);
    if (!r) return "error " + std::to_string(r.error().value());
    return text(std::span(buf.data(), r->bytes)) + (r->more_data ? "+" : "");
  }
  // A write after the cancelled one. It may have to wait for the reader to pass the withdrawn
  // data in the ring (a payload out of line would free it at once), so it is started
  // asynchronously and checked after the read.
  void write_after(PipeEnd& end, const char* data) {
    ASSERT_TRUE(end.async_write(bytes(data), context.executor(),
                                [&](Result<std::size_t> r) { later = r; }));
  }
  void later_write_completes() {
    run_until([&] { return later.has_value(); });
    EXPECT_TRUE(*later);
  }
  std::optional<Result<std::size_t>> result;
  std::optional<Result<std::size_t>> later;
};

TEST_F(CancelledWrite, ItsUnreadMessageLeavesThePipeAndLaterWritesMoveUp) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 16;
  auto [s, c] = connected(o);
  auto big = letters(100, 'x');
  start_pending_write(s, big);
  EXPECT_EQ(c.peek().value().total_available, 100u);
  cancel_it(s);
  write_after(s, "next");  // the withdrawn bytes left the quota: it completes at once
  run_until([&] { return later.has_value(); });
  EXPECT_EQ(read_text(c), "next");
  auto left = c.peek();
  ASSERT_TRUE(left);
  EXPECT_EQ(left->total_available, 0u);
}

TEST_F(CancelledWrite, WhatTheReaderTookStaysTakenAndTheRestIsGone) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 16;
  auto [s, c] = connected(o);
  auto big = letters(100, 'y');
  start_pending_write(s, big);
  EXPECT_EQ(read_text(c, 10), "yyyyyyyyyy+");  // ERROR_MORE_DATA: 90 bytes left of it
  cancel_it(s);
  write_after(s, "after");
  EXPECT_EQ(read_text(c), "after");  // not the other 90
  later_write_completes();
}

TEST_F(CancelledWrite, AMessageLargerThanTheRingLeavesWithWhatWasNeverQueued) {
  ServerOptions o = message_pipe();
  o.out_buffer_size = 1024;  // a 4 KiB ring: the message cannot be queued whole
  auto [s, c] = connected(o);
  auto big = letters(256 * 1024, 'z');
  start_pending_write(s, big);
  EXPECT_EQ(read_text(c, 100), std::string(100, 'z') + "+");
  cancel_it(s);
  // The message never got its end into the ring; the next one is not glued to it.
  write_after(s, "whole");
  EXPECT_EQ(read_text(c, 300 * 1024), "whole");
  later_write_completes();
}

TEST_F(CancelledWrite, InAByteStreamOnlyTheUnreadBytesGo) {
  ServerOptions o;
  o.out_buffer_size = 1024;  // the write waits, its payload in the arena, while the reader reads
  auto [s, c] = connected(o);
  auto big = letters(64 * 1024, 'b');
  start_pending_write(s, big);
  EXPECT_EQ(read_text(c, 1000), std::string(1000, 'b'));
  cancel_it(s);
  write_after(s, "tail");
  EXPECT_EQ(read_text(c), "tail");
  later_write_completes();
}

// A 10 KiB message written into a pipe whose quota is 1 KiB: the write waits for the reader,
// but its message is there whole from the start (docs/data-path.md).
class PendingMessage : public CancelledWrite {
 protected:
  std::function<Result<std::size_t>()> write_in_thread(PipeEnd& writer) {
    auto tid = std::make_shared<std::atomic<int>>(0);
    auto written = std::make_shared<std::optional<Result<std::size_t>>>();
    auto thread = std::make_shared<std::thread>([&writer, tid, written, this] {
      *tid = sluice::testing::current_thread_id();
      *written = writer.write(big);
    });
    EXPECT_TRUE(sluice::testing::wait_until_sleeping(*tid, 10s)) << "the write never waited";
    writer_thread_ = thread;
    return [thread, written]() -> Result<std::size_t> {
      thread->join();
      return **written;
    };
  }
  static ServerOptions small_quota() {
    ServerOptions o = message_pipe();
    o.out_buffer_size = 1024;
    o.in_buffer_size = 1024;
    return o;
  }
  const std::vector<std::byte> big = letters(10 * 1024, 'm');
  std::shared_ptr<std::thread> writer_thread_;
};

// Before the arena, a read found only the part of the message that fit the ring's free room
// and waited in the middle of the message for the rest.
TEST_F(PendingMessage, AReadTakesItWholeAtOnce) {
  auto [s, c] = connected(small_quota());
  auto join = write_in_thread(s);
  // The writing thread is held in a signal handler: nothing more of its write can come now.
  sluice::testing::Freezer freezer;
  freezer.freeze(writer_thread_->native_handle());
  std::vector<std::byte> buf(16 * 1024);
  std::optional<Result<ReadResult>> read;
  ASSERT_TRUE(c.async_read(buf, context.executor(), [&](Result<ReadResult> r) { read = r; }));
  EXPECT_EQ(c.cancel(), 0u) << "the read waited for part of the message";
  run_until([&] { return read.has_value(); });
  ASSERT_TRUE(*read) << read->error().message();
  EXPECT_EQ((*read)->bytes, big.size());
  EXPECT_FALSE((*read)->more_data);
  freezer.release();
  auto written = join();
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, big.size());
}

// What a read took of a message belongs to that connection: after a disconnect, the next
// client's first message arrives alone.
TEST_F(PendingMessage, WhatAReadTookDoesNotOutliveTheConnection) {
  auto [s, c] = connected(small_quota());
  auto join = write_in_thread(c);
  std::vector<std::byte> part(4 * 1024);
  auto first = s.read(part);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(first->more_data);
  ASSERT_TRUE(s.disconnect());
  EXPECT_FALSE(join()) << "the write outlived its connection";
  c.close();
  std::optional<Result<ConnectStatus>> listening;
  ASSERT_TRUE(s.async_connect(context.executor(), [&](Result<ConnectStatus> r) { listening = r; }));
  auto next = ClientEnd::open(registry(), pipe_name());
  ASSERT_TRUE(next);
  run_until([&] { return listening.has_value(); });
  ASSERT_TRUE(*listening);
  ASSERT_TRUE(next->write(bytes("fresh")));
  std::vector<std::byte> buf(16 * 1024);
  auto r = s.read(buf);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(text(std::span(buf.data(), r->bytes)), "fresh");
}

// A message larger than the arena (kMaxArenaSize, 1 GiB) streams through the ring in pieces. A
// read cancelled while the rest of such a message is still on its way keeps what it took in the
// end (carry_); for the program those bytes are still in the pipe, as they would be on Windows,
// where a cancelled read takes nothing: PeekNamedPipe counts them and a byte-mode read gets them.
class StreamingMessage : public AsyncPipe {
 protected:
  static constexpr std::size_t kSize = (std::size_t{1} << 30) + (std::size_t{1} << 20);
  void SetUp() override {
    AsyncPipe::SetUp();
    // Untouched anonymous pages read as zeros without being given memory: only the first page,
    // the pattern a reader must see first, is written.
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    source_ = static_cast<std::byte*>(p);
    for (std::size_t i = 0; i < 4096; ++i) source_[i] = static_cast<std::byte>('a' + i % 26);
  }
  // Ends the scene however the test ended (a failed assertion included): the reader goes, then
  // the writer is let go and finds its reader gone; the server end closes after it.
  void TearDown() override {
    if (client_) client_->close();
    freezer_.release();
    if (writer_.joinable()) {
      writer_.join();
      EXPECT_TRUE(written_ && !*written_) << "the write outlived its reader";
    }
    server_.reset();
    client_.reset();
    if (source_) ::munmap(source_, kSize);
    AsyncPipe::TearDown();
  }
  // Connects a message pipe with a 4 KiB ring, starts the huge write from the server, freezes
  // the writer once the ring is full, and has an asynchronous read take the ring's part of the
  // message and then be cancelled. Returns the client end and how many bytes the read took, as
  // a peek counts them.
  std::pair<ClientEnd&, std::size_t> cancel_a_read_inside_the_message() {
    ServerOptions o = message_pipe();
    o.out_buffer_size = 1024;
    auto [s, c] = connected(o);
    ServerEnd& server = server_.emplace(std::move(s));
    ClientEnd& client = client_.emplace(std::move(c));
    auto tid = std::make_shared<std::atomic<int>>(0);
    writer_ = std::thread([&server, tid, this] {
      *tid = sluice::testing::current_thread_id();
      written_ = server.write(std::span<const std::byte>(source_, kSize));
    });
    EXPECT_TRUE(sluice::testing::wait_until_sleeping(*tid, 10s)) << "the write never waited";
    // From here on the writer runs no code of its own until released: nothing more comes.
    freezer_.freeze(writer_.native_handle());
    std::vector<std::byte> buf(64 * 1024);
    std::optional<Result<ReadResult>> read;
    EXPECT_TRUE(
        client.async_read(buf, context.executor(), [&](Result<ReadResult> r) { read = r; }));
    EXPECT_EQ(context.poll(), 0u) << "the read was to wait for the rest of the message";
    EXPECT_EQ(client.cancel(), 1u);
    run_until([&] { return read.has_value(); });
    EXPECT_FALSE(*read);
    auto left = client.peek();
    return {client, left ? left->total_available : 0};
  }
  std::string first(std::size_t n) const {
    return std::string(reinterpret_cast<const char*>(source_), n);
  }
  std::byte* source_ = nullptr;
  std::optional<ServerEnd> server_;
  std::optional<ClientEnd> client_;
  std::thread writer_;
  std::optional<Result<std::size_t>> written_;
  sluice::testing::Freezer freezer_;
};

TEST_F(StreamingMessage, BytesACancelledReadKeptArePeekedAtTheHeadOfThePipe) {
  auto [c, kept] = cancel_a_read_inside_the_message();
  ASSERT_GT(kept, 100u) << "PeekNamedPipe did not count what the cancelled read kept";
  std::vector<std::byte> buf(100);
  auto peeked = c.peek(buf);
  ASSERT_TRUE(peeked) << peeked.error().message();
  EXPECT_EQ(peeked->bytes_read, 100u);
  EXPECT_EQ(text(buf), first(100));
  EXPECT_GE(peeked->bytes_left_this_message, kept - 100);
}

TEST_F(StreamingMessage, BytesACancelledReadKeptReachAByteModeRead) {
  auto [c, kept] = cancel_a_read_inside_the_message();
  ASSERT_GT(kept, 100u);
  // A no-wait byte read: before, it looked only at the (empty) ring and found nothing.
  ASSERT_TRUE(c.set_state(ReadMode::kByte, WaitMode::kNoWait));
  std::vector<std::byte> buf(100);
  auto r = c.read(buf);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bytes, 100u);
  EXPECT_EQ(text(std::span(buf.data(), r->bytes)), first(100));
  std::vector<std::byte> rest(kept);
  auto r2 = c.read(rest);
  ASSERT_TRUE(r2) << r2.error().message();
  EXPECT_EQ(r2->bytes, kept - 100) << "the rest of what was kept, and nothing the writer holds";
  EXPECT_EQ(text(std::span(rest.data(), std::min<std::size_t>(r2->bytes, 50))),
            std::string(reinterpret_cast<const char*>(source_) + 100, 50));
}

}  // namespace
}  // namespace sluice
