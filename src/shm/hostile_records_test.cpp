// Every lie a producer can tell in its own segment (tests/support/hostile_segment.hpp), read by an
// honest Channel in the same process, the way core reads: each read returns data or kBadPipe,
// never more than the buffer holds; a reader that looks again after every read that brought
// something comes to rest (core would then sleep) instead of finding a fragment it can never
// take (core would spin on it); and once the producer is dead, what it left comes to an end.
// Buffers are sized exactly, so a copy past one stops these tests under ASan (the ring itself is
// a mapping ASan does not watch: a copy past it faults only where no mapping follows).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hostile_segment.hpp"
#include "shm/channel.hpp"

namespace sluice::shm {
namespace {

using testing::HostileSegment;
using testing::RecordShape;
using testing::Seen;

struct Pair {
  Channel producer;  // the liar: its own segment is its to write
  Channel reader;    // honest
};

Pair connected_pair() {
  Pair p{Channel::create(4096).value(), Channel::create(4096).value()};
  EXPECT_TRUE(p.producer.attach_peer(os::duplicate_descriptor(p.reader.own_fd()).value()));
  EXPECT_TRUE(p.reader.attach_peer(os::duplicate_descriptor(p.producer.own_fd()).value()));
  return p;
}

// An honest message read before the lie, so that the lie does not sit at ring position 0.
void honest_prefix(Pair& p) {
  const char hello[] = "an honest message first";
  p.producer.append(reinterpret_cast<const std::byte*>(hello), sizeof hello, kFirst | kLast);
  std::vector<std::byte> out(sizeof hello);
  auto t = p.reader.read_message(out.data(), out.size());
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->message_done);
}

enum class Op { kBytes, kMessage, kPeek };
const char* op_name(Op op) {
  return op == Op::kBytes ? "read_bytes" : op == Op::kMessage ? "read_message" : "peek";
}

struct Outcome {
  bool data = false;      // some read returned (bytes, or an empty message)
  bool bad_pipe = false;  // some call failed with kBadPipe
  std::string problem;    // what core would have done wrong with these answers
};

// Reads as core's read loop does until a read brings nothing. Core looks again after every
// read that consumed something, and waits (asleep until the fragment at its position changes)
// after one that consumed nothing: so a read that takes nothing while has_fragment() says a
// fragment is there would keep core busy for ever.
Outcome read_until_rest(Channel& reader, Op op) {
  Outcome o;
  std::vector<std::byte> buffer(reader.peer().ring_capacity);  // every message fits
  std::size_t in_message = 0;                                  // message mode: bytes so far
  // A ring holds at most capacity / 16 fragments: reading it all takes no more rounds.
  const std::uint64_t rounds = reader.peer().ring_capacity / kFragmentHeaderSize + 4;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    if (op == Op::kPeek) {
      auto p = reader.peek(buffer.data(), buffer.size(), true);
      if (!p) {
        if (p.error() != errc::kBadPipe) o.problem = "peek failed with " + p.error().message();
        o.bad_pipe = true;
        return o;
      }
      if (p->bytes > buffer.size()) o.problem = "peek copied more than the buffer holds";
      o.data = p->bytes > 0;
      return o;  // a peek consumes nothing: one look is all there is
    }
    Result<Taken> t = op == Op::kBytes
                          ? reader.read_bytes(buffer.data(), buffer.size())
                          : reader.read_message(buffer.data() + in_message,
                                                buffer.size() - in_message, in_message > 0);
    if (!t) {
      if (t.error() != errc::kBadPipe) o.problem = "read failed with " + t.error().message();
      o.bad_pipe = true;
      return o;
    }
    if (t->bytes > buffer.size() - in_message) {
      o.problem = "read copied more than the buffer holds";
      return o;
    }
    if (op == Op::kBytes) {
      o.data = o.data || t->consumed;
    } else {
      in_message += t->bytes;
      if (t->message_done) {
        o.data = true;
        in_message = 0;
      }
    }
    if (!t->consumed && !t->message_done) {
      // Nothing came: core waits now, woken by the fragment at its position changing.
      if (reader.has_fragment()) o.problem = "a fragment is there that no read ever takes";
      return o;
    }
  }
  o.problem = "reads kept consuming after a whole ring";
  return o;
}

// A lie in the producer's records or counters, read each way a reader reads.
void check_reader_side(const RecordShape& shape) {
  for (Op op : {Op::kBytes, Op::kMessage, Op::kPeek}) {
    SCOPED_TRACE(op_name(op));
    Pair p = connected_pair();
    honest_prefix(p);
    HostileSegment evil(p.producer);
    shape.forge(evil);

    Outcome alive = read_until_rest(p.reader, op);
    EXPECT_EQ(alive.problem, "");
    if (op != Op::kPeek) {
      switch (shape.reader_sees) {
        case Seen::kData:
          EXPECT_TRUE(alive.data);
          break;
        case Seen::kNothing:
          EXPECT_FALSE(alive.data);
          EXPECT_FALSE(alive.bad_pipe);
          break;
        case Seen::kBadPipe:
          EXPECT_TRUE(alive.bad_pipe);
          break;
        case Seen::kBrokenPipe:
          EXPECT_NE(p.reader.peer_state(), EndState::kOpen);
          break;
        case Seen::kAny:
          break;
      }
    }

    // The producer dies (core notices its hung-up socket and calls this): what it left must
    // come to an end, so that core can say kBrokenPipe.
    p.reader.drop_pending_writes_of_dead_peer();
    Outcome dead = read_until_rest(p.reader, op == Op::kPeek ? Op::kMessage : op);
    EXPECT_EQ(dead.problem, "");
    if (!dead.bad_pipe) {
      EXPECT_FALSE(p.reader.has_fragment()) << "a dead producer's fragment is still there";
    }
  }
}

