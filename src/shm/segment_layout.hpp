// The wire format of a data segment: what one side of a connection publishes to the other.
//
// Each side of a connection owns one segment (a memfd sealed against shrinking) and only reads
// its peer's:
//
//   offset 0      SegmentHeader (one page)
//     line 0      identity: magic, version, ring capacity, producer pid, tag key  (immutable)
//     line 1      producer:  write_end, payload_written, payload_withdrawn, completed_end,
//                            arena_head, arena_size
//     line 2      consumer:  read_pos, payload_read, claim              (the PEER's ring)
//     line 3      waiters and state: waiting flags, pending read, end state
//     line 4      futex words: data_seq, read_seq (bumped only to wake a sleeper)
//   offset 4096   ring of `capacity` bytes holding fragments:
//                   [u32 length][u32 arena slot][u64 tag][payload][pad to 16]
//                   tag = ((offset << 2) | flags) ^ tag_key, stored last (release); offsets
//                   are 16-aligned, so flags (kFirst, kLast, kWithdrawn, kWithdrawing,
//                   kOutOfLine) never touch them
//   offset 4096 + capacity
//                 arena: the payload of writes that did not fit in the ring's free room, each
//                 one contiguous, named by its fragment (kOutOfLine: the fragment carries no
//                 payload in the ring; the arena slot is the payload's arena offset / 16). The
//                 producer grows the segment as the arena needs (up to kMaxArenaSize); it can
//                 never shrink, so a consumer's mapping of it stays valid.
//
// A write is one fragment (the quota rule of docs/data-path.md: a write is visible whole as
// soon as it is made, whatever the ring's room), or several only when it is larger than the
// arena can ever hold. A message is the fragments from kFirst to kLast. Offsets are monotonic
// 64-bit counts; ring position = offset & (capacity - 1). The reader knows a fragment is
// complete by its tag, so it reads the ring line it needs anyway and never the producer's hot
// counters; the secret tag_key keeps data that a third party feeds an honest writer from ever
// passing for a header. Only the owner writes its segment: its peer holds a read-only
// descriptor of it and cannot open another (the memfd is mode 0400), so it cannot write, map
// writable, punch holes or resize. The words a consumer writes (read position, claim, futex
// words for the other direction) live in its own segment. Every value read from the peer's
// segment is validated before use (an arena slot against the segment's size as the kernel
// reports it).
//
// Cancelling a pending write races with a reader taking it; exactly one wins, without either
// side writing the other's memory (docs/data-path.md, "Cancelled writes"):
//   reader, per fragment F:  claim = F (active); fence; look at F's tag again:
//                            plain → take it; kWithdrawn → skip it; kWithdrawing → not yet
//   writer, withdrawing F:   tag |= kWithdrawing; fence; look at the reader's claim:
//                            claim beyond F, or on F and active → the reader has it: tag back;
//                            else → tag |= kWithdrawn (the reader's later claim will see it)
// A reader that stops inside F lets its claim go inactive, so the rest may yet be withdrawn.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sluice::shm {

inline constexpr std::uint32_t kSegmentMagic = 0x534C5543;  // "SLUC"
inline constexpr std::uint32_t kLayoutVersion = 7;          // 7: claims; 6: arena; 4: kWithdrawn
inline constexpr std::size_t kHeaderSize = 4096;
inline constexpr std::size_t kFragmentHeaderSize = 16;
inline constexpr std::size_t kFragmentAlign = 16;
inline constexpr std::uint64_t kMinRingCapacity = 4 * 1024;
inline constexpr std::uint64_t kMaxRingCapacity = 64ull * 1024 * 1024;
/// The arena grows to at most this; a single write larger than that goes through the ring in
/// pieces (TODO(compat): visible piece by piece, unlike Windows).
inline constexpr std::uint64_t kMaxArenaSize = 1ull << 30;

/// How a side wants to hear of its peer's progress (bits of waiting_for_data/_space).
inline constexpr std::uint32_t kWaitFutex = 1;     ///< a thread sleeps on the peer's futex word
inline constexpr std::uint32_t kWaitDoorbell = 2;  ///< the agent waits for a byte on the socket
/// Asynchronous operations of a shared end wait on the peer's futex words in some holder's
/// server thread. Holders never clear it (none knows whether another still waits): while it is
/// set, the peer wakes on every change (one system call).
inline constexpr std::uint32_t kWaitShared = 4;

