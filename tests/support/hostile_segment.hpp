// A producer that does not play by the rules, for the tests of "a peer cannot write what it does
// not own" (docs/data-path.md; a lie breaks only that connection): every write a hostile
// producer can make to its own data segment, from whole forged records to single words, and the
// shapes of lie the tests forge.
//
// Everything the tests know of the wire format (src/shm/segment_layout.hpp: fragment headers,
// tags, the header's lines) is in HostileSegment, so that a layout change touches one file of the
// tests. The shapes (record_shapes()) say only what an honest reader may see of each forgery.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "os/linux/futex.hpp"
#include "shm/channel.hpp"
#include "shm/segment_layout.hpp"

namespace sluice::testing {

/// The writes a producer can make to its own segment, beyond what Channel::append() makes.
/// Records go at pos(), which starts where the channel's own writing left off.
class HostileSegment {
 public:
  /// How a forged record's tag is made.
  enum class Tag {
    kGenuine,       ///< what an honest writer stores for pos()
    kWrongKey,      ///< another key (what a third party could smuggle in without the secret)
    kNoKey,         ///< no key at all
    kNextPosition,  ///< genuine, for the next slot
    kNextLap,       ///< genuine, for pos() one ring later
    kPreviousLap,   ///< genuine, for pos() one ring earlier
  };
  /// The producer's counters and words, as the consumer reads them.
  enum class Word {
    kWriteEnd,
    kPayloadWritten,
    kPayloadWithdrawn,
    kCompletedEnd,
    kReadPos,  ///< how far this side claims to have read the peer's ring
    kPayloadRead,
    kPendingRead,
  };
  // Fragment flags, as the layout spells them.
  static constexpr std::uint32_t kFirst = shm::kFirst;
  static constexpr std::uint32_t kLast = shm::kLast;
  static constexpr std::uint32_t kWithdrawn = shm::kWithdrawn;
  static constexpr std::uint32_t kWithdrawing = shm::kWithdrawing;
  static constexpr std::uint32_t kOutOfLine = shm::kOutOfLine;
  static constexpr std::uint32_t kWhole = kFirst | kLast;

  explicit HostileSegment(shm::Channel& producer)
      : header_(producer.own()),
        base_(reinterpret_cast<std::byte*>(&producer.own())),
        capacity_(producer.own().ring_capacity),
        pos_(producer.ring_end()) {}

  std::uint64_t capacity() const noexcept { return capacity_; }
  /// Ring position (a 64-bit offset, as tags carry) of the next forged record.
  std::uint64_t pos() const noexcept { return pos_; }
  void set_pos(std::uint64_t pos) noexcept { pos_ = pos; }
  /// Ring bytes a record of `length` payload bytes takes.
  static std::uint64_t footprint(std::uint64_t length) noexcept {
    return shm::kFragmentHeaderSize +
           ((length + shm::kFragmentAlign - 1) & ~std::uint64_t{shm::kFragmentAlign - 1});
  }

  /// Publishes a record at pos() the way append() does (payload, length, counters, tag last),
  /// except that every field is as given: a length the payload does not back, any flags, any
  /// tag. The counters move as an honest writer's would for such a record, so that only what
  /// the record itself says is a lie. Advances pos() past it (by what its length says, capped
  /// at one ring).
  void record(std::uint32_t length, std::uint32_t flags, std::span<const std::byte> payload = {},
              Tag tag = Tag::kGenuine) {
    std::uint64_t at = pos_ & (capacity_ - 1);
    std::size_t n = std::min<std::size_t>(payload.size(), capacity_ - shm::kFragmentHeaderSize);
    for (std::size_t i = 0; i < n; ++i)
      ring()[(at + shm::kFragmentHeaderSize + i) & (capacity_ - 1)] = payload[i];
    std::memcpy(ring() + at, &length, sizeof length);
    std::uint32_t zero = 0;
    std::memcpy(ring() + at + 4, &zero, sizeof zero);
    std::uint64_t step = (flags & kOutOfLine)
                             ? shm::kFragmentHeaderSize
                             : std::min<std::uint64_t>(footprint(length), capacity_);
    if (flags & kWithdrawn) header_.payload_withdrawn.fetch_add(length, std::memory_order_relaxed);
    header_.payload_written.fetch_add(length, std::memory_order_relaxed);
    header_.write_end.store(pos_ + step, std::memory_order_relaxed);
    header_.completed_end.store(pos_ + step, std::memory_order_relaxed);
    __atomic_store_n(tag_word(pos_), tag_for(pos_, flags, tag), __ATOMIC_RELEASE);
    pos_ += step;
  }
  /// Rewrites the length of the record at ring position `pos` (tag untouched).
  void set_length(std::uint64_t pos, std::uint32_t length) noexcept {
    std::memcpy(ring() + (pos & (capacity_ - 1)), &length, sizeof length);
  }
  /// Rewrites the flags of the record at `pos` in its tag (still genuine for `pos`).
  void set_flags(std::uint64_t pos, std::uint32_t flags) noexcept {
    __atomic_store_n(tag_word(pos), tag_for(pos, flags, Tag::kGenuine), __ATOMIC_RELEASE);
  }

