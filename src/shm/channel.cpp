#include "shm/channel.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <vector>

#include "os/linux/directory.hpp"
#include "os/linux/futex.hpp"
#include "os/linux/held_wakes.hpp"
#include "os/linux/random.hpp"
#include "os/linux/unix_socket.hpp"

namespace sluice::shm {
namespace {

constexpr std::uint64_t padded(std::uint64_t n) {
  return (n + kFragmentAlign - 1) & ~std::uint64_t{kFragmentAlign - 1};
}

// madvise wants page-aligned addresses; the ring starts kHeaderSize into its segment.
template <class T>
T* page_start(T* p) {
  auto at = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095};
  return reinterpret_cast<T*>(at);
}

// Whether a decoded tag was written for the fragment at ring offset `pos` (its flags aside):
// anything else is a slot of another lap, a fragment not yet there, or a lie.
constexpr bool tag_is_for(std::uint64_t decoded, std::uint64_t pos) {
  return ((decoded >> 2) & ~std::uint64_t{kFragmentAlign - 1}) == (pos & (~std::uint64_t{0} >> 2));
}

std::uint64_t random_key() {
  std::uint64_t key = 0;
  os::fill_random(&key, sizeof key);
  // Zeroed ring memory decodes to key >> 2 as a position: keep that beyond any real offset.
  return key | (std::uint64_t{1} << 63);
}

}  // namespace

std::uint64_t ring_capacity_for(std::uint32_t quota) noexcept {
  constexpr std::uint64_t kSmallest = 64 * 1024;
  constexpr std::uint64_t kFramingRoomCap = 256 * 1024;
  // A one-byte write takes 32 ring bytes (header + padding): 32 × quota holds a quota of them.
  std::uint64_t framing = std::min<std::uint64_t>(32ull * quota, kFramingRoomCap);
  std::uint64_t want = std::max<std::uint64_t>({kSmallest, 2ull * quota, framing});
  return std::min(std::bit_ceil(want), kMaxRingCapacity);
}

Result<Channel> Channel::create(std::uint32_t quota) {
  Channel c;
  c.capacity_ = ring_capacity_for(quota);
  auto seg = os::create_growable_segment("sluice-ring", kHeaderSize + c.capacity_,
                                         kHeaderSize + c.capacity_);
  if (!seg) return seg.error();
  c.own_ = std::move(*seg);
  auto* header = new (c.own_.map.address()) SegmentHeader{};
  header->magic = kSegmentMagic;
  header->version = kLayoutVersion;
  header->ring_capacity = c.capacity_;
  header->producer_pid = os::current_process_id();
  header->tag_key = c.own_tag_key_ = random_key();
  c.own_ring_ = static_cast<std::byte*>(c.own_.map.address()) + kHeaderSize;
  return c;
}

Result<os::UniqueFd> Channel::descriptor_for_peer() const {
  return os::read_only_descriptor(own_.fd.get());
}

namespace {
// Maps the header and ring of a data segment, once the header is one a sluice end wrote; the
// ring capacity it claims is returned in `capacity`.
Result<os::Mapping> map_ring_segment(int fd, bool writable, std::uint64_t* capacity) {
  auto size = os::segment_size(fd);
  if (!size) return size.error();
  if (*size < kHeaderSize + kMinRingCapacity) return errc::kBadPipe;
  auto map = os::map_segment_range(
      fd, 0,
      static_cast<std::size_t>(std::min<std::uint64_t>(*size, kHeaderSize + kMaxRingCapacity)),
      writable);
  if (!map) return map.error();
  const auto* header = static_cast<const SegmentHeader*>(map->address());
  std::uint64_t claimed = header->ring_capacity;
  if (header->magic != kSegmentMagic || header->version != kLayoutVersion ||
      !std::has_single_bit(claimed) || claimed < kMinRingCapacity ||
      claimed + kHeaderSize > map->size())
    return errc::kBadPipe;
  *capacity = claimed;
  return map;
}
}  // namespace

Result<void> Channel::attach_peer(os::UniqueFd peer_fd) {
  // Read-only, as the descriptor the peer sent is (Channel::descriptor_for_peer). A futex word
  // in a read-only mapping is looked up on the kernel's slow path (a writable look-up fails
  // first), which once cost a blocked reader about 5 % of its CPU in the echo benchmark: the
  // price of a peer that cannot write what it does not own.
  std::uint64_t capacity = 0;
  auto map = map_ring_segment(peer_fd.get(), false, &capacity);
  if (!map) return map.error();
  const auto* header = static_cast<const SegmentHeader*>(map->address());
  peer_capacity_ = capacity;
  peer_tag_key_ = header->tag_key;
  peer_map_ = std::move(*map);
  peer_ring_ = static_cast<const std::byte*>(peer_map_.address()) + kHeaderSize;
  peer_fd_ = std::move(peer_fd);
  return {};
}

