#include "shm/channel.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

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

std::uint64_t random_key() {
  std::uint64_t key = 0;
  os::fill_random(&key, sizeof key);
  // Zeroed ring memory decodes to key >> 2 as a position: keep that beyond any real offset.
  return key | (std::uint64_t{1} << 63);
}

}  // namespace

std::uint64_t ring_capacity_for(std::uint32_t quota) noexcept {
  std::uint64_t want = std::max<std::uint64_t>(kMinRingCapacity, 2ull * quota);
  return std::min(std::bit_ceil(want), kMaxRingCapacity);
}

Result<Channel> Channel::create(std::uint32_t quota) {
  Channel c;
  c.capacity_ = ring_capacity_for(quota);
  auto seg = os::create_sealed_segment("sluice-ring", kHeaderSize + c.capacity_);
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

namespace {
// The ring capacity a segment's header claims, once the header is one a sluice end wrote.
Result<std::uint64_t> checked_capacity(const os::Mapping& map) {
  const auto* header = static_cast<const SegmentHeader*>(map.address());
  std::uint64_t capacity = header->ring_capacity;
  if (header->magic != kSegmentMagic || header->version != kLayoutVersion ||
      !std::has_single_bit(capacity) || capacity + kHeaderSize != map.size())
    return errc::kBadPipe;
  return capacity;
}
}  // namespace

Result<void> Channel::attach_peer(os::UniqueFd peer_fd) {
  // Mapped writable though we only read it: a futex word in a read-only mapping is looked up on
  // the kernel's slow path (a writable page look-up first fails and walks the VMAs), which cost
  // a blocked reader about 5 % of its CPU in the echo benchmark. Sealing no longer keeps the
  // peer's segment read-only for us anyway (an end that is shared maps its segments writable).
  auto map = os::map_shared_segment(peer_fd.get(), kHeaderSize + kMinRingCapacity,
                                  kHeaderSize + kMaxRingCapacity);
  if (!map) return map.error();
  auto capacity = checked_capacity(*map);
  if (!capacity) return capacity.error();
  const auto* header = static_cast<const SegmentHeader*>(map->address());
  peer_capacity_ = *capacity;
  peer_tag_key_ = header->tag_key;
  peer_map_ = std::move(*map);
  peer_ring_ = static_cast<const std::byte*>(peer_map_.address()) + kHeaderSize;
  peer_fd_ = std::move(peer_fd);
  return {};
}

Result<Channel> Channel::adopt(os::UniqueFd own, os::UniqueFd peer,
                               std::uint32_t fragment_offset) {
  auto map = os::map_shared_segment(own.get(), kHeaderSize + kMinRingCapacity,
                                    kHeaderSize + kMaxRingCapacity);
  if (!map) return map.error();
  auto capacity = checked_capacity(*map);
  if (!capacity) return capacity.error();
  const auto* header = static_cast<const SegmentHeader*>(map->address());
  Channel c;
  c.capacity_ = *capacity;
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
  return static_cast<std::int64_t>((free - kFragmentHeaderSize) & ~std::uint64_t{kFragmentAlign - 1});
}

void Channel::append(const std::byte* data, std::size_t size, std::uint32_t flags) {
  std::uint64_t from, to;
  if (populate_ahead(write_end_ + kFragmentHeaderSize + padded(size), capacity_, &populated_, &from,
                     &to))
    os::populate_for_write(page_start(own_ring_ + from),
                           static_cast<std::size_t>(own_ring_ + to - page_start(own_ring_ + from)));
  std::uint64_t at = write_end_ & (capacity_ - 1);
  // Positions are 16-aligned and the capacity a multiple of 16: a header never wraps.
  std::byte* header = own_ring_ + at;
  std::uint64_t pos = (at + kFragmentHeaderSize) & (capacity_ - 1);
  std::size_t first = std::min<std::size_t>(size, capacity_ - pos);
  if (size) {
    std::memcpy(own_ring_ + pos, data, first);
    if (first < size) std::memcpy(own_ring_, data + first, size - first);
  }
  std::uint32_t length = static_cast<std::uint32_t>(size);
  std::memcpy(header, &length, sizeof length);
  std::uint64_t tag = ((write_end_ << 2) | flags) ^ own_tag_key_;
  write_end_ += kFragmentHeaderSize + padded(size);
  written_ += size;
  // The counters go before the tag: a reader takes a fragment as soon as it sees its tag, and
  // its count of bytes read must never run ahead of the written count it compares with.
  SegmentHeader& h = own();
  h.write_end.store(write_end_, std::memory_order_relaxed);
  h.payload_written.store(written_, std::memory_order_relaxed);
  // The tag goes last (release): once a reader sees it, everything above is visible too.
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(header + 8), tag, __ATOMIC_RELEASE);
  signal_data();
}