  std::atomic<std::uint64_t>& word(Word w) noexcept {
    switch (w) {
      case Word::kWriteEnd:
        return header_.write_end;
      case Word::kPayloadWritten:
        return header_.payload_written;
      case Word::kPayloadWithdrawn:
        return header_.payload_withdrawn;
      case Word::kCompletedEnd:
        return header_.completed_end;
      case Word::kReadPos:
        return header_.read_pos;
      case Word::kPayloadRead:
        return header_.payload_read;
      case Word::kPendingRead:
        return header_.pending_read;
    }
    return header_.write_end;
  }
  void set(Word w, std::uint64_t value) noexcept {
    word(w).store(value, std::memory_order_seq_cst);
  }
  std::uint64_t get(Word w) noexcept { return word(w).load(std::memory_order_seq_cst); }
  /// The end state word: 0 open, 1 closed, 2 disconnected; anything else is a lie.
  void set_state(std::uint32_t state) noexcept {
    header_.state.store(state, std::memory_order_seq_cst);
  }
  void set_waiting(std::uint32_t for_data, std::uint32_t for_space) noexcept {
    header_.waiting_for_data.store(for_data);
    header_.waiting_for_space.store(for_space);
  }

  /// Changes the futex word a reader of this ring sleeps on, and wakes it if `wake`.
  void ring_data(bool wake = true) noexcept { ring(header_.data_seq, wake); }
  /// The same for a writer to the peer's ring.
  void ring_space(bool wake = true) noexcept { ring(header_.read_seq, wake); }

  /// Every byte of the segment: the header page, then the ring.
  std::span<std::byte> bytes() noexcept { return {base_, shm::kHeaderSize + capacity_}; }
  /// The header lines (identity, producer, consumer, waiters and state, futex words).
  std::span<std::byte> header_bytes() noexcept { return {base_, 5 * 64}; }
  std::span<std::byte> ring_bytes() noexcept { return {ring(), capacity_}; }

 private:
  std::byte* ring() noexcept { return base_ + shm::kHeaderSize; }
  std::uint64_t* tag_word(std::uint64_t pos) noexcept {
    return reinterpret_cast<std::uint64_t*>(ring() + (pos & (capacity_ - 1)) + 8);
  }
  std::uint64_t tag_for(std::uint64_t pos, std::uint32_t flags, Tag tag) const noexcept {
    std::uint64_t key = header_.tag_key;
    switch (tag) {
      case Tag::kGenuine:
        break;
      case Tag::kWrongKey:
        key ^= std::uint64_t{1} << 40;
        break;
      case Tag::kNoKey:
        key = 0;
        break;
      case Tag::kNextPosition:
        pos += shm::kFragmentAlign;
        break;
      case Tag::kNextLap:
        pos += capacity_;
        break;
      case Tag::kPreviousLap:
        pos -= capacity_;
        break;
    }
    return ((pos << 2) | flags) ^ key;
  }
  static void ring(std::atomic<std::uint32_t>& word, bool wake) noexcept {
    word.fetch_add(1, std::memory_order_seq_cst);
    if (wake) os::futex_wake_all(&word, true);
  }

