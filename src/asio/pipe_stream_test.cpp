// The Asio adapter's stream: whole-buffer transfers, eof, errors, cancellation, destruction.
#include "sluice/asio/pipe_stream.hpp"

#include <gtest/gtest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/read.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "asio_fixture.hpp"

namespace sluice::asio {
namespace {

using namespace std::chrono_literals;
using sluice::testing::bytes;
using sluice::testing::text;
using testing::AsioPipeTest;

struct Outcome {
  std::error_code error;
  std::size_t bytes = 0;
};

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return v;
}

class AsioStream : public AsioPipeTest {};

TEST_F(AsioStream, AsyncReadAndAsyncWriteMoveAWholeBufferOverABytePipe) {
  ServerOptions o;
  o.out_buffer_size = 4096;  // smaller than the data: the writer waits for the reader
  auto [s, c] = connected(o);
  auto data = pattern(300 * 1024, 7);
  std::vector<std::byte> got(data.size());
  std::optional<Outcome> wrote, read;
  ::asio::async_write(s, ::asio::buffer(data), [&](std::error_code e, std::size_t n) {
    wrote = Outcome{e, n};
  });
  ::asio::async_read(c, ::asio::buffer(got), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  run_until([&] { return wrote && read; });
  EXPECT_FALSE(wrote->error) << wrote->error.message();
  EXPECT_EQ(wrote->bytes, data.size());
  EXPECT_FALSE(read->error) << read->error.message();
  EXPECT_EQ(read->bytes, data.size());
  EXPECT_EQ(got, data);
}

TEST_F(AsioStream, AsyncReadAndAsyncWriteMoveWholeBuffersOverAMessagePipe) {
  auto [s, c] = connected(message_pipe());
  // Three messages, one of them gathered from two buffers.
  std::string a = "first", b1 = "sec", b2 = "ond", d = "third";
  std::array<::asio::const_buffer, 2> gathered{::asio::buffer(b1), ::asio::buffer(b2)};
  int written = 0;
  auto count = [&](std::error_code e, std::size_t) { written += !e; };
  ::asio::async_write(s, ::asio::buffer(a), count);
  ::asio::async_write(s, gathered, count);
  ::asio::async_write(s, ::asio::buffer(d), count);
  run_until([&] { return written == 3; });
  // Message by message with read_some: boundaries are kept, the gathered one is one message.
  std::vector<std::string> messages;
  char buf[64];
  std::function<void(std::error_code, std::size_t)> next = [&](std::error_code e, std::size_t n) {
    ASSERT_FALSE(e) << e.message();
    messages.emplace_back(buf, n);
    if (messages.size() < 3) c.async_read_some(::asio::buffer(buf), next);
  };
  c.async_read_some(::asio::buffer(buf), next);
  run_until([&] { return messages.size() == 3; });
  EXPECT_EQ(messages, (std::vector<std::string>{"first", "second", "third"}));
  // asio::async_read fills a whole buffer across message boundaries.
  std::optional<Outcome> read;
  std::string whole(11, '\0');
  ::asio::async_write(c, ::asio::buffer(std::string_view("hello ")), count);
  ::asio::async_write(c, ::asio::buffer(std::string_view("world")), count);
  ::asio::async_read(s, ::asio::buffer(whole), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  run_until([&] { return read && written == 5; });
  EXPECT_FALSE(read->error);
  EXPECT_EQ(whole, "hello world");
}

TEST_F(AsioStream, ReadSomeReturnsPartOfALongMessageAndKeepsTheRestForTheNextRead) {
  auto [s, c] = connected(message_pipe());
  ASSERT_TRUE(c.with_end([](PipeEnd& e) { return e.write(bytes("abcdefgh")); }));
  char buf[5];
  std::optional<Outcome> first, second;
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    first = Outcome{e, n};
  });
  run_until([&] { return first.has_value(); });
  EXPECT_FALSE(first->error);
  EXPECT_EQ(std::string(buf, first->bytes), "abcde");
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    second = Outcome{e, n};
  });
  run_until([&] { return second.has_value(); });
  EXPECT_EQ(std::string(buf, second->bytes), "fgh");
}