Result<Channel> Channel::adopt(os::UniqueFd own, os::UniqueFd peer, std::uint32_t fragment_offset) {
  std::uint64_t capacity = 0;
  auto map = map_ring_segment(own.get(), true, &capacity);
  if (!map) return map.error();
  const auto* header = static_cast<const SegmentHeader*>(map->address());
  Channel c;
  c.capacity_ = capacity;
  c.own_tag_key_ = header->tag_key;
  c.own_.fd = std::move(own);
  c.own_.map = std::move(*map);
  c.own_ring_ = static_cast<std::byte*>(c.own_.map.address()) + kHeaderSize;
  if (auto attached = c.attach_peer(std::move(peer)); !attached) return attached.error();
  if (auto loaded = c.reload_positions(fragment_offset); !loaded) return loaded.error();
  return c;
}

Result<void> Channel::reload_positions(std::uint32_t fragment_offset) {
  const SegmentHeader& h = own();
  std::uint64_t write_end = h.write_end.load(std::memory_order_acquire);
  std::uint64_t written = h.payload_written.load(std::memory_order_acquire);
  std::uint64_t read_pos = h.read_pos.load(std::memory_order_acquire);
  std::uint64_t read = h.payload_read.load(std::memory_order_acquire);
  // Fragments start 16-aligned (a header never wraps); whole fragments are written, while a
  // reader counts payload inside a fragment it has not finished (so read may pass read_pos).
  if (write_end % kFragmentAlign || read_pos % kFragmentAlign || written > write_end ||
      write_end < write_end_ || read_pos < read_pos_)
    return errc::kBadPipe;
  write_end_ = write_end;
  written_ = written;
  withdrawn_ = h.payload_withdrawn.load(std::memory_order_acquire);
  read_pos_ = read_pos;
  read_ = read;
  fragment_offset_ = fragment_offset;  // checked against the fragment by every read
  // What we saw of the peer's reading is still true (it only grows), but other holders may
  // have written a whole ring since: the peer has read at least what no longer fits.
  if (write_end_ - seen_peer_read_pos_ > capacity_) seen_peer_read_pos_ = write_end_ - capacity_;
  // Another holder may have grown the arena: map what it has now.
  std::uint64_t arena_size = h.arena_size.load(std::memory_order_acquire);
  std::uint64_t arena_head = h.arena_head.load(std::memory_order_acquire);
  if (arena_size > kMaxArenaSize || arena_head > arena_size) return errc::kBadPipe;
  if (arena_size > arena_size_) {
    auto map = os::map_segment_range(own_.fd.get(), kHeaderSize + capacity_, arena_size, true);
    if (!map) return map.error();
    own_arena_ = std::move(*map);
    arena_size_ = arena_size;
    arena_populated_ = 0;
  }
  arena_head_ = arena_head;
  return {};
}

// ---- writing ----

Result<std::int64_t> Channel::fragment_room(std::size_t want) {
  if (terminator_owed_) {
    // A withdrawn unfinished message still needs its end before anything else is written.
    auto room = fragment_room_for(0);
    if (!room) return room.error();
    if (*room < 0) return std::int64_t{-1};
    terminator_owed_ = false;
    append(nullptr, 0, kLast | kWithdrawn);
  }
  return fragment_room_for(want);
}

Result<std::int64_t> Channel::fragment_room_for(std::size_t want) {
  std::uint64_t free = capacity_ - (write_end_ - seen_peer_read_pos_);
  if (free < kFragmentHeaderSize || free - kFragmentHeaderSize < want) {
    std::uint64_t peer_read = peer().read_pos.load(std::memory_order_acquire);
    if (peer_read > write_end_ || write_end_ - peer_read > capacity_ ||
        peer_read < seen_peer_read_pos_)
      return errc::kBadPipe;
    seen_peer_read_pos_ = peer_read;
    free = capacity_ - (write_end_ - peer_read);
  }
  if (free < kFragmentHeaderSize) return std::int64_t{-1};
  return static_cast<std::int64_t>((free - kFragmentHeaderSize) &
                                   ~std::uint64_t{kFragmentAlign - 1});
}