// The lies of the consumer line meet the peer's writing: an honest producer (here `reader`,
// writing to the liar) fills its ring, and every later look at room or progress gives room, no
// room or kBadPipe; a write that waits for the liar to read never completes on a lie.
void check_writer_side(const RecordShape& shape) {
  Pair p = connected_pair();
  Channel& writer = p.reader;  // honest, writes to the liar
  Channel& liar = p.producer;
  std::vector<std::byte> message(1000, std::byte{'w'});
  auto fill = [&] {
    const std::uint64_t rounds = writer.own().ring_capacity / kFragmentHeaderSize + 4;
    for (std::uint64_t i = 0; i < rounds; ++i) {
      auto room = writer.fragment_room(message.size());
      if (!room) return room.error();
      if (*room < static_cast<std::int64_t>(message.size())) return std::error_code{};
      writer.append(message.data(), message.size(), kFirst | kLast);
    }
    ADD_FAILURE() << "the ring never filled";
    return std::error_code{};
  };
  ASSERT_EQ(fill(), std::error_code{});
  std::vector<std::byte> out(1500);
  ASSERT_TRUE(liar.read_message(out.data(), out.size()));  // the liar reads one, honestly
  HostileSegment evil(liar);
  shape.forge(evil);

  std::error_code e = fill();
  if (e || shape.reader_sees == Seen::kBadPipe) {
    EXPECT_EQ(e, errc::kBadPipe);
  }
  auto unread = writer.unread_by_peer();
  if (!unread) {
    EXPECT_EQ(unread.error(), errc::kBadPipe);
  }
  if (shape.reader_sees == Seen::kNothing) {
    // What the liar claims to have read is more than was written: no write completes on it.
    EXPECT_FALSE(writer.peer_has_read(writer.payload_written())) << "a write completed on a lie";
  }
}

// One test per side, not one per shape: each shape takes microseconds, and a test of its own
// would cost a process start under ctest. The trace names the shape that fails.
TEST(HostileRecord, EveryLieInItsRecordsGivesDataOrBadPipeComesToRestAndEndsWithItsProducer) {
  for (const auto& shape : testing::record_shapes()) {
    if (shape.writer_side) continue;
    SCOPED_TRACE(shape.name);
    check_reader_side(shape);
  }
}

TEST(HostileRecord, EveryLieAboutWhatItReadGivesRoomNoRoomOrBadPipeAndCompletesNoWrite) {
  for (const auto& shape : testing::record_shapes()) {
    if (!shape.writer_side) continue;
    SCOPED_TRACE(shape.name);
    check_writer_side(shape);
  }
}

TEST(HostileRecord, ARecordAcrossTheRingEndIsCopiedWhole) {
  Pair p = connected_pair();
  honest_prefix(p);
  HostileSegment evil(p.producer);
  auto n = static_cast<std::uint32_t>(evil.capacity() - kFragmentHeaderSize);
  auto payload = testing::shapes::payload(n, 8);
  evil.record(n, kFirst | kLast, payload);  // from just past the prefix round to just before it
  std::vector<std::byte> out(n);
  auto t = p.reader.read_message(out.data(), out.size());
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->message_done);
  ASSERT_EQ(t->bytes, n);
  EXPECT_EQ(std::memcmp(out.data(), payload.data(), n), 0);
}

TEST(HostileRecord, ALengthThatShrinksUnderAPartReadIsBadPipe) {
  Pair p = connected_pair();
  HostileSegment evil(p.producer);
  std::uint64_t at = evil.pos();
  evil.record(100, kFirst | kLast, testing::shapes::payload(100, 1));
  std::byte out[100];
  auto first = p.reader.read_message(out, 30);  // ERROR_MORE_DATA: 30 bytes of it are read
  ASSERT_TRUE(first);
  ASSERT_EQ(first->bytes, 30u);
  evil.set_length(at, 10);  // now the read position lies beyond its end
  EXPECT_EQ(p.reader.read_message(out, sizeof out).error(), errc::kBadPipe);
  EXPECT_EQ(p.reader.read_bytes(out, sizeof out).error(), errc::kBadPipe);
  EXPECT_EQ(p.reader.peek(out, sizeof out, true).error(), errc::kBadPipe);
  EXPECT_TRUE(p.reader.has_fragment());  // so that core reads, and reports it
}

TEST(HostileRecord, AFragmentWithdrawnUnderAPartReadLosesOnlyItsRest) {
  Pair p = connected_pair();
  HostileSegment evil(p.producer);
  std::uint64_t at = evil.pos();
  evil.record(100, kFirst | kLast, testing::shapes::payload(100, 2));
  std::byte out[100];
  ASSERT_EQ(p.reader.read_message(out, 30).value().bytes, 30u);
  evil.set_flags(at, kFirst | kLast | kWithdrawn);  // the writer's cancel, after the fact
  auto rest = p.reader.read_message(out, sizeof out, true);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->bytes, 0u);
  EXPECT_TRUE(rest->message_done);
  EXPECT_FALSE(p.reader.has_fragment());
}

}  // namespace
}  // namespace sluice::shm
