#include "os/linux/held_wakes.hpp"

#include <liburing.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "os/linux/futex.hpp"
#include "os/linux/thread_credentials.hpp"

namespace sluice::os {
namespace {

// Debian 12's liburing (2.3) and kernel headers predate io_uring's futex operations (Linux 6.7).
constexpr std::uint8_t kOpFutexWake = 52;              // IORING_OP_FUTEX_WAKE
constexpr std::uint32_t kFutex2SizeU32 = 0x02;         // FUTEX2_SIZE_U32
constexpr std::uint32_t kFutex2Private = 128;          // FUTEX2_PRIVATE
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
// KeeperPause objects alive (tests only).
std::atomic<int> g_keeper_pauses{0};

class WakeRing {
 public:
  // nullptr where io_uring, or its futex wake, is unavailable.
  static std::unique_ptr<WakeRing> create() {
    if (g_unavailable.load(std::memory_order_relaxed)) return nullptr;
    std::unique_ptr<WakeRing> ring(new WakeRing);
    if (int rc = io_uring_queue_init(kRingEntries, &ring->ring_, 0); rc != 0) {
      // Out of descriptors or memory is this moment's; anything else is the system's answer.
      if (rc != -EMFILE && rc != -ENFILE && rc != -ENOMEM) g_unavailable.store(true);
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

class HeldWakes;

// Wakes what a thread holds for too long: a holder that blocks outside sluice (or computes) in
// the middle of a burst would otherwise keep its readers asleep without bound, even forever
// when what it waits for needs one of them. Every kKeeperTick it wakes the wakes held since its
// previous look (so at most two ticks late); after kKeeperQuietTicks without any it sleeps
// until a thread holds again, so an idle process has no timer.
class Keeper {
 public:
  static constexpr std::chrono::milliseconds kKeeperTick{50};
  static constexpr unsigned kKeeperQuietTicks = 4;

  // The process's keeper, started on first use.
  static Keeper& instance() {
    std::lock_guard lock(g_mu);
    if (!g_keeper) {
      g_keeper = new Keeper;  // never destroyed: its thread runs until the process ends
      // Started on first use, maybe by a thread that impersonates a client: the keeper is the
      // process's (a thread inherits its creator's credentials).
      OwnCredentialsScope as_process;
      std::thread([k = g_keeper] { k->run(); }).detach();
    }
    return *g_keeper;
  }

  void add(HeldWakes* holder) {
    std::lock_guard lock(mu_);
    holders_.push_back(holder);
  }
  void remove(HeldWakes* holder) {
    std::lock_guard lock(mu_);
    std::erase(holders_, holder);
  }
  // A thread began to hold: the keeper looks again if it slept.
  void began_holding() {
    if (!sleeping_.load()) return;
    {
      std::lock_guard lock(mu_);
      roused_ = true;
    }
    cv_.notify_one();
  }

  // Around fork(): a child copies the keeper without its thread, and perhaps mid-look; it
  // makes its own when it needs one (prepare/parent/child of pthread_atfork).
  static void before_fork() {
    g_mu.lock();
    if (g_keeper) g_keeper->mu_.lock();
  }
  static void after_fork_in_parent() {
    if (g_keeper) g_keeper->mu_.unlock();
    g_mu.unlock();
  }
  static void after_fork_in_child() {
    // The copy has no thread; it stays allocated (and reachable), unused.
    if (g_keeper) g_keeper->mu_.unlock();
    g_abandoned = g_keeper;
    g_keeper = nullptr;
    g_mu.unlock();
  }

 private:
  void run();

  static inline std::mutex g_mu;
  static inline Keeper* g_keeper = nullptr;  // guarded by g_mu
  static inline Keeper* g_abandoned = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HeldWakes*> holders_;  // guarded by mu_
  bool roused_ = false;              // guarded by mu_
  std::atomic<bool> sleeping_{false};
};

class HeldWakes {
 public:
  ~HeldWakes() {  // at thread exit
    if (keeper_ && keeper_forks_ == g_forks.load(std::memory_order_relaxed)) keeper_->remove(this);
    release();
  }

  bool hold(bool on) noexcept {
    if (!on) {
      release();
      holding_ = false;
      return false;
    }
    unsigned forks = g_forks.load(std::memory_order_relaxed);
    if (ring_ && !ring_->current()) {
      // A child: the parent's wakes and keeper are not this process's.
      std::lock_guard lock(mu_);
      count_ = 0;
      ring_.reset();
      tried_ = false;
      keeper_ = nullptr;
    }
    if (!ring_ && !tried_) {
      tried_ = true;
      ring_ = WakeRing::create();
    }
    if (ring_ && !keeper_) {
      try {
        keeper_ = &Keeper::instance();
        keeper_->add(this);
        keeper_forks_ = forks;
      } catch (...) {
        keeper_ = nullptr;  // no thread for the keeper: hold nothing rather than unbounded
        ring_.reset();
      }
    }
    holding_ = ring_ != nullptr;
    return holding_;
  }

  bool holds() noexcept {
    if (!holding_) return false;  // it let everything go when it stopped holding
    std::lock_guard lock(mu_);
    return count_ > 0;
  }

  void wake(const std::atomic<std::uint32_t>* word) noexcept {
    if (!holding_) {
      futex_wake_all(word, true);
      return;
    }
    bool began = false;
    bool full = false;
    {
      std::lock_guard lock(mu_);
      for (std::size_t i = 0; i < count_; ++i) {
        if (words_[i] == word) return;
      }
      words_[count_++] = word;
      if (count_ == 1) {
        ++bursts_;
        began = true;
      }
      full = count_ == kMaxHeldWakes;
    }
    if (full) {
      release();
    } else if (began) {
      keeper_->began_holding();
    }
  }

  void release() noexcept {
    if (!holding_) return;  // nothing held (most threads never hold): no lock taken
    std::array<const std::atomic<std::uint32_t>*, kMaxHeldWakes> words;
    std::size_t count;
    {
      std::lock_guard lock(mu_);
      count = count_;
      std::copy_n(words_.begin(), count, words.begin());
      count_ = 0;
    }
    if (count == 0) return;
    if (count == 1 || !ring_ || !ring_->current()) {
      for (std::size_t i = 0; i < count; ++i) futex_wake_all(words[i], true);
    } else {
      ring_->wake(words.data(), count);
    }
  }

  // The keeper's look (under its lock): takes and wakes what has been held since its previous
  // look, directly (the ring is the owner's). Returns whether anything was held.
  bool release_if_held_since_last_look() noexcept {
    std::array<const std::atomic<std::uint32_t>*, kMaxHeldWakes> words;
    std::size_t count = 0;
    bool held;
    {
      std::lock_guard lock(mu_);
      held = count_ > 0;
      if (g_keeper_pauses.load(std::memory_order_relaxed) > 0) return held;
      if (held && bursts_ == burst_seen_by_keeper_) {
        count = count_;
        std::copy_n(words_.begin(), count, words.begin());
        count_ = 0;
      }
      burst_seen_by_keeper_ = bursts_;
    }
    for (std::size_t i = 0; i < count; ++i) futex_wake_all(words[i], true);
    return held;
  }

 private:
  bool holding_ = false;  // the owner's
  bool tried_ = false;    // the owner's
  std::unique_ptr<WakeRing> ring_;
  Keeper* keeper_ = nullptr;
  unsigned keeper_forks_ = 0;
  std::mutex mu_;          // the owner's wake/release against the keeper's look
  std::size_t count_ = 0;  // guarded by mu_
  std::array<const std::atomic<std::uint32_t>*, kMaxHeldWakes> words_{};  // guarded by mu_
  std::uint64_t bursts_ = 0;                // guarded by mu_: times count_ left 0
  std::uint64_t burst_seen_by_keeper_ = 0;  // guarded by mu_
};

void Keeper::run() {
  std::unique_lock lock(mu_);
  unsigned quiet = 0;
  for (;;) {
    if (quiet >= kKeeperQuietTicks) {
      sleeping_.store(true);
      // One more look: a thread that began holding before it saw sleeping_ is found here.
      bool held = false;
      for (HeldWakes* h : holders_) held = h->release_if_held_since_last_look() || held;
      if (!held) cv_.wait(lock, [&] { return roused_; });
      roused_ = false;
      sleeping_.store(false);
      quiet = 0;
    } else {
      cv_.wait_for(lock, kKeeperTick);
    }
    bool held = false;
    for (HeldWakes* h : holders_) held = h->release_if_held_since_last_look() || held;
    quiet = held ? 0 : quiet + 1;
  }
}

thread_local HeldWakes t_held;

void count_forks() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::pthread_atfork(Keeper::before_fork, Keeper::after_fork_in_parent, [] {
      g_forks.fetch_add(1, std::memory_order_relaxed);
      Keeper::after_fork_in_child();
    });
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

KeeperPause::KeeperPause() noexcept { g_keeper_pauses.fetch_add(1); }

KeeperPause::~KeeperPause() { g_keeper_pauses.fetch_sub(1); }

}  // namespace sluice::os
