// Channel: both data segments of one connection, seen from one side, and the non-blocking ring
// operations on them. Waiting, pipe states and error policy belong to core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "os/linux/shared_memory.hpp"
#include "shm/segment_layout.hpp"
#include "sluice/result.hpp"

namespace sluice::shm {

/// What a non-blocking read took from the peer's ring.
struct Taken {
  std::size_t bytes = 0;      ///< payload bytes copied (and consumed)
  bool consumed = false;      ///< anything at all was consumed (also empty messages)
  bool message_done = false;  ///< message mode: the message's last byte was consumed
};

/// What a peek saw.
struct Peeked {
  std::size_t bytes = 0;              ///< copied into the buffer
  std::uint64_t total_available = 0;  ///< unread payload bytes of the peer's ring
  std::uint64_t head_message = 0;     ///< unread bytes of the head message (message pipes)
};

/// Thread safety: one writer and one reader at a time (core serialises I/O per end). The
/// status and counter accessors may be called from any thread.
class Channel {
 public:
  Channel() = default;

  /// Makes this side's segment for a direction with `quota`.
  static Result<Channel> create(std::uint32_t quota);
  /// Validates and maps the peer's segment (received as a descriptor, kept for share()).
  /// Errors: kBadPipe.
  Result<void> attach_peer(os::UniqueFd peer_fd);
  /// This side of a connection as another process that holds the same end sees it: maps
  /// both segments, and takes the positions from the segments.
  /// Errors: kBadPipe when either segment is not what a sluice end makes.
  static Result<Channel> adopt(os::UniqueFd own, os::UniqueFd peer, std::uint32_t fragment_offset);

  bool attached() const noexcept { return static_cast<bool>(peer_map_); }
  /// Both segments' descriptors: what another holder of the end needs to map them.
  int own_fd() const noexcept { return own_.fd.get(); }
  /// A new read-only descriptor of this side's segment: what the peer gets.
  Result<os::UniqueFd> descriptor_for_peer() const;
  int peer_fd() const noexcept { return peer_fd_.get(); }
  SegmentHeader& own() noexcept { return *static_cast<SegmentHeader*>(own_.map.address()); }
  const SegmentHeader& own() const noexcept {
    return *static_cast<const SegmentHeader*>(own_.map.address());
  }
  const SegmentHeader& peer() const noexcept {
    return *static_cast<const SegmentHeader*>(peer_map_.address());
  }

  // ---- writing this side's ring ----

  /// Largest payload one fragment can carry now; -1 when not even an empty fragment fits. Looks
  /// at the peer's read position only when the last one seen leaves less than `want` bytes.
  /// kBadPipe if the peer's read position is corrupt.
  Result<std::int64_t> fragment_room(std::size_t want = ~std::size_t{0});
  /// Appends one fragment of exactly `size` bytes (size <= fragment_room()) and publishes it.
  void append(const std::byte* data, std::size_t size, std::uint32_t flags);
  /// Appends one whole write of `size` <= kMaxArenaSize bytes as one fragment, so that the reader
  /// sees all of it at once: in the ring when it fits the free room, else with its payload in the
  /// arena. False when neither has room now (the caller waits for the reader); kBadPipe if the
  /// peer's read position is corrupt, or the error that kept the arena from growing.
  Result<bool> append_whole(const std::byte* data, std::size_t size, std::uint32_t flags);
  /// Withdraws what the peer has not taken of one write, whose fragments span ring positions
  /// [from, to) (ring_end() before and after it): a cancelled write, docs/data-path.md. The
  /// reader skips them; they leave the quota as if read. `unfinished_message`: the
  /// write's last fragment was never queued (message pipes), so its message ends here.
  /// Returns whether the reader had taken all of it already (nothing was withdrawn).
  bool withdraw(std::uint64_t from, std::uint64_t to, bool unfinished_message);
  /// This side's ring position after the last fragment written.
  std::uint64_t ring_end() const noexcept { return write_end_; }
  /// This side's ring position of the last fragment written.
  std::uint64_t last_fragment_at() const noexcept { return last_fragment_at_; }
  /// The writes up to ring position `end` have completed (see SegmentHeader::completed_end).
  void writes_completed_through(std::uint64_t end) noexcept {
    own().completed_end.store(end, std::memory_order_release);
  }
  /// The peer died: its writes that had not completed leave the pipe, so reads see only what
  /// lies before its completed_end (validated). Called by the reader (one at a time).
  void drop_pending_writes_of_dead_peer() noexcept;
  /// Payload bytes written and not yet read by the peer. kBadPipe if the peer lies.
  Result<std::uint64_t> unread_by_peer() const;
  /// Payload bytes this side has written in total.
  std::uint64_t payload_written() const noexcept { return written_; }
  /// Whether the peer has read at least `count` payload bytes of this side's ring (looks at the
  /// peer's counter only when the last value seen is short).
  bool peer_has_read(std::uint64_t count) noexcept;

