#include "os/linux/held_wakes.hpp"

#include <liburing.h>
#include <pthread.h>

#include <array>
#include <climits>
#include <memory>
#include <mutex>

#include "os/linux/futex.hpp"

namespace sluice::os {
namespace {

// Debian 12's liburing (2.3) and kernel headers predate io_uring's futex operations (Linux 6.7).
constexpr std::uint8_t kOpFutexWake = 52;             // IORING_OP_FUTEX_WAKE
constexpr std::uint32_t kFutex2SizeU32 = 0x02;        // FUTEX2_SIZE_U32
constexpr std::uint32_t kFutex2Private = 128;         // FUTEX2_PRIVATE
constexpr std::uint64_t kMatchAnyWaiter = 0xffffffff;  // FUTEX_BITSET_MATCH_ANY
constexpr unsigned kRingEntries = 2 * kMaxHeldWakes;

void prepare_wake(io_uring_sqe* sqe, const std::atomic<std::uint32_t>* word, std::uint32_t flags) {
  io_uring_prep_rw(kOpFutexWake, sqe, static_cast<int>(flags), word, 0, 0);
  sqe->addr2 = INT_MAX;  // how many to wake: all
  sqe->addr3 = kMatchAnyWaiter;
}

// Forks since start-up. A child shares its parent's rings (the same kernel object, mapped
// shared), so a ring made before the last fork is never used again.
std::atomic<unsigned> g_forks{0};
// Set once a ring or its futex wake was refused: no other thread tries again.
std::atomic<bool> g_unavailable{false};

class WakeRing {
 public:
  // nullptr where io_uring, or its futex wake, is unavailable.
  static std::unique_ptr<WakeRing> create() {
    if (g_unavailable.load(std::memory_order_relaxed)) return nullptr;
    std::unique_ptr<WakeRing> ring(new WakeRing);
    if (io_uring_queue_init(kRingEntries, &ring->ring_, 0) != 0) {
      g_unavailable.store(true);
      return nullptr;
    }
    ring->initialised_ = true;
    if (!ring->wake_works()) {
      g_unavailable.store(true);
      return nullptr;
    }
    return ring;
  }
  ~WakeRing() {
    if (initialised_) io_uring_queue_exit(&ring_);
  }
  WakeRing(const WakeRing&) = delete;
  WakeRing& operator=(const WakeRing&) = delete;

  bool current() const noexcept { return forks_ == g_forks.load(std::memory_order_relaxed); }

  void wake(const std::atomic<std::uint32_t>* const* words, std::size_t count) noexcept {
    // Only failures post completions (an unmapped word, after its end closed): drop them.
    io_uring_cqe* cqe;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0) io_uring_cqe_seen(&ring_, cqe);
    std::size_t queued = 0;
    for (; queued < count; ++queued) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (!sqe) break;
      prepare_wake(sqe, words[queued], kFutex2SizeU32);
      sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    }
    int submitted = io_uring_submit(&ring_);
    // Whatever the ring did not take is woken directly (a wake twice is harmless).
    std::size_t from = submitted < 0 ? 0 : static_cast<std::size_t>(submitted);
    for (std::size_t i = from < queued ? from : queued; i < count; ++i)
      futex_wake_all(words[i], true);
  }

 private:
  WakeRing() : forks_(g_forks.load(std::memory_order_relaxed)) {}

  // Wakes a private word nobody waits on: 0 woken where the operation exists.
  bool wake_works() noexcept {
    std::atomic<std::uint32_t> nobody{0};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return false;
    prepare_wake(sqe, &nobody, kFutex2SizeU32 | kFutex2Private);
    if (io_uring_submit_and_wait(&ring_, 1) != 1) return false;
    io_uring_cqe* cqe;
    if (io_uring_peek_cqe(&ring_, &cqe) != 0) return false;
    bool works = cqe->res == 0;
    io_uring_cqe_seen(&ring_, cqe);
    return works;
  }

  io_uring ring_{};
  bool initialised_ = false;
  unsigned forks_;
};

class HeldWakes {
 public:
  ~HeldWakes() { release(); }  // at thread exit

  bool hold(bool on) noexcept {
    if (!on) {
      holding_ = false;
      release();
      return false;
    }
    if (ring_ && !ring_->current()) {
      count_ = 0;  // the parent's wakes, which this process cannot release through its ring
      ring_.reset();
      tried_ = false;
    }
    if (!ring_ && !tried_) {
      tried_ = true;
      ring_ = WakeRing::create();
    }
    holding_ = ring_ != nullptr;
    return holding_;
  }

  bool holds() const noexcept { return count_ > 0; }

  void wake(const std::atomic<std::uint32_t>* word) noexcept {
    if (!holding_) {
      futex_wake_all(word, true);
      return;
    }
    for (std::size_t i = 0; i < count_; ++i) {
      if (words_[i] == word) return;
    }
    words_[count_++] = word;
    if (count_ == kMaxHeldWakes) release();
  }

  void release() noexcept {
    if (count_ == 0) return;
    if (count_ == 1 || !ring_ || !ring_->current()) {
      for (std::size_t i = 0; i < count_; ++i) futex_wake_all(words_[i], true);
    } else {
      ring_->wake(words_.data(), count_);
    }
    count_ = 0;
  }

 private:
  bool holding_ = false;
  bool tried_ = false;
  std::size_t count_ = 0;
  std::array<const std::atomic<std::uint32_t>*, kMaxHeldWakes> words_{};
  std::unique_ptr<WakeRing> ring_;
};

thread_local HeldWakes t_held;

void count_forks() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1, std::memory_order_relaxed); });
  });
}

}  // namespace

bool hold_wakes(bool hold) noexcept {
  if (hold) count_forks();
  return t_held.hold(hold);
}

void release_held_wakes() noexcept { t_held.release(); }

bool holds_wakes() noexcept { return t_held.holds(); }

void wake_shared(const std::atomic<std::uint32_t>* word) noexcept { t_held.wake(word); }

}  // namespace sluice::os