void Channel::append(const std::byte* data, std::size_t size, std::uint32_t flags) {
  std::uint64_t ring_bytes = kFragmentHeaderSize + padded(size);
  populate_ring_through(write_end_ + ring_bytes);
  std::uint64_t at = write_end_ & (capacity_ - 1);
  // Positions are 16-aligned and the capacity a multiple of 16: a header never wraps.
  std::uint64_t pos = (at + kFragmentHeaderSize) & (capacity_ - 1);
  std::size_t first = std::min<std::size_t>(size, capacity_ - pos);
  if (size) {
    std::memcpy(own_ring_ + pos, data, first);
    if (first < size) std::memcpy(own_ring_, data + first, size - first);
  }
  publish(ring_bytes, static_cast<std::uint32_t>(size), 0, flags);
}

Result<bool> Channel::append_whole(const std::byte* data, std::size_t size, std::uint32_t flags) {
  auto room = fragment_room(size);
  if (!room) return room.error();
  if (*room < 0) return false;  // not even a header fits
  if (size <= static_cast<std::uint64_t>(*room)) {
    append(data, size, flags);
    return true;
  }
  auto at = arena_allocate(size);
  if (!at) return at.error();
  if (!*at) return false;
  std::byte* payload = static_cast<std::byte*>(own_arena_.address()) + **at;
  std::uint64_t end = **at + size;
  if (end > arena_populated_) {
    // A page fault per page costs more than the copy: populate the new part in one call.
    std::byte* first = payload + (std::max(arena_populated_, **at) - **at);
    os::populate_for_write(page_start(first),
                           static_cast<std::size_t>(payload + size - page_start(first)));
    arena_populated_ = end;
  }
  std::memcpy(payload, data, size);
  populate_ring_through(write_end_ + kFragmentHeaderSize);
  publish(kFragmentHeaderSize, static_cast<std::uint32_t>(size),
          static_cast<std::uint32_t>(**at / kFragmentAlign), flags | kOutOfLine);
  return true;
}

void Channel::populate_ring_more(std::uint64_t end) noexcept {
  std::uint64_t from, to;
  if (populate_ahead(end, capacity_, &populated_, &from, &to))
    os::populate_for_write(page_start(own_ring_ + from),
                           static_cast<std::size_t>(own_ring_ + to - page_start(own_ring_ + from)));
  populate_next_ = populate_threshold(capacity_, populated_);
}

void Channel::publish(std::uint64_t ring_bytes, std::uint32_t length, std::uint32_t arena_slot,
                      std::uint32_t flags) {
  std::byte* header = own_ring_ + (write_end_ & (capacity_ - 1));
  std::memcpy(header, &length, sizeof length);
  std::memcpy(header + 4, &arena_slot, sizeof arena_slot);
  std::uint64_t tag = ((write_end_ << 2) | flags) ^ own_tag_key_;
  last_fragment_at_ = write_end_;
  write_end_ += ring_bytes;
  written_ += length;
  // The counters go before the tag: a reader takes a fragment as soon as it sees its tag, and
  // its count of bytes read must never run ahead of the written count it compares with.
  SegmentHeader& h = own();
  h.write_end.store(write_end_, std::memory_order_relaxed);
  h.payload_written.store(written_, std::memory_order_relaxed);
  // The tag goes last (release): once a reader sees it, everything above is visible too.
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(header + 8), tag, __ATOMIC_RELEASE);
  signal_data();
}

Result<std::optional<std::uint64_t>> Channel::oldest_arena_payload(std::uint64_t reader_at) const {
  // Walks this side's own fragments that the reader has not passed; a fragment is 16 ring bytes
  // at least, so the walk is bounded by the ring.
  for (std::uint64_t pos = reader_at; pos < write_end_;) {
    const std::byte* header = own_ring_ + (pos & (capacity_ - 1));
    std::uint32_t length, slot;
    std::memcpy(&length, header, sizeof length);
    std::memcpy(&slot, header + 4, sizeof slot);
    std::uint64_t tag =
        __atomic_load_n(reinterpret_cast<const std::uint64_t*>(header + 8), __ATOMIC_ACQUIRE) ^
        own_tag_key_;
    if (!tag_is_for(tag, pos)) return errc::kBadPipe;  // our own ring, rewritten by someone else
    if (tag & kOutOfLine) return std::optional<std::uint64_t>(std::uint64_t{slot} * kFragmentAlign);
    pos += kFragmentHeaderSize + padded(length);
  }
  return std::optional<std::uint64_t>{};
}

