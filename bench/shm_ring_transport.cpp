// sluice-bench — shm-ring: the reference ring, the ceiling the sluice rows are measured against.
//
// The least a shared-memory pipe between these two pinned processes has to do: one
// single-producer single-consumer byte ring per direction, in a MAP_SHARED|MAP_ANONYMOUS mapping
// made before the fork, so nothing but the mapping crosses it. Each direction:
//
//   offset  field            written by  read by
//   0       head             writer      reader   bytes published so far (monotonic)
//   64      tail             reader      writer   bytes consumed so far (monotonic)
//   128     reader_sleeping  both        writer   futex word: 1 while the reader sleeps
//   192     writer_sleeping  both        reader   futex word: 1 while the writer sleeps
//   4096    data[capacity]                        capacity = bit_ceil(max(2 MiB, 2 × message))
//
// The capacity is that of the sluice rows' rings up to 256 KiB messages (2 × a 1 MiB quota). Not
// 1 MiB: on the 1 MiB-L2 cores this was written on, a 1 MiB ring halved 4 KiB throughput (7.9
// against 17.4 GB/s, medians of 4 alternating runs; sluice-msg 11.9 and 16.9 in the same runs),
// presumably because a lap then fits the reader's L2, so the writer's stores find the lines
// still held by the reader and must take each one back.
//
// Each field has a cache line of its own: the writer stores head once per message and the reader
// tail, and neither store may evict the line the other side checks on every message (the
// sleeping words, read after each publish).
//
// Wire format: a message is its length (8 bytes, host order) followed by its bytes, written into
// the ring as a byte stream: it may wrap at the ring's end, and a message larger than the room
// left goes in pieces as room frees up. The writer publishes head at the end of each message and
// after every 64 KiB within one, so the reader copies a large message while the rest is still
// being written, as it would from a stream. The reader's receive() checks the length against the
// buffer and copies the whole message into it, like a message-mode read, so the follower's work
// per message is the sluice rows' work: one copy into its buffer and then the same checksum
// (throughput.cpp).
//
// Waiting: a side that finds no data (reader) or no room (writer) spins for up to 20 µs —
// longer than a 64 B round trip, so ping-pong never sleeps while both processes run — then
// announces it sleeps (its word = 1), looks once more, and FUTEX_WAITs on the word. The other
// side, after each publish (writer) or release of room (reader), looks at that word and only
// makes the FUTEX_WAKE system call when it is 1 (it sets it to 0 first, so a wake that comes
// before the wait makes FUTEX_WAIT return at once). A sequentially consistent fence on each side
// (store my word / progress, fence, load the other) means that either the sleeper sees the
// progress or the other side sees the word: no lost wake-up. The words are in a shared mapping,
// so the futex calls are the shared (not _PRIVATE) ones.
//
// Left out, as a ceiling leaves out what a pipe must do: names, security, quotas, partial
// reads, more than one reader or writer, message mode as a separate thing (the length prefix is
// all), end of stream (a side whose peer died sleeps until the runner's time-out kills it).
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>

#include "measure.hpp"
#include "transport.hpp"

namespace sluice::bench {
namespace {

constexpr std::size_t kMinRingBytes = std::size_t{2} << 20;
constexpr std::size_t kHeaderBytes = 4096;  // keeps the data page-aligned
constexpr std::size_t kPublishBytes = 64 * 1024;
constexpr std::int64_t kSpinNs = 20'000;
constexpr int kSpinsPerClockRead = 64;

/// The shared part of one direction (see the diagram above).
struct RingHeader {
  alignas(64) std::atomic<std::uint64_t> head;
  alignas(64) std::atomic<std::uint64_t> tail;
  alignas(64) std::atomic<std::uint32_t> reader_sleeping;
  alignas(64) std::atomic<std::uint32_t> writer_sleeping;
};
static_assert(sizeof(RingHeader) == 256 && alignof(RingHeader) == 64);
static_assert(sizeof(RingHeader) <= kHeaderBytes);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
// FUTEX_WAIT compares the word as a plain 32-bit integer.
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void pause_cpu() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
  return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr,
                   0);
}