// Failed before (no way to tell): a 100-byte message read 40 bytes at a time arrived as 40, 40,
// 20 with no sign where it ends.
TEST_F(AsioStream, EachReadSaysWhetherItEndedItsMessage) {
  auto [s, c] = connected(message_pipe());
  ASSERT_TRUE(c.with_end([](PipeEnd& e) { return e.write(pattern(100, 1)); }));
  ASSERT_TRUE(c.with_end([](PipeEnd& e) { return e.write(pattern(10, 2)); }));
  EXPECT_TRUE(s.is_message_complete()) << "before any read";
  std::vector<std::pair<std::size_t, bool>> reads;
  char buf[40];
  std::function<void(std::error_code, std::size_t)> next = [&](std::error_code e, std::size_t n) {
    ASSERT_FALSE(e) << e.message();
    reads.emplace_back(n, s.is_message_complete());
    if (reads.size() < 4) s.async_read_some(::asio::buffer(buf), next);
  };
  s.async_read_some(::asio::buffer(buf), next);
  run_until([&] { return reads.size() == 4; });
  EXPECT_EQ(reads, (std::vector<std::pair<std::size_t, bool>>{
                       {40, false}, {40, false}, {20, true}, {10, true}}));
}

TEST_F(AsioStream, ReadMessageAppendsOneWholeMessageOfAnySize) {
  auto [s, c] = connected(message_pipe());
  auto big = pattern(1 << 20, 3);  // far more than the first 4 KiB the buffer grows by
  std::optional<Outcome> wrote;
  s.async_write_some(::asio::buffer(big), [&](std::error_code e, std::size_t n) {
    wrote = Outcome{e, n};
  });
  std::vector<std::byte> first, second;
  std::optional<Outcome> read1, read2;
  c.async_read_message(::asio::dynamic_buffer(first), [&](std::error_code e, std::size_t n) {
    read1 = Outcome{e, n};
  });
  run_until([&] { return read1 && wrote; });
  ASSERT_FALSE(read1->error) << read1->error.message();
  EXPECT_EQ(read1->bytes, big.size());
  EXPECT_EQ(first, big);
  // An empty message is one message too, and the next one is not glued to it.
  ASSERT_TRUE(s.with_end([](PipeEnd& e) { return e.write(std::span<const std::byte>()); }));
  ASSERT_TRUE(s.with_end([](PipeEnd& e) { return e.write(bytes("after")); }));
  c.async_read_message(::asio::dynamic_buffer(second), [&](std::error_code e, std::size_t n) {
    read2 = Outcome{e, n};
  });
  run_until([&] { return read2.has_value(); });
  EXPECT_FALSE(read2->error);
  EXPECT_EQ(read2->bytes, 0u);
  std::string after;
  std::optional<Outcome> read3;
  c.async_read_message(::asio::dynamic_buffer(after), [&](std::error_code e, std::size_t n) {
    read3 = Outcome{e, n};
  });
  run_until([&] { return read3.has_value(); });
  EXPECT_EQ(after, "after");
  // A buffer whose max_size the message exceeds: message_size, the rest left for the next read.
  std::string small;
  std::optional<Outcome> read4;
  ASSERT_TRUE(s.with_end([](PipeEnd& e) { return e.write(bytes("0123456789")); }));
  c.async_read_message(::asio::dynamic_buffer(small, 4), [&](std::error_code e, std::size_t n) {
    read4 = Outcome{e, n};
  });
  run_until([&] { return read4.has_value(); });
  EXPECT_EQ(read4->error, ::asio::error::message_size);
  EXPECT_EQ(small, "0123");
  EXPECT_FALSE(c.is_message_complete());
}