Result<std::optional<std::uint64_t>> Channel::arena_allocate(std::uint64_t size) {
  // The arena is a FIFO of payloads, like the ring, but each payload contiguous: the next one
  // goes after the newest, or at the start once the oldest has left room there, or after the
  // newest in a grown arena. A payload is free once the reader has passed its fragment.
  size = padded(size);
  std::uint64_t reader_at = peer().read_pos.load(std::memory_order_acquire);
  if (reader_at > write_end_ || write_end_ - reader_at > capacity_) return errc::kBadPipe;
  auto oldest = oldest_arena_payload(reader_at);
  if (!oldest) return oldest.error();
  std::optional<std::uint64_t> at;
  std::uint64_t grow_to = 0;
  if (!*oldest) {
    at = 0;  // empty: start again at the front, where the pages are
    grow_to = size;
  } else if (**oldest < arena_head_) {  // live payloads run from *oldest up to the head
    if (arena_head_ + size <= arena_size_) {
      at = arena_head_;
    } else if (size <= **oldest) {
      at = 0;
    } else {
      at = arena_head_;
      grow_to = arena_head_ + size;
    }
  } else if (arena_head_ + size <= **oldest) {  // wrapped: room between the head and the oldest
    at = arena_head_;
  }
  if (!at) return std::optional<std::uint64_t>{};
  if (grow_to > arena_size_) {
    if (grow_to > kMaxArenaSize) return std::optional<std::uint64_t>{};
    std::uint64_t new_size =
        std::min(kMaxArenaSize, std::max<std::uint64_t>(64 * 1024, std::bit_ceil(grow_to)));
    if (auto grown = os::grow_segment(own_.fd.get(), kHeaderSize + capacity_ + new_size); !grown)
      return grown.error();
    auto map = os::map_segment_range(own_.fd.get(), kHeaderSize + capacity_, new_size, true);
    if (!map) return map.error();
    own_arena_ = std::move(*map);
    arena_size_ = new_size;
    arena_populated_ = 0;  // a new mapping: its pages are looked up afresh
    own().arena_size.store(arena_size_, std::memory_order_release);
  }
  arena_head_ = *at + size;
  own().arena_head.store(arena_head_, std::memory_order_release);
  return at;
}

bool Channel::withdraw(std::uint64_t from, std::uint64_t to, bool unfinished_message) {
  // A long write may have gone round the ring: what is unread starts at the reader's position
  // (a fragment boundary), never more than a ring behind. Lengths are read back from the ring,
  // which other holders of this end share, so the walk stops at anything that does not fit.
  if (to < from || to > write_end_) return false;
  std::uint64_t reader_at = peer().read_pos.load(std::memory_order_acquire);
  if (reader_at > from && reader_at <= to && reader_at % kFragmentAlign == 0) from = reader_at;
  if (to - from > capacity_) return false;
  struct Marked {
    std::uint64_t pos;
    std::uint64_t* tag;
    std::uint64_t plain;  // the tag as it was
    std::uint32_t length;
    bool last;  // the write's last fragment
  };
  std::vector<Marked> marked;
  // 1. Mark every fragment of the write the reader may not have taken yet as being withdrawn.
  for (std::uint64_t pos = from; pos < to;) {
    std::byte* header = own_ring_ + (pos & (capacity_ - 1));
    std::uint32_t length;
    std::memcpy(&length, header, sizeof length);
    auto* tag = reinterpret_cast<std::uint64_t*>(header + 8);
    std::uint64_t seen = __atomic_load_n(tag, __ATOMIC_ACQUIRE);
    std::uint64_t decoded = seen ^ own_tag_key_;
    std::uint64_t step = kFragmentHeaderSize + ((decoded & kOutOfLine) ? 0 : padded(length));
    if (step > to - pos) break;
    // A slot a later lap reused holds another offset: the reader took this fragment long ago.
    if (tag_is_for(decoded, pos) && !(decoded & kWithdrawn)) {
      __atomic_store_n(tag, seen ^ kWithdrawing, __ATOMIC_RELAXED);
      marked.push_back({pos, tag, seen, length, pos + step == to});
    }
    pos += step;
  }
  // 2. Pairs with the reader's fence between its claim and its second look at the tag: either
  // it sees our mark, or we see its claim.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint64_t claim = peer().claim.load(std::memory_order_relaxed);
  std::uint64_t claimed_at = claim >> 1;
  bool claim_active = (claim & kClaimActive) != 0;
  // 3. What the reader has claimed is its own; the rest is withdrawn.
  std::uint64_t withdrawn = 0;
  bool all_taken = true;
  for (const Marked& m : marked) {
    bool readers = m.pos < claimed_at || (m.pos == claimed_at && claim_active);
    std::uint64_t decoded = m.plain ^ own_tag_key_;
    std::uint64_t next = m.plain;
    if (!readers) {
      std::uint64_t flags = (decoded & kFragmentFlags) | kWithdrawn;
      if (unfinished_message && m.last) flags |= kLast;
      next = ((m.pos << 2) | flags) ^ own_tag_key_;
      withdrawn += m.length;
      all_taken = false;
    }
    __atomic_store_n(m.tag, next, __ATOMIC_RELEASE);
  }
  withdrawn_ += withdrawn;
  own().payload_withdrawn.store(withdrawn_, std::memory_order_release);
  // A message whose end was never written needs one, for a reader that took all we queued.
  if (unfinished_message) terminator_owed_ = true;
  (void)fragment_room(0);  // writes the terminator now if there is room
  signal_data();           // a reader waits out kWithdrawing; a sleeping one skips what went
  return all_taken;
}