/// Fragment flags.
inline constexpr std::uint32_t kFirst = 1;
inline constexpr std::uint32_t kLast = 2;
/// The fragment's write was cancelled (docs/data-path.md): a reader skips what it has not taken
/// of it; on a fragment with kLast it ends a message the reader has begun in the same read.
/// Set after the fact by the writer.
inline constexpr std::uint32_t kWithdrawn = 4;
/// The writer is deciding whether to withdraw the fragment (see the protocol above): a reader
/// treats it as not there yet, and is woken when the writer has decided.
inline constexpr std::uint32_t kWithdrawing = 8;
/// The fragment's payload lies in the producer's arena, at its header's arena slot × 16.
inline constexpr std::uint32_t kOutOfLine = 16;
/// The flags a fragment carries for its reader (kWithdrawing aside).
inline constexpr std::uint32_t kFragmentFlags = kFirst | kLast | kWithdrawn | kOutOfLine;
/// A claim word: (ring position << 1) | kClaimActive.
inline constexpr std::uint64_t kClaimActive = 1;

/// The state of the end that owns the segment, as its peer sees it.
enum class EndState : std::uint32_t {
  kOpen = 0,
  kClosed = 1,        ///< the end closed its last handle: drain, then kBrokenPipe
  kDisconnected = 2,  ///< the server disconnected the instance: kPipeNotConnected
};

struct alignas(64) SegmentHeader {
  // line 0: identity, written before the segment is sealed and shared.
  std::uint32_t magic;
  std::uint32_t version;
  std::uint64_t ring_capacity;
  std::uint32_t producer_pid;
  std::uint32_t reserved0;
  std::uint64_t tag_key;  ///< random; XORed into every fragment tag

  // line 1: this side's ring, as producer.
  alignas(64) std::atomic<std::uint64_t> write_end;  ///< ring bytes published
  std::atomic<std::uint64_t> payload_written;        ///< payload bytes published
  /// Payload of cancelled writes withdrawn before the peer read it (kWithdrawn): written, but
  /// never to be read.
  std::atomic<std::uint64_t> payload_withdrawn;
  /// Ring bytes of writes that have completed; what lies beyond belongs to pending writes, which
  /// a reader drops when this side dies (docs/data-path.md: a dead writer's pending write
  /// leaves the pipe).
  std::atomic<std::uint64_t> completed_end;
  /// Where the next arena payload goes, and the arena's size: the producer's own bookkeeping,
  /// here so that every process holding the end allocates alike (a reader never uses them).
  std::atomic<std::uint64_t> arena_head;
  std::atomic<std::uint64_t> arena_size;

  // line 2: the peer's ring, as consumer.
  alignas(64) std::atomic<std::uint64_t> read_pos;  ///< ring bytes of the peer's ring freed
  std::atomic<std::uint64_t> payload_read;          ///< payload bytes of the peer's ring read
  /// The fragment of the peer's ring this side takes or last took (kClaimActive while taking).
  std::atomic<std::uint64_t> claim;

  // line 3: who sleeps, what a waiting read wants, and the end state.
  alignas(64) std::atomic<std::uint32_t> waiting_for_data;  ///< kWait* bits: who waits for data
  std::atomic<std::uint32_t> waiting_for_space;             ///< kWait* bits: who waits for room
  /// A read waiting for data: kPendingRead | (message mode ? kPendingMessage : 0) | size. The
  /// peer's no-wait writes hand bytes to it (docs/data-path.md).
  std::atomic<std::uint64_t> pending_read;
  std::atomic<std::uint32_t> state;  ///< EndState
  std::atomic<std::uint32_t> reserved1;

  // line 4: futex words, apart from the counters so that spinning peers do not pull the
  // producer's hot line.
  alignas(64) std::atomic<std::uint32_t> data_seq;  ///< bumped to wake a reader of our ring
  std::atomic<std::uint32_t> read_seq;              ///< bumped to wake a writer to the peer's ring
};

inline constexpr std::uint64_t kPendingRead = 1ull << 63;
inline constexpr std::uint64_t kPendingMessage = 1ull << 62;

static_assert(sizeof(SegmentHeader) <= kHeaderSize);
static_assert(offsetof(SegmentHeader, write_end) == 64);
static_assert(offsetof(SegmentHeader, read_pos) == 128);
static_assert(offsetof(SegmentHeader, waiting_for_data) == 192);
static_assert(offsetof(SegmentHeader, data_seq) == 256);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

/// The ring capacity used for a direction whose quota is `quota`, a power of two: at least
/// 64 KiB and twice the quota, and room for a quota's worth of one-byte writes (32 ring bytes
/// each) up to 256 KiB, so that the framing does not make a writer wait before the quota rule
/// says it must (docs/data-path.md). Writes that do not fit the free room go to the arena.
/// TODO(compat): from a quota of 16 KiB up, more than capacity / 32 unread writes of fewer than
/// 16 bytes fill the ring first (8 192 at the C++ API's default 64 KiB); the writer then waits
/// for the reader before the quota says so.
std::uint64_t ring_capacity_for(std::uint32_t quota) noexcept;

}  // namespace sluice::shm