TEST_F(AsioStream, PeerCloseIsEofSoAnAsyncReadLoopEndsNaturally) {
  auto [s, c] = connected();
  ASSERT_TRUE(c.with_end([](PipeEnd& e) { return e.write(bytes("the last words")); }));
  c.close();
  std::string got;
  std::optional<Outcome> read;
  ::asio::async_read(s, ::asio::dynamic_buffer(got), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  run_until([&] { return read.has_value(); });
  EXPECT_EQ(read->error, ::asio::error::eof);
  EXPECT_EQ(read->bytes, 14u);
  EXPECT_EQ(got, "the last words");
  // And a read after that: eof again, at once.
  std::optional<Outcome> again;
  char buf[4];
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    again = Outcome{e, n};
  });
  run_until([&] { return again.has_value(); });
  EXPECT_EQ(again->error, ::asio::error::eof);
}

TEST_F(AsioStream, PeerDisconnectFailsReadsAndWritesWithSluiceErrors) {
  auto [s, c] = connected();
  char buf[8];
  std::optional<Outcome> read, wrote;
  c.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  ASSERT_TRUE(s.disconnect());
  run_until([&] { return read.has_value(); });
  EXPECT_EQ(read->error, errc::kPipeNotConnected);
  EXPECT_STREQ(read->error.category().name(), "sluice");
  EXPECT_EQ(read->error.value(), 233);
  c.async_write_some(::asio::buffer(std::string_view("late")),
                     [&](std::error_code e, std::size_t n) {
                       wrote = Outcome{e, n};
                     });
  run_until([&] { return wrote.has_value(); });
  EXPECT_EQ(wrote->error, errc::kPipeNotConnected);
}

TEST_F(AsioStream, WritingToAClosedPeerFailsWithNoData) {
  auto [s, c] = connected();
  c.close();
  std::optional<Outcome> wrote;
  ::asio::async_write(s, ::asio::buffer(std::string_view("anyone?")),
                      [&](std::error_code e, std::size_t n) {
                        wrote = Outcome{e, n};
                      });
  run_until([&] { return wrote.has_value(); });
  EXPECT_EQ(wrote->error, errc::kNoData);
  EXPECT_EQ(wrote->bytes, 0u);
}

TEST_F(AsioStream, ACancellationSignalAbortsAPendingReadAndTheStreamStillWorks) {
  auto [s, c] = connected();
  ::asio::cancellation_signal signal;
  char buf[16];
  std::optional<Outcome> read;
  s.async_read_some(::asio::buffer(buf), ::asio::bind_cancellation_slot(
                                             signal.slot(), [&](std::error_code e, std::size_t n) {
                                               read = Outcome{e, n};
                                             }));
  EXPECT_EQ(context.poll(), 0u);
  signal.emit(::asio::cancellation_type::terminal);
  run_until([&] { return read.has_value(); });
  EXPECT_EQ(read->error, ::asio::error::operation_aborted);
  signal.emit(::asio::cancellation_type::terminal);  // after completion: no effect
  ASSERT_TRUE(c.with_end([](PipeEnd& e) { return e.write(bytes("after")); }));
  std::optional<Outcome> again;
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    again = Outcome{e, n};
  });
  run_until([&] { return again.has_value(); });
  EXPECT_FALSE(again->error);
  EXPECT_EQ(std::string(buf, again->bytes), "after");
}

TEST_F(AsioStream, CloseCompletesPendingOperationsWithOperationAborted) {
  ServerOptions o;
  o.out_buffer_size = 0;  // every write waits for the reader
  auto [s, c] = connected(o);
  char buf[8];
  std::optional<Outcome> read, wrote;
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  s.async_write_some(::asio::buffer(std::string_view("stuck")),
                     [&](std::error_code e, std::size_t n) {
                       wrote = Outcome{e, n};
                     });
  EXPECT_EQ(context.poll(), 0u);
  s.close();
  EXPECT_FALSE(s.is_open());
  run_until([&] { return read && wrote; });
  EXPECT_EQ(read->error, ::asio::error::operation_aborted);
  EXPECT_EQ(wrote->error, ::asio::error::operation_aborted);
  // Operations on the closed stream fail through the handler, never inside the call.
  std::optional<Outcome> late;
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    late = Outcome{e, n};
  });
  EXPECT_FALSE(late);
  run_until([&] { return late.has_value(); });
  EXPECT_EQ(late->error, errc::kInvalidHandle);
}