  shm::SegmentHeader& header_;
  std::byte* base_;
  std::uint64_t capacity_;
  std::uint64_t pos_;
};

/// What an honest reader (or writer, for the consumer-line shapes) may get while the hostile
/// producer lives. Whatever the shape, it never crashes, never spins, and sees the peer's death.
enum class Seen {
  kData,        ///< at least one read returns data
  kNothing,     ///< no read returns: the reader waits, asleep (a writer: its write waits)
  kBadPipe,     ///< an operation fails with kBadPipe
  kBrokenPipe,  ///< a read fails with kBrokenPipe (the peer says it closed)
  kAny,         ///< data, waiting or an error: which, depends on the operation
};

/// One way a producer can lie in its own segment.
struct RecordShape {
  const char* name;
  void (*forge)(HostileSegment&);
  Seen reader_sees;  ///< for reads (message and byte mode); peeks may see kBadPipe instead
  /// The lie is in the consumer line (how far this side read the peer's ring): the peer's
  /// writes meet it, not its reads.
  bool writer_side = false;
  /// The producer goes on changing its futex words after the forgery, until it dies.
  bool keeps_ringing = false;
};

namespace shapes {

inline std::vector<std::byte> payload(std::size_t n, std::uint8_t seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + seed) & 0xFF);
  return v;
}

using S = HostileSegment;
using W = HostileSegment::Word;

// Sets the end state and wakes whoever waits on the segment.
inline void closes(S& s, std::uint32_t state) {
  s.set_state(state);
  s.ring_data();
  s.ring_space();
}

inline void fill_ring_with_empty(S& s, std::uint32_t flags_first, std::uint32_t flags_rest) {
  std::uint64_t slots = s.capacity() / 16;
  for (std::uint64_t i = 0; i < slots; ++i) s.record(0, i == 0 ? flags_first : flags_rest);
}

}  // namespace shapes

