#include "objects/waitable.hpp"

#include <algorithm>

namespace sluice::objects {

void Waitable::wake_waiters_locked() noexcept {
  for (Waiter* w : waiters_) w->wake();
}

void Waitable::wake_waiters() noexcept {
  std::lock_guard lock(mu_);
  wake_waiters_locked();
}

WaitBlock::WaitBlock(Waiter& waiter, std::span<Waitable* const> objects)
    : waiter_(waiter), objects_(objects) {}

WaitBlock::~WaitBlock() {
  for (Waitable* o : objects_.first(enlisted_)) {
    std::lock_guard lock(o->mu_);
    auto& list = o->waiters_;
    auto it = std::find(list.begin(), list.end(), &waiter_);
    if (it != list.end()) list.erase(it);
  }
}

void WaitBlock::enlist(Waitable& object) { object.waiters_.push_back(&waiter_); }

std::optional<std::size_t> WaitBlock::take_any() {
  for (std::size_t i = 0; i < objects_.size(); ++i) {
    Waitable& o = *objects_[i];
    std::lock_guard lock(o.mu_);
    // Listed before the look: a change right after it wakes this waiter.
    if (i == enlisted_) {
      enlist(o);
      ++enlisted_;
    }
    if (o.signalled_locked() && o.take_locked()) return i;
  }
  return std::nullopt;
}

void WaitBlock::listen() {
  for (; enlisted_ < objects_.size(); ++enlisted_) {
    std::lock_guard lock(objects_[enlisted_]->mu_);
    enlist(*objects_[enlisted_]);
  }
}

bool WaitBlock::take_all() {
  // Each distinct object once, locked in address order so that two wait-alls never deadlock.
  std::vector<Waitable*> distinct(objects_.begin(), objects_.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (Waitable* o : distinct) o->mu_.lock();
  for (; enlisted_ < objects_.size(); ++enlisted_) enlist(*objects_[enlisted_]);
  bool all = std::all_of(distinct.begin(), distinct.end(),
                         [](Waitable* o) { return o->signalled_locked(); });
  std::size_t taken = 0;
  if (all) {
    for (; taken < distinct.size(); ++taken) {
      if (!distinct[taken]->take_locked()) break;
    }
    if (taken < distinct.size()) {
      all = false;
      for (std::size_t i = 0; i < taken; ++i) distinct[i]->give_back_locked();
    }
  }
  for (Waitable* o : distinct) o->mu_.unlock();
  return all;
}

std::optional<std::size_t> WaitBlock::take(bool all) {
  if (!all) return take_any();
  return take_all() ? std::optional<std::size_t>(0) : std::nullopt;
}

std::optional<std::size_t> wait_for_objects(std::span<Waitable* const> objects, bool all,
                                            std::optional<Waiter::Clock::time_point> deadline) {
  Waiter& me = *Waiter::current();
  WaitBlock block(me, objects);
  for (;;) {
    const auto ticket = me.ticket();
    if (auto taken = block.take(all)) return taken;
    // At the deadline, one more look: the state may have changed right then.
    if (!me.sleep(ticket, deadline)) return block.take(all);
  }
}

}  // namespace sluice::objects