TEST_F(AsioStream, DestroyingAStreamWithPendingOperationsCompletesThemWithOperationAborted) {
  std::optional<Outcome> read;
  char buf[8];
  auto [server, c] = connected();  // the client stays open: only the destructor can end the read
  {
    PipeStream s(std::move(server));
    s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
      read = Outcome{e, n};
    });
    EXPECT_EQ(context.poll(), 0u);
  }
  run_until([&] { return read.has_value(); });
  EXPECT_EQ(read->error, ::asio::error::operation_aborted);
}

TEST_F(AsioStream, DestroyingTheContextFreesACoroutineSuspendedOnARead) {
  auto frame_alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = frame_alive;
  auto [s, c] = connected_ends();
  {
    ::asio::io_context other;
    PipeStream server(other, std::move(s));
    ::asio::co_spawn(
        other,
        [&server, keep = std::move(frame_alive)]() -> ::asio::awaitable<void> {
          char buf[8];
          co_await server.async_read_some(::asio::buffer(buf), ::asio::use_awaitable);
          ADD_FAILURE() << "the read should never complete";
        },
        ::asio::detached);
    other.run_for(20ms);  // the coroutine is now suspended on the read
    EXPECT_FALSE(watch.expired());
    other.stop();
    // `server` goes first (its destructor aborts the read), then the context destroys the
    // aborted completion unrun, and the coroutine frame with it.
  }
  EXPECT_TRUE(watch.expired());
}

