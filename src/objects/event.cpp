#include "objects/event.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>

#include "os/linux/directory.hpp"
#include "os/linux/random.hpp"

namespace sluice::objects {

Event::Event(std::shared_ptr<NamedEvent> named) noexcept
    : manual_(named->manual()), named_(std::move(named)) {}

bool Event::signalled_locked() noexcept { return named_ ? named_->signalled() : signalled_; }

bool Event::take_locked() noexcept {
  if (manual_) return true;
  if (named_) return named_->try_consume();
  signalled_ = false;
  return true;
}

void Event::set_locked() noexcept {
  if (named_) {
    named_->set();
  } else {
    signalled_ = true;
  }
  wake_waiters_locked();
}

void Event::reset_locked() noexcept {
  if (named_) {
    named_->reset();
  } else {
    signalled_ = false;
  }
}

void Event::set() noexcept {
  std::lock_guard lock(mutex());
  set_locked();
}

void Event::reset() noexcept {
  std::lock_guard lock(mutex());
  reset_locked();
}

std::shared_ptr<NamedEvent> Event::named() const {
  std::lock_guard lock(mutex());
  return named_;
}

Result<std::shared_ptr<NamedEvent>> Event::shared_state(const std::string& directory) {
  static std::atomic<std::uint64_t> next{0};
  std::lock_guard lock(mutex());
  if (named_) return named_;
  // Unguessable, so that no other process opens (or squats on) the name before it travels.
  std::uint64_t nonce = 0;
  os::fill_random(&nonce, sizeof nonce);
  std::string hidden = "Global\\sluice-unnamed-" + std::to_string(os::current_process_id()) + "-" +
                       std::to_string(next++) + "-" + std::to_string(nonce);
  auto opened = open_named_event(directory, hidden, true, manual_, signalled_);
  if (!opened) return opened.error();
  named_ = std::move(opened->event);
  wake_waiters_locked();  // waiters start watching it for other processes' sets
  return named_;
}

EventWatches::EventWatches(std::span<Event* const> events)
    : events_(events), watched_(events.size(), false) {}

bool EventWatches::watch_new(const std::shared_ptr<Waiter>& waiter) {
  bool added = false;
  for (std::size_t i = 0; i < events_.size(); ++i) {
    if (watched_[i] || !events_[i]) continue;
    if (auto named = events_[i]->named()) {
      guards_.push_back(std::make_unique<WatchGuard>(std::move(named), waiter));
      watched_[i] = true;
      added = true;
    }
  }
  return added;
}

std::optional<std::size_t> wait_for_objects_and_events(
    std::span<Waitable* const> waitables, std::span<Event* const> events, bool all,
    std::optional<Waiter::Clock::time_point> deadline) {
  const std::shared_ptr<Waiter>& me = Waiter::current();
  EventWatches watches(events);  // released after the block
  WaitBlock block(*me, waitables);
  for (;;) {
    const auto ticket = me->ticket();
    if (auto done = block.take(all)) return done;
    if (deadline && Waiter::Clock::now() >= *deadline) return std::nullopt;
    if (watches.watch_new(me)) continue;  // look again: a set before the watch is not heard
    if (!me->sleep(ticket, deadline)) return block.take(all);  // one more look at the deadline
  }
}

}  // namespace sluice::objects
