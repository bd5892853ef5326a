// One thread's place to sleep while it waits for objects (docs/architecture.md, "Waiting for
// objects").
//
// A Waiter is a counter that every wake-up moves. A waiting thread reads the counter (a
// ticket), looks at the objects it waits for, and sleeps only while the counter still holds its
// ticket: a wake-up that comes between the look and the sleep makes the sleep return at once, so
// nothing is lost without a lock held across the look and the sleep. Whoever changes an object
// wakes the waiters listed on that object only (Waitable), never every waiting thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace sluice::core {
class Engine;
}

namespace sluice::objects {

class Waiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// The calling thread's waiter, made on first use. Others (an APC queue, a waiter list) may
  /// keep it beyond the thread's end: a wake-up of a thread that has left does nothing.
  static const std::shared_ptr<Waiter>& current();

  /// A waiter of the calling thread (current() makes one per thread; tests make their own).
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  /// Read before looking at what the thread waits for.
  std::uint32_t ticket() const noexcept { return word_.load(std::memory_order_seq_cst); }
  /// Sleeps while no wake() came since `ticket`, until `deadline` (nullopt: none). False when
  /// the deadline passed; true on a wake-up, which may be for something the caller does not
  /// wait for (it looks again).
  bool sleep(std::uint32_t ticket, std::optional<Clock::time_point> deadline) noexcept;
  /// Makes the owner's sleep return (or its next one not sleep). No lock unless the owner
  /// drives an engine (DriveScope); a system call only when the owner sleeps.
  void wake() noexcept;

  /// While a DriveScope lives, the owner waits inside `engine`'s drive() (serving the engine
  /// instead of sleeping here), and wake() wakes the engine too. The engine outlives the scope.
  class DriveScope {
   public:
    DriveScope(Waiter& waiter, core::Engine& engine) noexcept;
    ~DriveScope();
    DriveScope(const DriveScope&) = delete;
    DriveScope& operator=(const DriveScope&) = delete;

   private:
    Waiter& waiter_;
  };

 private:
  // The thread that sleeps on it (a wake-up from that thread itself never kicks its engine).
  const std::thread::id owner_ = std::this_thread::get_id();
  std::atomic<std::uint32_t> word_{0};
  std::atomic<bool> sleeping_{false};
  std::mutex driving_mu_;               // orders wake() with the end of a DriveScope
  core::Engine* driving_ = nullptr;     // guarded by driving_mu_
  std::atomic<bool> may_drive_{false};  // driving_ may be set: wake() looks under the mutex
};

}  // namespace sluice::objects