  // ---- reading the peer's ring ----

  /// Unread payload bytes in the peer's ring; kBadPipe if its counters are corrupt.
  Result<std::uint64_t> available() const;
  /// Whether any fragment (even an empty message) is waiting. Looks only at the ring line of
  /// the next fragment: cheap enough to spin on.
  bool has_fragment() const noexcept;
  /// Message-read: copies up to `size` bytes of the head message and consumes them.
  /// `message_begun`: the caller's read already holds the first part of this message (a cancelled
  /// rest then ends it, see kWithdrawn).
  Result<Taken> read_message(std::byte* out, std::size_t size, bool message_begun = false);
  /// Byte-read: copies up to `size` bytes across fragments, consuming empty messages on the way.
  Result<Taken> read_bytes(std::byte* out, std::size_t size);
  /// A reader's view of bytes where they lie (ring or arena): called once per contiguous piece,
  /// in order; the piece is valid only during the call.
  using Visitor = std::function<void(std::span<const std::byte>)>;
  /// read_message and read_bytes without a copy and without a size limit: the head message
  /// whole, or every byte there, handed to `visit` and then consumed.
  Result<Taken> visit_message(const Visitor& visit, bool message_begun = false);
  Result<Taken> visit_bytes(const Visitor& visit);
  /// Copies without consuming: across fragments, or (message pipe) from the head message only.
  /// `message_begun`: the caller already holds the first part of the head message (as
  /// read_message's).
  Result<Peeked> peek(std::byte* out, std::size_t size, bool message_pipe,
                      bool message_begun = false) const;

  // ---- shared mode: several processes take turns on this side (under the end lock) ----

  /// Takes the positions another holder may have moved from the segments (published values),
  /// with the read offset inside the head fragment kept in the end segment. kBadPipe if they
  /// are not positions this side could have written.
  Result<void> reload_positions(std::uint32_t fragment_offset);
  /// Bytes of the head fragment of the peer's ring already read (for the end segment).
  std::uint32_t fragment_offset() const noexcept { return fragment_offset_; }

  /// The connected socket to ring when the peer asks for a doorbell (kWaitDoorbell).
  void set_doorbell(int socket_fd) noexcept { doorbell_fd_ = socket_fd; }

  /// Makes a waiting flag just stored (own().waiting_for_*) visible before the caller's last look
  /// at the peer's progress: the sleeper's half of the wake-up handshake.
  void barrier_before_sleep() const noexcept;

  /// Sets this side's end state and wakes the peer's sleepers.
  void publish_state(EndState state) noexcept;
  /// The peer's end state (unknown values read as kClosed: a lying peer is a dead peer).
  EndState peer_state() const noexcept;

 private:
  struct Fragment {
    std::uint32_t length;
    std::uint32_t flags;         // kFirst, kLast, kWithdrawn, kOutOfLine
    std::uint64_t arena_offset;  // kOutOfLine: where the payload lies in the peer's arena
  };
  // Ring bytes the fragment occupies.
  static std::uint64_t ring_step(const Fragment& f) noexcept {
    return kFragmentHeaderSize +
           ((f.flags & kOutOfLine) ? 0 : (f.length + kFragmentAlign - 1) & ~(kFragmentAlign - 1));
  }
  // The fragment at `pos`: nullopt while none is complete there, kBadPipe if its header lies.
  Result<std::optional<Fragment>> fragment_at(std::uint64_t pos) const;
  // The tag word of the peer's fragment at `pos`.
  const std::uint64_t* peer_tag(std::uint64_t pos) const noexcept {
    return reinterpret_cast<const std::uint64_t*>(peer_ring_ + (pos & (peer_capacity_ - 1)) + 8);
  }
  enum class Claim { kTake, kSkip, kNotYet };
  // Claims the fragment at `pos` before taking anything of it (segment_layout.hpp: the claim
  // protocol). kSkip when the writer withdrew it (`f` then carries the flags the writer left),
  // kNotYet while the writer is still deciding.
  Claim claim(std::uint64_t pos, Fragment& f);
  // A read that ends inside the fragment at `pos` lets go of its claim: until the next read
  // takes more, the writer may still withdraw the rest (what was taken stays taken).
  void release_claim(std::uint64_t pos) noexcept;
  Result<std::int64_t> fragment_room_for(std::size_t want);
  // Hands `size` bytes of the payload of the fragment at `pos`, from `offset`, to `sink` (called
  // as sink(const std::byte*, std::size_t) once per contiguous piece). kBadPipe when an
  // out-of-line payload lies beyond the peer's arena.
  template <class Sink>
  Result<void> pieces(std::uint64_t pos, const Fragment& f, std::size_t offset, std::size_t size,
                      Sink& sink) const;
  // The payload of an out-of-line fragment, checked against the arena.
  Result<const std::byte*> arena_payload(const Fragment& f) const;
  // read_message and read_bytes, for any sink (see pieces()).
  template <class Sink>
  Result<Taken> take_message(std::size_t size, bool message_begun, Sink& sink);
  template <class Sink>
  Result<Taken> take_bytes(std::size_t size, Sink& sink);
  // The peer's arena, mapped to cover [0, end), or kBadPipe when the segment is shorter.
  Result<const std::byte*> peer_arena(std::uint64_t end) const;
  // Where a payload of `size` bytes can go in this side's arena (growing it if need be), or
  // nullopt while the reader still holds too much of it.
  Result<std::optional<std::uint64_t>> arena_allocate(std::uint64_t size);
  // The arena offset of the oldest out-of-line payload the reader may still read, if any.
  Result<std::optional<std::uint64_t>> oldest_arena_payload(std::uint64_t reader_at) const;
  // Populates this side's ring ahead of a write that ends at ring offset `end` (populate_ahead).
  // Inline: on every write but a few it is one comparison.
  void populate_ring_through(std::uint64_t end) noexcept {
    if (end >= populate_next_) populate_ring_more(end);
  }
  void populate_ring_more(std::uint64_t end) noexcept;
  // Publishes the fragment header and the tag that makes it visible.
  void publish(std::uint64_t ring_bytes, std::uint32_t length, std::uint32_t arena_slot,
               std::uint32_t flags);
  void consume(std::uint64_t new_read_pos, std::size_t payload) noexcept;
  void signal_data() noexcept;
  void notify_peer(std::uint32_t waiting, std::atomic<std::uint32_t>& seq) noexcept;