void Channel::drop_pending_writes_of_dead_peer() noexcept {
  std::uint64_t completed = peer().completed_end.load(std::memory_order_acquire);
  std::uint64_t published = peer().write_end.load(std::memory_order_acquire);
  // A lie (beyond what was written, or misaligned) keeps everything: nothing is lost to it.
  if (completed > published || completed % kFragmentAlign != 0) return;
  peer_limit_ = std::min(peer_limit_, completed);
}

namespace {
// Only the first lap faults; 64 KiB ahead keeps a page fault (several microseconds) off the
// path of every message while an idle connection still costs no ring pages. A ring smaller
// than a chunk is left to fault on demand: its first lap has a handful of faults in the whole
// life of the connection.
constexpr std::uint64_t kPopulateChunk = 64 * 1024;
constexpr std::uint64_t kPage = 4096;  // madvise wants page-aligned ranges
// The first pages fault one by one: a connection that carries a few messages keeps only the
// pages they touched (docs/data-path.md: an idle connection costs its buffers and little more).
constexpr std::uint64_t kLazyStart = 16 * 1024;
}  // namespace

bool Channel::populate_ahead(std::uint64_t needed, std::uint64_t capacity, std::uint64_t* done,
                             std::uint64_t* from, std::uint64_t* to) noexcept {
  if (needed < populate_threshold(capacity, *done)) return false;
  *from = *done;
  *to = std::min(capacity, (std::max(needed, *done) + kPopulateChunk + kPage - 1) & ~(kPage - 1));
  *done = *to;
  return *to > *from;
}

std::uint64_t Channel::populate_threshold(std::uint64_t capacity, std::uint64_t done) noexcept {
  if (capacity < kPopulateChunk || done >= capacity) return ~std::uint64_t{0};
  std::uint64_t behind = done > kPopulateChunk / 2 ? done - kPopulateChunk / 2 : 0;
  return std::max(kLazyStart, behind) + 1;
}

void Channel::signal_data() noexcept {
  // Pairs with the reader's fence between storing waiting_for_data and its last look for data:
  // either it sees our data or we see it sleeping. Nobody asleep: no system call.
  // (membarrier(2) could make this side a compiler barrier, but then every sleeper IPIs every
  // CPU: measured, it halved a 16-client echo server and gained nothing at 64 B one way.)
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (std::uint32_t waiting = peer().waiting_for_data.load(std::memory_order_relaxed))
    notify_peer(waiting, own().data_seq);
}

void Channel::notify_peer(std::uint32_t waiting, std::atomic<std::uint32_t>& seq) noexcept {
  if (waiting & (kWaitFutex | kWaitShared)) {
    seq.fetch_add(1, std::memory_order_seq_cst);
    os::wake_shared(&seq);
  }
  if ((waiting & kWaitDoorbell) && doorbell_fd_ >= 0) os::ring_doorbell(doorbell_fd_);
}

Result<std::uint64_t> Channel::unread_by_peer() const {
  std::uint64_t peer_read = peer().payload_read.load(std::memory_order_acquire);
  if (peer_read > written_) return errc::kBadPipe;
  std::uint64_t unread = written_ - peer_read;
  return unread > withdrawn_ ? unread - withdrawn_ : 0;  // withdrawn bytes are never read
}

bool Channel::peer_has_read(std::uint64_t count) noexcept {
  // Withdrawn bytes are never read, but they leave the quota as if they had been.
  if (seen_peer_payload_read_ + withdrawn_ >= count) return true;
  std::uint64_t peer_read = peer().payload_read.load(std::memory_order_acquire);
  if (peer_read > written_) return false;  // a lying peer never completes a write
  seen_peer_payload_read_ = std::max(seen_peer_payload_read_, peer_read);
  return seen_peer_payload_read_ + withdrawn_ >= count;
}

// ---- reading ----