/// Spins until `ready()`, for up to kSpinNs, then sleeps on `sleeping` until it is.
template <class Ready>
void wait_until(const Ready& ready, std::atomic<std::uint32_t>& sleeping) {
  const std::int64_t give_up = monotonic_ns() + kSpinNs;
  do {
    for (int i = 0; i < kSpinsPerClockRead; ++i) {
      if (ready()) return;
      pause_cpu();
    }
  } while (monotonic_ns() < give_up);
  for (;;) {
    sleeping.store(1, std::memory_order_relaxed);
    // Pairs with the fence in wake_if_sleeping(): the peer sees our 1 or we see its progress.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool done = ready();
    // Returns at once (EAGAIN) when the peer cleared the word since; EINTR: just look again.
    if (!done) (void)futex(sleeping, FUTEX_WAIT, 1);
    if (done || ready()) {
      // Usually the waker cleared it already; after a spurious return it is still ours.
      sleeping.store(0, std::memory_order_relaxed);
      return;
    }
  }
}

/// After making progress the peer may be waiting for: wakes it only if it said it sleeps.
void wake_if_sleeping(std::atomic<std::uint32_t>& sleeping) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping.load(std::memory_order_relaxed) != 0 && sleeping.exchange(0) != 0) {
    (void)futex(sleeping, FUTEX_WAKE, 1);
  }
}

/// One direction's mapping: the header page and the data. Made before the fork, so the leader
/// and the follower map the same pages.
class RingMapping {
 public:
  explicit RingMapping(std::size_t capacity)
      : capacity_(capacity), bytes_(kHeaderBytes + capacity) {
    // MAP_POPULATE: the pages exist before the first message; each process still takes one
    // minor fault per page on its first lap, which the calibration rounds absorb.
    void* base = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (base == MAP_FAILED) throw_errno("mmap(shm-ring)");
    base_ = static_cast<std::byte*>(base);
    new (base_) RingHeader{};  // zero pages are already a valid empty ring; this says so
  }
  RingMapping(const RingMapping&) = delete;
  RingMapping& operator=(const RingMapping&) = delete;
  ~RingMapping() { ::munmap(base_, bytes_); }

  RingHeader& header() const noexcept { return *reinterpret_cast<RingHeader*>(base_); }
  std::byte* data() const noexcept { return base_ + kHeaderBytes; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  std::size_t bytes_;
  std::byte* base_ = nullptr;
};

/// The writing side of one ring; one thread.
class RingWriter {
 public:
  explicit RingWriter(std::shared_ptr<RingMapping> ring)
      : ring_(std::move(ring)),
        header_(ring_->header()),
        data_(ring_->data()),
        capacity_(ring_->capacity()) {}

  /// Copies `bytes` in, waiting for room as needed; publishes every kPublishBytes.
  void write(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      std::size_t room = capacity_ - static_cast<std::size_t>(head_ - tail_seen_);
      if (room < bytes.size()) {
        tail_seen_ = header_.tail.load(std::memory_order_acquire);
        room = capacity_ - static_cast<std::size_t>(head_ - tail_seen_);
      }
      if (room == 0) {
        publish();  // the reader may be waiting for what we have
        wait_until(
            [&] {
              tail_seen_ = header_.tail.load(std::memory_order_acquire);
              return head_ - tail_seen_ < capacity_;
            },
            header_.writer_sleeping);
        continue;
      }
      const std::size_t offset = static_cast<std::size_t>(head_) & (capacity_ - 1);
      const std::size_t unpublished = static_cast<std::size_t>(head_ - published_);
      const std::size_t n =
          std::min({room, bytes.size(), capacity_ - offset, kPublishBytes - unpublished});
      std::memcpy(data_ + offset, bytes.data(), n);
      head_ += n;
      bytes = bytes.subspan(n);
      if (head_ - published_ >= kPublishBytes) publish();
    }
  }

  /// Makes everything written so far visible to the reader and wakes it if it sleeps.
  void publish() {
    if (head_ == published_) return;
    header_.head.store(head_, std::memory_order_release);
    published_ = head_;
    wake_if_sleeping(header_.reader_sleeping);
  }