  os::OwnedSegment own_;
  os::UniqueFd peer_fd_;
  os::Mapping peer_map_;
  std::byte* own_ring_ = nullptr;
  const std::byte* peer_ring_ = nullptr;
  std::uint64_t capacity_ = 0;       // own ring
  std::uint64_t peer_capacity_ = 0;  // peer ring
  std::uint64_t write_end_ = 0;      // mirrors own().write_end (only we write it)
  std::uint64_t last_fragment_at_ = 0;
  std::uint64_t written_ = 0;          // mirrors own().payload_written
  std::uint64_t withdrawn_ = 0;        // mirrors own().payload_withdrawn
  std::uint64_t read_pos_ = 0;         // mirrors own().read_pos
  std::uint64_t read_ = 0;             // mirrors own().payload_read
  std::uint32_t fragment_offset_ = 0;  // bytes of the fragment at read_pos_ already consumed
  // The last values seen of the peer's counters. Re-reading them costs a cache miss while the
  // peer works; a stale value is always safe (less room, less data than there really is).
  std::uint64_t seen_peer_read_pos_ = 0;
  std::uint64_t seen_peer_payload_read_ = 0;
  std::uint64_t own_tag_key_ = 0;
  int doorbell_fd_ = -1;
  bool terminator_owed_ = false;  // withdraw() still has to end an unfinished message
  // Reads treat the peer's ring from here on as withdrawn (set once the peer died).
  std::uint64_t peer_limit_ = ~std::uint64_t{0};
  // Ring bytes whose pages exist: the first lap populates ahead of the writer in chunks, so
  // that a write never takes a page fault and an idle connection costs no ring memory.
  std::uint64_t populated_ = 0;
  std::uint64_t peer_populated_ = 0;  // the same for our mapping of the peer's ring
  // The first ring offsets at which populate_ahead may have work, for each ring.
  std::uint64_t populate_next_ = 0;
  std::uint64_t peer_populate_next_ = 0;
  // Extends `*done` (a page-aligned populated prefix of a ring) to cover `needed` plus a chunk.
  static bool populate_ahead(std::uint64_t needed, std::uint64_t capacity, std::uint64_t* done,
                             std::uint64_t* from, std::uint64_t* to) noexcept;
  // The smallest `needed` for which populate_ahead may do anything, given `done`.
  static std::uint64_t populate_threshold(std::uint64_t capacity, std::uint64_t done) noexcept;
  std::uint64_t peer_tag_key_ = 0;
  // This side's arena: mapped read-write up to arena_size_ (mirrors own().arena_size), the next
  // payload at arena_head_ (mirrors own().arena_head), pages populated up to arena_populated_.
  os::Mapping own_arena_;
  std::uint64_t arena_size_ = 0;
  std::uint64_t arena_head_ = 0;
  std::uint64_t arena_populated_ = 0;
  // The reader's view of the peer's arena, extended as the peer grows it (by reads and peeks,
  // which core serialises). Earlier mappings stay until the channel goes, so a pointer into one
  // stays valid; the arena at most doubles each time, so there are few.
  mutable std::vector<os::Mapping> peer_arena_maps_;
  mutable std::uint64_t peer_arena_populated_ = 0;
};

}  // namespace sluice::shm
