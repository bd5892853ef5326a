// The waitable-object primitive (docs/architecture.md, "Waiting for objects"): events, threads,
// processes, pipe handles and whatever else a thread may wait for derive from Waitable. Each object
// guards its own state with its own mutex and keeps the list of threads waiting for it, so a change
// wakes exactly the threads that wait for that object: there is no process-wide lock and no
// broadcast to every waiting thread.
//
// A wait on several objects (WaitForMultipleObjects) is one WaitBlock: it puts the thread's
// Waiter on every object's list before it first looks, so a change after a look always reaches
// it, then looks, and sleeps on its Waiter until something on one of its objects changes.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "objects/waiter.hpp"

namespace sluice::objects {

class Waitable {
 public:
  Waitable() = default;
  virtual ~Waitable() = default;
  Waitable(const Waitable&) = delete;
  Waitable& operator=(const Waitable&) = delete;

  /// Guards the object's state (as the derived class says) and its waiter list.
  std::mutex& mutex() const noexcept { return mu_; }

  /// With mutex() held: whether a wait for the object would be satisfied now.
  virtual bool signalled_locked() noexcept = 0;
  /// With mutex() held, after signalled_locked() said yes: takes what a satisfied wait takes (an
  /// auto-reset event's state). False when it was gone: state shared with other processes may
  /// change without this mutex.
  virtual bool take_locked() noexcept { return true; }
  /// With mutex() held: gives back what take_locked() took (a wait for all objects that could not
  /// take the last one gives back the others).
  virtual void give_back_locked() noexcept {}

  /// With mutex() held: wakes the threads waiting for the object, after a change that may
  /// satisfy their waits (or that they must see, such as the object going away).
  void wake_waiters_locked() noexcept;
  /// Takes mutex() and wakes the waiters.
  void wake_waiters() noexcept;

 private:
  friend class WaitBlock;
  mutable std::mutex mu_;
  // One entry per wait in progress (a thread that lists the object twice in one wait is here
  // twice). Guarded by mu_.
  std::vector<Waiter*> waiters_;
};

/// One wait of one thread on up to 64 objects (MAXIMUM_WAIT_OBJECTS), from its first look to its
/// return. The objects and the waiter outlive the block.
class WaitBlock {
 public:
  WaitBlock(Waiter& waiter, std::span<Waitable* const> objects);
  ~WaitBlock();
  WaitBlock(const WaitBlock&) = delete;
  WaitBlock& operator=(const WaitBlock&) = delete;

  /// Wait-any: the index of the first signalled object, taken; nullopt when none is.
  std::optional<std::size_t> take_any();
  /// Wait-all: true when every object was signalled and all were taken at once (under all their
  /// locks: no other thread of this process sees some taken and others not).
  bool take_all();

  /// take_all() when `all` (0 when it took them), else take_any().
  std::optional<std::size_t> take(bool all);

  /// Lists the waiter on every object without looking at them, for a thread that waits for a
  /// condition of its own which changes only together with the objects (a completion sets its
  /// event after it stores the operation's status).
  void listen();

  Waiter& waiter() noexcept { return waiter_; }

 private:
  void enlist(Waitable& object);  // with its mutex held

  Waiter& waiter_;
  std::span<Waitable* const> objects_;
  std::size_t enlisted_ = 0;  // objects_[0, enlisted_) list the waiter
};

/// A whole wait in one call, for waiters that need nothing between their looks and their
/// sleeps: the index of the object taken (0 for `all`), or nullopt at the deadline.
std::optional<std::size_t> wait_for_objects(std::span<Waitable* const> objects, bool all,
                                            std::optional<Waiter::Clock::time_point> deadline);

}  // namespace sluice::objects
