// PipeEnd::read_in_place: a read that shows the bytes where they lie instead of copying them.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"
#include "thread_state.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::bytes;

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::byte>((i * 251 + seed + i / 7) & 0xFF);
  return v;
}

class ReadInPlace : public testing::PipeTest {
 protected:
  std::pair<ServerEnd, ClientEnd> connected(PipeType type, std::uint32_t quota) {
    ServerEnd s = sized_server(quota, type);
    auto c = ClientEnd::open(registry(), pipe_name());
    EXPECT_TRUE(c) << c.error().message();
    if (type == PipeType::kMessage) {
      EXPECT_TRUE(s.set_state(ReadMode::kMessage, WaitMode::kWait));
    }
    return {std::move(s), std::move(*c)};
  }
  // Reads in place, gluing the pieces together, and counts them.
  Result<ReadResult> read(PipeEnd& end) {
    got.clear();
    pieces = 0;
    return end.read_in_place([this](std::span<const std::byte> piece) {
      got.insert(got.end(), piece.begin(), piece.end());
      ++pieces;
    });
  }
  std::vector<std::byte> got;
  int pieces = 0;
};

TEST_F(ReadInPlace, AMessageInTheArenaIsSeenWholeInOnePiece) {
  auto [s, c] = connected(PipeType::kMessage, 4096);
  auto big = pattern(1 << 20, 1);
  std::thread writer([&c = c, &big] { EXPECT_TRUE(c.write(big)); });  // waits for the read
  auto r = read(s);
  writer.join();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bytes, big.size());
  EXPECT_FALSE(r->more_data);
  EXPECT_EQ(pieces, 1);
  EXPECT_EQ(got, big);
}

TEST_F(ReadInPlace, AMessageAcrossTheRingsEndComesInTwoPiecesAndTheNextOneStaysForTheNextRead) {
  auto [s, c] = connected(PipeType::kMessage, 0);  // a 64 KiB ring
  auto first = pattern(40 * 1024, 2), second = pattern(40 * 1024, 3), third = pattern(100, 4);
  std::thread writer([&c = c, &first, &second, &third] {
    EXPECT_TRUE(c.write(first));
    EXPECT_TRUE(c.write(second));  // after the first was read: it wraps round the ring's end
    EXPECT_TRUE(c.write(third));
  });
  ASSERT_TRUE(read(s));
  EXPECT_EQ(got, first);
  auto r = read(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(pieces, 2);
  EXPECT_EQ(got, second);
  ASSERT_TRUE(read(s));
  EXPECT_EQ(got, third);
  writer.join();
}

TEST_F(ReadInPlace, ByteReadModeTakesEveryByteThere) {
  auto [s, c] = connected(PipeType::kByte, 65536);
  ASSERT_TRUE(c.write(bytes("abc")));
  ASSERT_TRUE(c.write(bytes("defg")));
  auto r = read(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 7u);
  EXPECT_EQ(testing::text(got), "abcdefg");
  EXPECT_EQ(s.peek()->total_available, 0u);
}

TEST_F(ReadInPlace, ItWaitsForDataAsAReadDoes) {
  auto [s, c] = connected(PipeType::kMessage, 65536);
  std::atomic<int> reading{0};
  Result<ReadResult> r = errc::kIoPending;
  std::thread reader([&, &s = s] {
    reading = testing::current_thread_id();
    r = read(s);
  });
  ASSERT_TRUE(testing::wait_until_sleeping(reading, 5s));
  ASSERT_TRUE(c.write(bytes("late")));
  reader.join();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(testing::text(got), "late");
}

TEST_F(ReadInPlace, WithoutAVisitorItIsRefused) {
  auto [s, c] = connected(PipeType::kMessage, 65536);
  EXPECT_EQ(s.read_in_place({}).error(), errc::kInvalidParameter);
  EXPECT_EQ(ServerEnd{}.read_in_place([](std::span<const std::byte>) {}).error(),
            errc::kInvalidHandle);
}

}  // namespace
}  // namespace sluice
