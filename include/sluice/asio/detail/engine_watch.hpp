// sluice — Asio adapter internals: a registry's engine work done on the io_context's threads.
//
// Without this, a peer's doorbell for a pending read wakes sluice's agent thread, which
// completes the read and posts the handler, which wakes the io_context thread: two wake-ups per
// completion where an Asio socket needs one. With it, the io_context's reactor watches the
// engine's descriptor (Registry::events()) and its thread does the engine's work itself, so the
// completion is posted from the thread that runs it. The agent thread stands by meanwhile and
// serves again when the io_context has not for a millisecond (RegistryEvents), so a context
// that stops running never strands a connection. The watch waits only while operations of the
// context are pending (WatchSwitch), so that io_context::run() still returns when the work is
// done.
#pragma once

#include <asio/posix/stream_descriptor.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "sluice/registry.hpp"

namespace sluice::asio::detail {

/// An async_wait on a duplicate of the engine's descriptor that serves the engine whenever it
/// fires. It waits only while active (WatchSwitch: while operations of the context are pending),
/// because a pending wait is outstanding work that would keep io_context::run() from returning.
/// Thread safety: activate() and deactivate() may be called from any thread.
class EngineWatch : public std::enable_shared_from_this<EngineWatch> {
 public:
  template <class IoExecutor>
  EngineWatch(const IoExecutor& executor, RegistryEvents events)
      : events_(std::move(events)), descriptor_(executor) {}

  /// Takes a duplicate of the descriptor; false (the agent thread keeps the work) when it cannot.
  bool open() {
    int copy = events_.duplicate_descriptor();
    if (copy < 0) return false;
    std::error_code error;
    std::lock_guard lock(mu_);
    descriptor_.assign(copy, error);
    if (error) RegistryEvents::close_descriptor(copy);
    return !error;
  }

  void activate() {
    std::lock_guard lock(mu_);
    active_ = true;
    if (!armed_) arm_locked();
  }

  void deactivate() {
    std::lock_guard lock(mu_);
    active_ = false;
    std::error_code ignored;
    if (armed_) descriptor_.cancel(ignored);  // the handler sees operation_aborted
  }

 private:
  void arm_locked() {
    if (!descriptor_.is_open()) return;
    armed_ = true;
    descriptor_.async_wait(
        ::asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this()](std::error_code error) { self->on_ready(error); });
  }

  // The reactor watches the descriptor edge-triggered: wait again first, then take everything
  // there is, so that work arriving in between fires the new wait.
  void on_ready(std::error_code error) {
    {
      std::lock_guard lock(mu_);
      armed_ = false;
      if (active_) arm_locked();
    }
    if (error) return;
    while (events_.serve() > 0) {
    }
  }

  RegistryEvents events_;
  std::mutex mu_;
  ::asio::posix::stream_descriptor descriptor_;  // guarded by mu_
  bool active_ = false;                          // guarded by mu_
  bool armed_ = false;                           // guarded by mu_: a wait is pending
};

/// The engine watches of one context and how many of its operations are pending: the watches
/// wait while one is (each pending operation holds outstanding work anyway), not otherwise.
class WatchSwitch {
 public:
  void add(const std::shared_ptr<EngineWatch>& watch) {
    std::lock_guard lock(mu_);
    if (closed_) return;
    watches_.push_back(watch);
    if (pending_ > 0) watch->activate();
  }
  void began() {
    std::lock_guard lock(mu_);
    if (pending_++ == 0 && !closed_) for_each([](EngineWatch& w) { w.activate(); });
  }
  void ended() {
    std::lock_guard lock(mu_);
    if (--pending_ == 0) for_each([](EngineWatch& w) { w.deactivate(); });
  }
  /// The context shuts down: the watches stop for good.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    for_each([](EngineWatch& w) { w.deactivate(); });
    watches_.clear();
  }

 private:
  template <class F>
  void for_each(F f) {
    for (auto& weak : watches_)
      if (auto watch = weak.lock()) f(*watch);
  }

  std::mutex mu_;
  std::size_t pending_ = 0;                          // guarded by mu_
  bool closed_ = false;                              // guarded by mu_
  std::vector<std::weak_ptr<EngineWatch>> watches_;  // guarded by mu_
};

/// Counts one operation as pending from construction until release() or destruction.
class PendingMark {
 public:
  /// A null switch counts nothing.
  explicit PendingMark(std::shared_ptr<WatchSwitch> watch_switch)
      : switch_(std::move(watch_switch)) {
    if (switch_) switch_->began();
  }
  ~PendingMark() { release(); }
  PendingMark(const PendingMark&) = delete;
  PendingMark& operator=(const PendingMark&) = delete;
  void release() {
    if (switch_) std::exchange(switch_, nullptr)->ended();
  }

 private:
  std::shared_ptr<WatchSwitch> switch_;
};

}  // namespace sluice::asio::detail