bool Channel::withdraw(std::uint64_t from, std::uint64_t to, bool unfinished_message) {
  // A long write may have gone round the ring: what is unread starts at the reader's position
  // (a fragment boundary), never more than a ring behind. Lengths are read back from the ring,
  // which the peer could have scribbled on, so the walk stops at anything that does not fit.
  if (to < from || to > write_end_) return false;
  std::uint64_t reader_at = peer().read_pos.load(std::memory_order_acquire);
  if (reader_at > from && reader_at <= to && reader_at % kFragmentAlign == 0) from = reader_at;
  if (to - from > capacity_) return false;
  std::uint64_t withdrawn = 0;
  bool all_taken = true;
  for (std::uint64_t pos = from; pos < to;) {
    std::byte* header = own_ring_ + (pos & (capacity_ - 1));
    std::uint32_t length;
    std::memcpy(&length, header, sizeof length);
    std::uint64_t step = kFragmentHeaderSize + padded(length);
    if (step > to - pos) return false;
    auto* tag = reinterpret_cast<std::uint64_t*>(header + 8);
    std::uint64_t seen = __atomic_load_n(tag, __ATOMIC_ACQUIRE);
    std::uint64_t decoded = seen ^ own_tag_key_;
    // A slot a later lap reused holds another offset: the reader took this fragment long ago.
    // One the reader claimed (kTaken) is its: it stays, whole.
    if (((decoded >> 2) & ~std::uint64_t{kFragmentAlign - 1}) == (pos & (~std::uint64_t{0} >> 2)) &&
        !(decoded & kTaken)) {
      std::uint64_t flags = (decoded & 7) | kWithdrawn;
      if (unfinished_message && pos + step == to) flags |= kLast;
      std::uint64_t wanted = ((pos << 2) | flags) ^ own_tag_key_;
      // Of this swap and the reader's claim exactly one succeeds (segment_layout.hpp, kTaken).
      if (__atomic_compare_exchange_n(tag, &seen, wanted, false, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST)) {
        all_taken = false;
        if (!(decoded & kWithdrawn)) withdrawn += length;
      }
    }
    pos += step;
  }
  withdrawn_ += withdrawn;
  own().payload_withdrawn.store(withdrawn_, std::memory_order_release);
  // A message whose end was never written needs one, for a reader that took all we queued.
  if (unfinished_message) terminator_owed_ = true;
  (void)fragment_room(0);  // writes the terminator now if there is room
  signal_data();           // a sleeping reader skips what was withdrawn
  return all_taken;
}

void Channel::drop_pending_writes_of_dead_peer() noexcept {
  std::uint64_t completed = peer().completed_end.load(std::memory_order_acquire);
  std::uint64_t published = peer().write_end.load(std::memory_order_acquire);
  // A lie (beyond what was written, or misaligned) keeps everything: nothing is lost to it.
  if (completed > published || completed % kFragmentAlign != 0) return;
  peer_limit_ = std::min(peer_limit_, completed);
}

bool Channel::populate_ahead(std::uint64_t needed, std::uint64_t capacity, std::uint64_t* done,
                             std::uint64_t* from, std::uint64_t* to) noexcept {
  // Only the first lap faults; 64 KiB ahead keeps a page fault (several microseconds) off the
  // path of every message while an idle connection still costs no ring pages. A ring smaller
  // than a chunk is left to fault on demand: its first lap has a handful of faults in the whole
  // life of the connection, and a connection that carried one message keeps one ring page.
  constexpr std::uint64_t kChunk = 64 * 1024;
  constexpr std::uint64_t kPage = 4096;  // madvise wants page-aligned ranges
  if (capacity < kChunk || *done >= capacity || needed + kChunk / 2 <= *done) return false;
  *from = *done;
  *to = std::min(capacity, (std::max(needed, *done) + kChunk + kPage - 1) & ~(kPage - 1));
  *done = *to;
  return *to > *from;
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
  return unread > withdrawn ? unread - withdrawn : 0;
}

bool Channel::has_fragment() const noexcept {
  auto f = fragment_at(read_pos_);
  return !f || f->has_value();  // a corrupt header counts: the read reports it
}

Result<std::optional<Channel::Fragment>> Channel::fragment_at(std::uint64_t pos) const {
  const std::byte* header = peer_ring_ + (pos & (peer_capacity_ - 1));
  std::uint64_t tag = __atomic_load_n(peer_tag(pos), __ATOMIC_ACQUIRE) ^ peer_tag_key_;
  if (((tag >> 2) & ~std::uint64_t{kFragmentAlign - 1}) != (pos & (~std::uint64_t{0} >> 2)))
    return std::optional<Fragment>{};
  Fragment f;
  std::memcpy(&f.length, header, sizeof f.length);
  f.flags = static_cast<std::uint32_t>(tag & 7);
  f.taken = (tag & kTaken) != 0;
  f.raw_tag = tag ^ peer_tag_key_;
  if (pos >= peer_limit_) f.flags |= kWithdrawn;
  if (kFragmentHeaderSize + padded(f.length) > peer_capacity_) return errc::kBadPipe;
  return std::optional<Fragment>(f);
}