Result<std::uint64_t> Channel::available() const {
  std::uint64_t written = peer().payload_written.load(std::memory_order_acquire);
  std::uint64_t withdrawn = peer().payload_withdrawn.load(std::memory_order_acquire);
  if (written < read_) return errc::kBadPipe;
  if (read_pos_ >= peer_limit_) return std::uint64_t{0};  // the rest died with the peer
  std::uint64_t unread = written - read_;
  // Clamped: a race in withdraw() may count a few bytes both as read and as withdrawn.
  unread = unread > withdrawn ? unread - withdrawn : 0;
  // What the ring and the arena can hold at most: more is a lie (a peek would pass it on to an
  // application that sizes a buffer by it).
  if (unread > peer_capacity_ + kMaxArenaSize) return errc::kBadPipe;
  return unread;
}

bool Channel::has_fragment() const noexcept {
  auto f = fragment_at(read_pos_);
  return !f || f->has_value();  // a corrupt header counts: the read reports it
}

Result<std::optional<Channel::Fragment>> Channel::fragment_at(std::uint64_t pos) const {
  const std::byte* header = peer_ring_ + (pos & (peer_capacity_ - 1));
  std::uint64_t tag = __atomic_load_n(peer_tag(pos), __ATOMIC_ACQUIRE) ^ peer_tag_key_;
  if (!tag_is_for(tag, pos)) return std::optional<Fragment>{};
  if (tag & kWithdrawing) return std::optional<Fragment>{};  // the writer is deciding
  Fragment f;
  std::uint32_t slot;
  std::memcpy(&f.length, header, sizeof f.length);
  std::memcpy(&slot, header + 4, sizeof slot);
  f.flags = static_cast<std::uint32_t>(tag & kFragmentFlags);
  f.arena_offset = std::uint64_t{slot} * kFragmentAlign;
  if (pos >= peer_limit_) f.flags |= kWithdrawn;
  // An out-of-line payload is checked against the arena where it is taken (arena_payload).
  if (ring_step(f) > peer_capacity_) return errc::kBadPipe;
  return std::optional<Fragment>(f);
}

Result<const std::byte*> Channel::peer_arena(std::uint64_t end) const {
  std::uint64_t mapped = peer_arena_maps_.empty() ? 0 : peer_arena_maps_.back().size();
  if (end > mapped) {
    // The producer grew its arena since we looked; the kernel, not the peer, says how far.
    if (end > kMaxArenaSize) return errc::kBadPipe;
    auto size = os::segment_size(peer_fd_.get());
    if (!size) return errc::kBadPipe;
    std::uint64_t arena =
        *size > kHeaderSize + peer_capacity_ ? *size - kHeaderSize - peer_capacity_ : 0;
    arena = std::min(arena, kMaxArenaSize);
    if (arena < end) return errc::kBadPipe;
    auto map = os::map_segment_range(peer_fd_.get(), kHeaderSize + peer_capacity_,
                                     static_cast<std::size_t>(arena), false);
    if (!map) return errc::kBadPipe;
    peer_arena_maps_.push_back(std::move(*map));
    peer_arena_populated_ = 0;
  }
  return static_cast<const std::byte*>(peer_arena_maps_.back().address());
}