 private:
  std::shared_ptr<RingMapping> ring_;
  RingHeader& header_;
  std::byte* data_;
  std::size_t capacity_;
  std::uint64_t head_ = 0;       // written, maybe not yet published
  std::uint64_t published_ = 0;  // last value stored to header_.head
  std::uint64_t tail_seen_ = 0;  // the reader's tail when we last looked
};

/// The reading side of one ring; one thread.
class RingReader {
 public:
  explicit RingReader(std::shared_ptr<RingMapping> ring)
      : ring_(std::move(ring)),
        header_(ring_->header()),
        data_(ring_->data()),
        capacity_(ring_->capacity()) {}

  /// Copies exactly `out.size()` bytes out, waiting for data as needed; gives room back every
  /// kPublishBytes.
  void read(std::span<std::byte> out) {
    while (!out.empty()) {
      if (head_seen_ == tail_) {
        release();  // the writer may be waiting for room
        head_seen_ = header_.head.load(std::memory_order_acquire);
        if (head_seen_ == tail_) {
          wait_until(
              [&] {
                head_seen_ = header_.head.load(std::memory_order_acquire);
                return head_seen_ != tail_;
              },
              header_.reader_sleeping);
        }
      }
      const std::size_t offset = static_cast<std::size_t>(tail_) & (capacity_ - 1);
      const std::size_t n =
          std::min({static_cast<std::size_t>(head_seen_ - tail_), out.size(), capacity_ - offset});
      std::memcpy(out.data(), data_ + offset, n);
      tail_ += n;
      out = out.subspan(n);
      if (tail_ - released_ >= kPublishBytes) release();
    }
  }

  /// Gives the room of everything read so far back to the writer and wakes it if it sleeps.
  void release() {
    if (tail_ == released_) return;
    header_.tail.store(tail_, std::memory_order_release);
    released_ = tail_;
    wake_if_sleeping(header_.writer_sleeping);
  }

 private:
  std::shared_ptr<RingMapping> ring_;
  RingHeader& header_;
  const std::byte* data_;
  std::size_t capacity_;
  std::uint64_t tail_ = 0;       // read, maybe not yet released
  std::uint64_t released_ = 0;   // last value stored to header_.tail
  std::uint64_t head_seen_ = 0;  // the writer's head when we last looked
};

/// One process's end: writes one ring, reads the other.
class RingChannel final : public Channel {
 public:
  RingChannel(std::shared_ptr<RingMapping> out, std::shared_ptr<RingMapping> in)
      : writer_(std::move(out)), reader_(std::move(in)) {}

  void send(std::span<const std::byte> data) override {
    const std::uint64_t length = data.size();
    writer_.write(std::as_bytes(std::span(&length, 1)));
    writer_.write(data);
    writer_.publish();
  }

  void receive(std::span<std::byte> buffer) override {
    std::uint64_t length = 0;
    reader_.read(std::as_writable_bytes(std::span(&length, 1)));
    if (length != buffer.size()) {
      throw BenchError("shm-ring: message of " + std::to_string(length) + " bytes, expected " +
                       std::to_string(buffer.size()));
    }
    reader_.read(buffer);
    reader_.release();
  }

 private:
  RingWriter writer_;
  RingReader reader_;
};

class ShmRingTransport final : public Transport {
 public:
  std::string_view name() const override { return "shm-ring"; }

  void prepare(const TransportConfig& config) override {
    const std::size_t capacity =
        std::bit_ceil(std::max(kMinRingBytes, 2 * config.max_message_bytes));
    to_follower_ = std::make_shared<RingMapping>(capacity);
    to_leader_ = std::make_shared<RingMapping>(capacity);
  }

  std::unique_ptr<Channel> open_leader(const std::function<void()>& follower_may_connect) override {
    follower_may_connect();
    return std::make_unique<RingChannel>(to_follower_, to_leader_);
  }

  std::unique_ptr<Channel> open_follower() override {
    return std::make_unique<RingChannel>(to_leader_, to_follower_);
  }

 private:
  std::shared_ptr<RingMapping> to_follower_;
  std::shared_ptr<RingMapping> to_leader_;
};

}  // namespace

std::unique_ptr<Transport> make_shm_ring_transport() {
  return std::make_unique<ShmRingTransport>();
}

}  // namespace sluice::bench
