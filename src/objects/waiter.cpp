#include "objects/waiter.hpp"

#include "core/engine.hpp"
#include "os/linux/futex.hpp"

namespace sluice::objects {

const std::shared_ptr<Waiter>& Waiter::current() {
  thread_local const std::shared_ptr<Waiter> mine = std::make_shared<Waiter>();
  return mine;
}

bool Waiter::sleep(std::uint32_t ticket, std::optional<Clock::time_point> deadline) noexcept {
  // sleeping_ before the last look at the word, and wake() moves the word before it looks at
  // sleeping_ (all sequentially consistent): either the look sees the wake-up or wake() sees the
  // sleeper and calls the kernel.
  sleeping_.store(true, std::memory_order_seq_cst);
  bool woken = true;
  if (word_.load(std::memory_order_seq_cst) == ticket) {
    os::FutexWaiter w{&word_, ticket, false};
    woken = os::futex_wait_any(&w, 1, deadline);
  }
  sleeping_.store(false, std::memory_order_relaxed);
  if (!woken) return word_.load(std::memory_order_seq_cst) != ticket;
  return true;
}

void Waiter::wake() noexcept {
  word_.fetch_add(1, std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_seq_cst)) os::futex_wake_all(&word_, false);
  if (may_drive_.load(std::memory_order_seq_cst)) {
    // The owner itself needs no kick: it looks again when its drive() returns.
    if (std::this_thread::get_id() == owner_) return;
    std::lock_guard lock(driving_mu_);
    if (driving_) driving_->wake();
  }
}

Waiter::DriveScope::DriveScope(Waiter& waiter, core::Engine& engine) noexcept : waiter_(waiter) {
  std::lock_guard lock(waiter_.driving_mu_);
  waiter_.driving_ = &engine;
  waiter_.may_drive_.store(true, std::memory_order_seq_cst);
}

Waiter::DriveScope::~DriveScope() {
  std::lock_guard lock(waiter_.driving_mu_);
  waiter_.driving_ = nullptr;
  waiter_.may_drive_.store(false, std::memory_order_seq_cst);
}

}  // namespace sluice::objects