Channel::Claim Channel::claim(std::uint64_t pos, Fragment& f) {
  if (f.flags & kWithdrawn) return Claim::kSkip;
  std::uint64_t word = (pos << 1) | kClaimActive;
  if (own().claim.load(std::memory_order_relaxed) != word) {
    own().claim.store(word, std::memory_order_relaxed);
    // Pairs with the writer's fence in withdraw(): it sees this claim, or we see its mark.
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  std::uint64_t tag = __atomic_load_n(peer_tag(pos), __ATOMIC_ACQUIRE) ^ peer_tag_key_;
  if (!tag_is_for(tag, pos)) return Claim::kNotYet;  // a lie, taken as nothing
  if (tag & kWithdrawing) return Claim::kNotYet;
  if (tag & kWithdrawn) {
    f.flags = static_cast<std::uint32_t>(tag & kFragmentFlags);  // its kLast may be new too
    return Claim::kSkip;
  }
  return Claim::kTake;
}

void Channel::release_claim(std::uint64_t pos) noexcept {
  own().claim.store(pos << 1, std::memory_order_release);
}

namespace {
// A sink that copies each piece to the next place in `out`.
struct CopySink {
  std::byte* out;
  void operator()(const std::byte* piece, std::size_t n) {
    std::memcpy(out, piece, n);
    out += n;
  }
};
// A sink that shows each piece to a visitor.
struct VisitSink {
  const Channel::Visitor& visit;
  void operator()(const std::byte* piece, std::size_t n) { visit({piece, n}); }
};
}  // namespace

template <class Sink>
Result<void> Channel::pieces(std::uint64_t pos, const Fragment& f, std::size_t offset,
                             std::size_t size, Sink& sink) const {
  if (size == 0) return {};  // a copy sink's `out` may be null then
  if (f.flags & kOutOfLine) [[unlikely]] {
    auto payload = arena_payload(f);
    if (!payload) return payload.error();
    sink(*payload + offset, size);
    return {};
  }
  std::uint64_t at = (pos + kFragmentHeaderSize + offset) & (peer_capacity_ - 1);
  std::size_t first = std::min<std::size_t>(size, peer_capacity_ - at);
  sink(peer_ring_ + at, first);
  if (first < size) sink(peer_ring_, size - first);
  return {};
}

Result<const std::byte*> Channel::arena_payload(const Fragment& f) const {
  std::uint64_t end = f.arena_offset + f.length;
  auto arena = peer_arena(end);
  if (!arena) return arena.error();
  if (end > peer_arena_populated_) {
    // One call maps the pages a first read would otherwise fault in one by one.
    const std::byte* from = *arena + std::max(peer_arena_populated_, f.arena_offset);
    os::populate_for_read(page_start(from),
                          static_cast<std::size_t>(*arena + end - page_start(from)));
    peer_arena_populated_ = end;
  }
  return *arena + f.arena_offset;
}

void Channel::consume(std::uint64_t new_read_pos, std::size_t payload) noexcept {
  if (new_read_pos >= peer_populate_next_) [[unlikely]] {
    std::uint64_t from, to;
    if (populate_ahead(new_read_pos, peer_capacity_, &peer_populated_, &from, &to))
      os::populate_for_read(
          page_start(peer_ring_ + from),
          static_cast<std::size_t>(peer_ring_ + to - page_start(peer_ring_ + from)));
    peer_populate_next_ = populate_threshold(peer_capacity_, peer_populated_);
  }
  read_pos_ = new_read_pos;
  read_ += payload;  // payload_read moves with every byte: the writer's quota counts bytes read
  SegmentHeader& h = own();
  h.read_pos.store(read_pos_, std::memory_order_release);
  h.payload_read.store(read_, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // as in signal_data
  if (std::uint32_t waiting = peer().waiting_for_space.load(std::memory_order_relaxed))
    notify_peer(waiting, h.read_seq);
}

Result<Taken> Channel::read_message(std::byte* out, std::size_t size, bool message_begun) {
  CopySink sink{out};
  return take_message(size, message_begun, sink);
}

Result<Taken> Channel::visit_message(const Visitor& visit, bool message_begun) {
  VisitSink sink{visit};
  return take_message(~std::size_t{0}, message_begun, sink);
}

template <class Sink>
Result<Taken> Channel::take_message(std::size_t size, bool message_begun, Sink& sink) {
  Taken t;
  std::uint64_t pos = read_pos_;
  std::uint32_t offset = fragment_offset_;
  // At most one lap per call: a lying peer cannot keep us here with endless empty fragments.
  while (pos - read_pos_ < peer_capacity_) {
    auto next = fragment_at(pos);
    if (!next) return next.error();
    if (!*next) break;
    Fragment& f = **next;
    if (offset > f.length) return errc::kBadPipe;
    Claim claimed = claim(pos, f);
    if (claimed == Claim::kNotYet) break;
    if (claimed == Claim::kSkip) {
      pos += ring_step(f);
      offset = 0;
      // The rest of a message this read has begun was cancelled: it ends here. A message an
      // earlier read began (ERROR_MORE_DATA) just loses its rest.
      if ((f.flags & kLast) && (t.bytes > 0 || message_begun)) {
        t.message_done = true;
        break;
      }
      continue;
    }
    std::size_t take = std::min<std::size_t>(f.length - offset, size - t.bytes);
    if (auto taken = pieces(pos, f, offset, take, sink); !taken) {
      release_claim(pos);
      return taken.error();
    }
    t.bytes += take;
    offset += static_cast<std::uint32_t>(take);
    t.consumed = t.consumed || take > 0 || offset == f.length;
    if (offset < f.length) break;  // buffer full inside this fragment
    pos += ring_step(f);
    offset = 0;
    if (f.flags & kLast) {
      t.message_done = true;
      break;
    }
    if (t.bytes == size) break;  // buffer full at a fragment boundary; the message goes on
  }
  if (offset > 0) release_claim(pos);  // stopped inside a fragment: the rest may yet go
  fragment_offset_ = offset;
  // Passing withdrawn fragments is progress too, empty ones included: a read that stayed put
  // in front of one would leave the reader spinning on it.
  if (t.consumed || pos != read_pos_) consume(pos, t.bytes);
  return t;
}

Result<Taken> Channel::read_bytes(std::byte* out, std::size_t size) {
  CopySink sink{out};
  return take_bytes(size, sink);
}

Result<Taken> Channel::visit_bytes(const Visitor& visit) {
  VisitSink sink{visit};
  return take_bytes(~std::size_t{0}, sink);
}

template <class Sink>
Result<Taken> Channel::take_bytes(std::size_t size, Sink& sink) {
  Taken t;
  std::uint64_t pos = read_pos_;
  std::uint32_t offset = fragment_offset_;
  while ((t.bytes < size || size == 0) && pos - read_pos_ < peer_capacity_) {
    auto next = fragment_at(pos);
    if (!next) return next.error();
    if (!*next) break;
    Fragment& f = **next;
    if (offset > f.length) return errc::kBadPipe;
    if (size == 0 && f.length != offset && !(f.flags & kWithdrawn)) break;  // leaves data in place
    Claim claimed = claim(pos, f);
    if (claimed == Claim::kNotYet) break;
    if (claimed == Claim::kSkip) {
      pos += ring_step(f);
      offset = 0;
      continue;
    }
    std::size_t take = std::min<std::size_t>(f.length - offset, size - t.bytes);
    if (auto taken = pieces(pos, f, offset, take, sink); !taken) {
      release_claim(pos);
      return taken.error();
    }
    t.bytes += take;
    offset += static_cast<std::uint32_t>(take);
    t.consumed = t.consumed || take > 0 || offset == f.length;
    if (offset < f.length) break;
    pos += ring_step(f);
    offset = 0;
  }
  if (offset > 0) release_claim(pos);  // stopped inside a fragment: the rest may yet go
  fragment_offset_ = offset;
  // Passing withdrawn fragments is progress too, empty ones included: a read that stayed put
  // in front of one would leave the reader spinning on it.
  if (t.consumed || pos != read_pos_) consume(pos, t.bytes);
  return t;
}

Result<Peeked> Channel::peek(std::byte* out, std::size_t size, bool message_pipe,
                             bool message_begun) const {
  Peeked p;
  auto avail = available();
  if (!avail) return avail.error();
  p.total_available = *avail;
  std::uint64_t pos = read_pos_;
  std::uint32_t offset = fragment_offset_;
  // Bounded by the ring: a lying peer cannot keep us walking.
  for (std::uint64_t walked = 0; walked < peer_capacity_;) {
    auto next = fragment_at(pos);
    if (!next) return next.error();
    if (!*next) break;
    const Fragment& f = **next;
    if (offset > f.length) return errc::kBadPipe;
    std::uint64_t step = ring_step(f);
    if (f.flags & kWithdrawn) {
      // Not there for a reader: only a message already under way ends at its kLast.
      if (message_pipe && (f.flags & kLast) && (p.head_message > 0 || message_begun)) break;
      pos += step;
      walked += step;
      offset = 0;
      continue;
    }
    if (f.flags & kOutOfLine) {  // a payload beyond the arena is a lie, copied or not
      if (auto arena = peer_arena(f.arena_offset + f.length); !arena) return arena.error();
    }
    std::size_t unread = f.length - offset;
    std::size_t take = std::min<std::size_t>(unread, size - p.bytes);
    if (out && take) {
      CopySink sink{out + p.bytes};
      if (auto copied = pieces(pos, f, offset, take, sink); !copied) return copied.error();
    }
    p.bytes += take;
    if (message_pipe) {
      p.head_message += unread;
      if (f.flags & kLast) break;
    } else if (p.bytes == size) {
      break;
    }
    pos += step;
    walked += step;
    offset = 0;
  }
  return p;
}

void Channel::barrier_before_sleep() const noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void Channel::publish_state(EndState state) noexcept {
  SegmentHeader& h = own();
  h.state.store(static_cast<std::uint32_t>(state), std::memory_order_seq_cst);
  // Wake every sleeper of the peer whatever it waits for: the state changes all outcomes.
  h.data_seq.fetch_add(1, std::memory_order_seq_cst);
  h.read_seq.fetch_add(1, std::memory_order_seq_cst);
  os::futex_wake_all(&h.data_seq, true);
  os::futex_wake_all(&h.read_seq, true);
}

EndState Channel::peer_state() const noexcept {
  std::uint32_t s = peer().state.load(std::memory_order_acquire);
  if (s == static_cast<std::uint32_t>(EndState::kOpen)) return EndState::kOpen;
  if (s == static_cast<std::uint32_t>(EndState::kDisconnected)) return EndState::kDisconnected;
  return EndState::kClosed;
}

}  // namespace sluice::shm