/// Every shape the tests forge, each on its own fresh connection or channel.
inline const std::vector<RecordShape>& record_shapes() {
  using namespace shapes;
  using T = HostileSegment::Tag;
  static const std::vector<RecordShape> table = {
      // ---- records ----
      {"EmptyMessage", [](S& s) { s.record(0, S::kWhole); }, Seen::kData},
      {"EmptyFragmentWithoutLast", [](S& s) { s.record(0, S::kFirst); }, Seen::kAny},
      {"RingOfEmptyFragmentsOfOneMessage", [](S& s) { fill_ring_with_empty(s, S::kFirst, 0); },
       Seen::kAny},
      {"RingOfEmptyMessages", [](S& s) { fill_ring_with_empty(s, S::kWhole, S::kWhole); },
       Seen::kData},
      {"EmptyWithdrawnLast", [](S& s) { s.record(0, S::kLast | S::kWithdrawn); }, Seen::kNothing},
      {"EmptyWithdrawnFirst", [](S& s) { s.record(0, S::kFirst | S::kWithdrawn); }, Seen::kNothing},
      {"EmptyWithdrawnWhole", [](S& s) { s.record(0, S::kWhole | S::kWithdrawn); }, Seen::kNothing},
      {"RingOfEmptyWithdrawn", [](S& s) { fill_ring_with_empty(s, S::kWithdrawn, S::kWithdrawn); },
       Seen::kNothing},
      // A writer that marks a record as being withdrawn and never decides: not there yet.
      {"WithdrawingForever", [](S& s) { s.record(8, S::kWhole | S::kWithdrawing, payload(8, 1)); },
       Seen::kNothing},
      {"WithdrawingAndWithdrawn",
       [](S& s) { s.record(8, S::kWhole | S::kWithdrawing | S::kWithdrawn, payload(8, 2)); },
       Seen::kNothing},
      // Out-of-line records name their payload by an arena slot (here slot 0 of an arena the
      // segment does not have, or one the length runs past).
      {"OutOfLineWithoutAnArena", [](S& s) { s.record(8, S::kWhole | S::kOutOfLine); },
       Seen::kBadPipe},
      {"OutOfLineLengthAllOnes", [](S& s) { s.record(0xFFFFFFFFu, S::kWhole | S::kOutOfLine); },
       Seen::kBadPipe},
      {"OutOfLineWithdrawn", [](S& s) { s.record(8, S::kWhole | S::kOutOfLine | S::kWithdrawn); },
       Seen::kNothing},
      {"MessageEndedByAWithdrawnTerminator",
       [](S& s) {
         s.record(8, S::kFirst, payload(8, 3));
         s.record(0, S::kLast | S::kWithdrawn);
       },
       Seen::kData},
      {"EveryFlagSet", [](S& s) { s.record(8, 31, payload(8, 4)); }, Seen::kNothing},
      {"LastWithoutFirstAndFirstTwice",
       [](S& s) {
         s.record(4, S::kLast, payload(4, 5));
         s.record(4, S::kFirst, payload(4, 6));
         s.record(4, S::kWhole, payload(4, 7));
       },
       Seen::kData},
      {"LengthOfTheRing",
       [](S& s) { s.record(static_cast<std::uint32_t>(s.capacity()), S::kWhole); }, Seen::kBadPipe},
      {"LengthOneByteMoreThanFits",
       [](S& s) { s.record(static_cast<std::uint32_t>(s.capacity() - 15), S::kWhole); },
       Seen::kBadPipe},
      {"LengthTwoToThe31", [](S& s) { s.record(1u << 31, S::kWhole); }, Seen::kBadPipe},
      {"LengthAllOnes", [](S& s) { s.record(0xFFFFFFFFu, S::kWhole); }, Seen::kBadPipe},
      {"WholeRingAcrossTheEnd",
       // The longest record there can be: its payload wraps round to just before its header.
       [](S& s) {
         auto n = static_cast<std::uint32_t>(s.capacity() - 16);
         s.record(n, S::kWhole, payload(n, 8));
       },
       Seen::kData},
      {"CrossesTheEndByOneByte",
       [](S& s) {
         if ((s.pos() & (s.capacity() - 1)) == 0) s.record(0, S::kWhole);  // no crossing from 0
         std::uint64_t at = s.pos() & (s.capacity() - 1);
         auto n = static_cast<std::uint32_t>(s.capacity() - (at + 16) + 1);
         if (at + 16 >= s.capacity()) n = 1;  // the header is the last slot: any payload wraps
         s.record(n, S::kWhole, payload(n, 9));
       },
       Seen::kData},
      {"LengthGrowsAfterPublication",
       // The payload the length promised is junk; what matters is that it stays in the ring.
       [](S& s) {
         std::uint64_t at = s.pos();
         s.record(8, S::kWhole, payload(8, 10));
         s.set_length(at, static_cast<std::uint32_t>(s.capacity() - 16));
       },
       Seen::kData},
      {"TagWithTheWrongKey", [](S& s) { s.record(8, S::kWhole, payload(8, 11), T::kWrongKey); },
       Seen::kNothing},
      {"TagWithoutKey", [](S& s) { s.record(8, S::kWhole, payload(8, 12), T::kNoKey); },
       Seen::kNothing},
      {"TagForTheNextSlot", [](S& s) { s.record(8, S::kWhole, payload(8, 13), T::kNextPosition); },
       Seen::kNothing},
      {"TagForTheNextLap", [](S& s) { s.record(8, S::kWhole, payload(8, 14), T::kNextLap); },
       Seen::kNothing},
      {"TagForThePreviousLap",
       [](S& s) { s.record(8, S::kWhole, payload(8, 15), T::kPreviousLap); }, Seen::kNothing},
      {"RandomRing",
       [](S& s) {
         std::uint64_t x = 0x9E3779B97F4A7C15ull;
         for (auto& b : s.ring_bytes()) {
           x ^= x << 13, x ^= x >> 7, x ^= x << 17;
           b = static_cast<std::byte>(x);
         }
         s.ring_data();
       },
       Seen::kNothing},

      // ---- the producer's counters ----
      {"PayloadWrittenGoesBackwards",
       [](S& s) {
         s.set(W::kPayloadWritten, 0);
         s.ring_data();
       },
       Seen::kNothing},
      {"PayloadWrittenFarAhead",
       [](S& s) {
         s.set(W::kPayloadWritten, ~0ull);
         s.ring_data();
       },
       Seen::kNothing},
      {"PayloadWrittenTwoToThe63",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 16));
         s.set(W::kPayloadWritten, 1ull << 63);
       },
       Seen::kData},
      {"PayloadWithdrawnFarAhead",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 17));
         s.set(W::kPayloadWithdrawn, ~0ull);
       },
       Seen::kData},
      {"WriteEndGoesBackwards",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 18));
         s.set(W::kWriteEnd, 0);
       },
       Seen::kData},
      {"WriteEndFarAhead",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 19));
         s.set(W::kWriteEnd, ~0ull << 4);
       },
       Seen::kData},
      {"CompletedEndBehindAValidMessage",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 20));
         s.set(W::kCompletedEnd, 0);
       },
       Seen::kAny},
      {"CompletedEndFarAhead",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 21));
         s.set(W::kCompletedEnd, ~0ull << 4);
       },
       Seen::kData},
      {"CompletedEndMisaligned",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 22));
         s.set(W::kCompletedEnd, s.get(W::kCompletedEnd) - 8);
       },
       Seen::kData},
      {"EveryCounterAllOnes",
       [](S& s) {
         s.record(8, S::kWhole, payload(8, 23));
         for (W w : {W::kWriteEnd, W::kPayloadWritten, W::kPayloadWithdrawn, W::kCompletedEnd})
           s.set(w, ~0ull);
       },
       Seen::kAny},

      // ---- the end state ----
      {"StateClosed", [](S& s) { closes(s, 1); }, Seen::kBrokenPipe},
      {"StateDisconnectedFromAClient", [](S& s) { closes(s, 2); }, Seen::kBrokenPipe},
      {"StateUnknown", [](S& s) { closes(s, 77); }, Seen::kBrokenPipe},
      {"StateAllOnes", [](S& s) { closes(s, ~0u); }, Seen::kBrokenPipe},
      {"StateClosedThenOpenAgain",
       [](S& s) {
         closes(s, 1);
         closes(s, 0);
       },
       Seen::kAny},

      // ---- the consumer line (how far this side read the peer's ring): the peer's writes ----
      {"ReadPositionFarAhead",
       [](S& s) {
         s.set(W::kReadPos, 1ull << 50);
         s.ring_space();
       },
       Seen::kBadPipe, true},
      {"ReadPositionAllOnes",
       [](S& s) {
         s.set(W::kReadPos, ~0ull);
         s.ring_space();
       },
       Seen::kBadPipe, true},
      {"ReadPositionMisaligned",
       [](S& s) {
         s.set(W::kReadPos, s.get(W::kReadPos) + 8);
         s.ring_space();
       },
       Seen::kAny, true},
      {"PayloadReadFarAhead",
       [](S& s) {
         s.set(W::kPayloadRead, ~0ull);
         s.ring_space();
       },
       Seen::kNothing, true},
      {"PayloadReadTwoToThe63",
       [](S& s) {
         s.set(W::kPayloadRead, 1ull << 63);
         s.ring_space();
       },
       Seen::kNothing, true},
      {"ConsumerLineAllOnes",
       [](S& s) {
         s.set(W::kReadPos, ~0ull);
         s.set(W::kPayloadRead, ~0ull);
         s.set(W::kPendingRead, ~0ull);
         s.set_waiting(~0u, ~0u);
         s.ring_space();
       },
       Seen::kBadPipe, true},
      {"EveryWaitingFlagAndAPendingReadThatLies",
       [](S& s) {
         s.set_waiting(~0u, ~0u);
         s.set(W::kPendingRead, shm::kPendingRead | shm::kPendingMessage | 0xFFFFFFFFu);
         s.ring_space();
       },
       Seen::kNothing, true},

      // ---- futex words that change with nothing behind them ----
      {"ChangesItsDataWordWithoutWaking", [](S& s) { s.ring_data(false); }, Seen::kNothing, false,
       true},
      {"ChangesItsDataWordAndWakes", [](S& s) { s.ring_data(true); }, Seen::kNothing, false, true},
      {"ChangesItsSpaceWordWithoutWaking", [](S& s) { s.ring_space(false); }, Seen::kNothing, true,
       true},
  };
  return table;
}

inline const RecordShape* find_shape(const std::string& name) {
  for (const auto& s : record_shapes())
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace sluice::testing