std::uint64_t* Channel::peer_tag(std::uint64_t pos) const noexcept {
  // The peer's ring is mapped writable for the reader's one bit (kTaken).
  return reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(peer_ring_) +
                                          (pos & (peer_capacity_ - 1)) + 8);
}

bool Channel::claim(std::uint64_t pos, Fragment& f) {
  if (f.flags & kWithdrawn) return false;
  if (f.taken) return true;
  std::uint64_t expected = f.raw_tag;  // only a tag the peer wrote for `pos` changes
  if (__atomic_compare_exchange_n(peer_tag(pos), &expected, f.raw_tag ^ kTaken, false,
                                  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    f.taken = true;
    return true;
  }
  // The writer withdrew it meanwhile (its kLast may be new too); anything else is a lie, which
  // reads as withdrawn: nothing of it is taken.
  f.flags = static_cast<std::uint32_t>((expected ^ peer_tag_key_) & 7) | kWithdrawn;
  return false;
}

void Channel::release_claim(std::uint64_t pos) {
  std::uint64_t* tag = peer_tag(pos);
  std::uint64_t seen = __atomic_load_n(tag, __ATOMIC_ACQUIRE);
  if (((seen ^ peer_tag_key_) & kTaken) == 0) return;
  // Only this reader sets or clears kTaken, and the writer never swaps a claimed tag.
  (void)__atomic_compare_exchange_n(tag, &seen, seen ^ kTaken, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
}

void Channel::copy_out(std::uint64_t pos, std::byte* out, std::size_t size) const {
  if (size == 0) return;  // `out` may be null then, and memcpy(null, _, 0) is undefined
  std::uint64_t at = pos & (peer_capacity_ - 1);
  std::size_t first = std::min<std::size_t>(size, peer_capacity_ - at);
  std::memcpy(out, peer_ring_ + at, first);
  if (first < size) std::memcpy(out + first, peer_ring_, size - first);
}

void Channel::consume(std::uint64_t new_read_pos, std::size_t payload) noexcept {
  std::uint64_t from, to;
  if (populate_ahead(new_read_pos, peer_capacity_, &peer_populated_, &from, &to))
    os::populate_for_read(page_start(peer_ring_ + from),
                          static_cast<std::size_t>(peer_ring_ + to - page_start(peer_ring_ + from)));
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
    if (!claim(pos, f)) {
      pos += kFragmentHeaderSize + padded(f.length);
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
    copy_out(pos + kFragmentHeaderSize + offset, out + t.bytes, take);
    t.bytes += take;
    offset += static_cast<std::uint32_t>(take);
    t.consumed = t.consumed || take > 0 || offset == f.length;
    if (offset < f.length) break;  // buffer full inside this fragment
    pos += kFragmentHeaderSize + padded(f.length);
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
    if (!claim(pos, f)) {
      pos += kFragmentHeaderSize + padded(f.length);
      offset = 0;
      continue;
    }
    std::size_t take = std::min<std::size_t>(f.length - offset, size - t.bytes);
    copy_out(pos + kFragmentHeaderSize + offset, out + t.bytes, take);
    t.bytes += take;
    offset += static_cast<std::uint32_t>(take);
    t.consumed = t.consumed || take > 0 || offset == f.length;
    if (offset < f.length) break;
    pos += kFragmentHeaderSize + padded(f.length);
    offset = 0;
  }
  if (offset > 0) release_claim(pos);  // stopped inside a fragment: the rest may yet go
  fragment_offset_ = offset;
  // Passing withdrawn fragments is progress too, empty ones included: a read that stayed put
  // in front of one would leave the reader spinning on it.
  if (t.consumed || pos != read_pos_) consume(pos, t.bytes);
  return t;
}

Result<Peeked> Channel::peek(std::byte* out, std::size_t size, bool message_pipe) const {
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
    std::uint64_t step = kFragmentHeaderSize + padded(f.length);
    if (f.flags & kWithdrawn) {
      // Not there for a reader: only a message already under way ends at its kLast.
      if (message_pipe && (f.flags & kLast) && p.head_message > 0) break;
      pos += step;
      walked += step;
      offset = 0;
      continue;
    }
    std::size_t unread = f.length - offset;
    std::size_t take = std::min<std::size_t>(unread, size - p.bytes);
    if (out && take) copy_out(pos + kFragmentHeaderSize + offset, out + p.bytes, take);
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