TEST_F(AsioStream, ContextShutdownFreesACoroutineThatOwnsItsStream) {
  std::weak_ptr<int> watch;
  auto [end, c] = connected_ends();
  {
    ::asio::io_context other;
    auto alive = std::make_shared<int>(0);
    watch = alive;
    // The frame owns the stream, the stream's pending read owns the frame: only the service's
    // shutdown breaks the cycle.
    ::asio::co_spawn(
        other,
        [stream = PipeStream(other, std::move(end)),
         keep = std::move(alive)]() mutable -> ::asio::awaitable<void> {
          char buf[8];
          co_await stream.async_read_some(::asio::buffer(buf), ::asio::use_awaitable);
        },
        ::asio::detached);
    other.run_for(20ms);
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

TEST_F(AsioStream, AnEmptyReadCompletesAtOnceWithZeroBytes) {
  auto [s, c] = connected();
  std::optional<Outcome> read;
  s.async_read_some(::asio::mutable_buffer(), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  EXPECT_FALSE(read);
  run_until([&] { return read.has_value(); });
  EXPECT_FALSE(read->error);
  EXPECT_EQ(read->bytes, 0u);
}

TEST_F(AsioStream, HandlersRunOnTheirAssociatedExecutor) {
  auto [s, c] = connected();
  auto strand = ::asio::make_strand(context);
  bool on_strand = false;
  std::optional<Outcome> read;
  char buf[8];
  s.async_read_some(::asio::buffer(buf),
                    ::asio::bind_executor(strand, [&](std::error_code e, std::size_t n) {
                      on_strand = strand.running_in_this_thread();
                      read = Outcome{e, n};
                    }));
  ASSERT_TRUE(c.with_end([](PipeEnd& e) { return e.write(bytes("hi")); }));
  run_until([&] { return read.has_value(); });
  EXPECT_TRUE(on_strand);
  EXPECT_EQ(read->bytes, 2u);
}

TEST_F(AsioStream, APendingOperationKeepsRunBusyUntilItCompletes) {
  auto [s, c] = connected();
  char buf[8];
  std::optional<Outcome> read;
  s.async_read_some(::asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    read = Outcome{e, n};
  });
  std::thread writer([&c] {
    std::this_thread::sleep_for(50ms);
    (void)c.with_end([](PipeEnd& e) { return e.write(bytes("wake")); });
  });
  context.run();  // returns only once the read completed: it counted as outstanding work
  writer.join();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->bytes, 4u);
}

TEST_F(AsioStream, DeferredAndUseAwaitableTokensWork) {
  auto [s, c] = connected(message_pipe());
  std::string got;
  ::asio::co_spawn(
      context,
      [&]() -> ::asio::awaitable<void> {
        auto send = c.async_write_some(::asio::buffer(std::string_view("deferred")),
                                       ::asio::experimental::deferred);
        std::size_t sent = co_await std::move(send)(::asio::use_awaitable);
        EXPECT_EQ(sent, 8u);
        char buf[32];
        std::size_t n = co_await s.async_read_some(::asio::buffer(buf), ::asio::use_awaitable);
        got.assign(buf, n);
      },
      ::asio::detached);
  run_until([&] { return !got.empty(); });
  EXPECT_EQ(got, "deferred");
}

TEST_F(AsioStream, ACoroutineSeesCancellationAsAnOperationAbortedException) {
  auto [s, c] = connected();
  ::asio::cancellation_signal signal;
  std::optional<std::error_code> caught;
  ::asio::co_spawn(
      context,
      [&]() -> ::asio::awaitable<void> {
        char buf[8];
        try {
          co_await s.async_read_some(::asio::buffer(buf), ::asio::use_awaitable);
        } catch (const std::system_error& e) {
          caught = e.code();
        }
      },
      ::asio::bind_cancellation_slot(signal.slot(), ::asio::detached));
  context.poll();
  EXPECT_FALSE(caught);
  signal.emit(::asio::cancellation_type::terminal);
  run_until([&] { return caught.has_value(); });
  EXPECT_EQ(*caught, ::asio::error::operation_aborted);
}

TEST_F(AsioStream, StreamsOnAContextRunByTwoThreadsCarryManyExchanges) {
  constexpr int kPairs = 8, kRounds = 200;
  std::vector<std::pair<PipeStream, PipeStream>> pipes;
  for (int i = 0; i < kPairs; ++i) {
    auto s = ServerEnd::create(registry(), pipe_name(std::to_string(i)), message_pipe());
    ASSERT_TRUE(s);
    auto c = ClientEnd::open(registry(), pipe_name(std::to_string(i)));
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->set_state(ReadMode::kMessage, WaitMode::kWait));
    pipes.emplace_back(PipeStream(::asio::make_strand(context), std::move(*s)),
                       PipeStream(::asio::make_strand(context), std::move(*c)));
  }
  std::atomic<int> finished{0};
  for (auto& [server, client] : pipes) {
    ::asio::co_spawn(
        server.get_executor(),
        [&server]() -> ::asio::awaitable<void> {
          char buf[64];
          for (int r = 0; r < kRounds; ++r) {
            auto n = co_await server.async_read_some(::asio::buffer(buf), ::asio::use_awaitable);
            co_await ::asio::async_write(server, ::asio::buffer(buf, n), ::asio::use_awaitable);
          }
        },
        ::asio::detached);
    ::asio::co_spawn(
        client.get_executor(),
        [&client, &finished]() -> ::asio::awaitable<void> {
          char buf[64];
          for (int r = 0; r < kRounds; ++r) {
            std::string msg = "round " + std::to_string(r);
            co_await ::asio::async_write(client, ::asio::buffer(msg), ::asio::use_awaitable);
            auto n = co_await client.async_read_some(::asio::buffer(buf), ::asio::use_awaitable);
            EXPECT_EQ(std::string(buf, n), msg);
          }
          ++finished;
        },
        ::asio::detached);
  }
  std::thread second([this] { context.run(); });
  context.run();
  second.join();
  EXPECT_EQ(finished.load(), kPairs);
}

}  // namespace
}  // namespace sluice::asio
