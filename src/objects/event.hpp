// Events (docs/architecture.md, "Waiting for objects"): the waitable object behind the C++ API's
// sluice::Event and the Win32 layer's event handles. An event is manual-reset (a set releases
// every waiter until a reset) or auto-reset (a set releases one waiter, whose wait takes it), and
// unnamed (its state lives in this process) or named (its state lives in memory shared with
// every process that opened the name, named_event.hpp).
//
// An unnamed event that leaves the process (a Win32 handle inherited or duplicated into another
// process) becomes named first, under a hidden name (shared_state()): Windows needs no name to
// share an event, a file here does.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "objects/named_event.hpp"
#include "objects/waitable.hpp"
#include "objects/waiter.hpp"
#include "sluice/result.hpp"

namespace sluice::objects {

/// One event object of this process. A named one keeps its state in memory shared with other
/// processes (which change it at any time); the *_locked members still run under mutex(), which
/// orders them with this process's waiters. Thread safety: the *_locked members with mutex()
/// held, the others from any thread.
class Event : public Waitable {
 public:
  /// An unnamed event.
  Event(bool manual_reset, bool initial) noexcept : manual_(manual_reset), signalled_(initial) {}
  /// An open of a named event (open_named_event(), NamedEvent::adopt()).
  explicit Event(std::shared_ptr<NamedEvent> named) noexcept;

  bool manual() const noexcept { return manual_; }

  bool signalled_locked() noexcept override;
  /// Takes an auto-reset event's state (for a named event, exactly one waiter in any process
  /// gets each set); false when another process took it first.
  bool take_locked() noexcept override;
  void give_back_locked() noexcept override { set_locked(); }
  /// Sets the event and wakes its waiters here; a named event also wakes other processes'.
  void set_locked() noexcept;
  void reset_locked() noexcept;
  /// set_locked() and reset_locked() under mutex().
  void set() noexcept;
  void reset() noexcept;

  /// The shared state of a named event, else null. An unnamed event that leaves its process
  /// becomes one (shared_state()), so this takes mutex().
  std::shared_ptr<NamedEvent> named() const;
  /// The event's state shared between processes, for an event that leaves this one: an unnamed
  /// event moves its state into a named event of a hidden name in the namespace `directory`
  /// first. Takes mutex(). Errors: open_named_event()'s.
  Result<std::shared_ptr<NamedEvent>> shared_state(const std::string& directory);

 private:
  const bool manual_;
  bool signalled_ = false;             // guarded by mutex(); unused when named_
  std::shared_ptr<NamedEvent> named_;  // guarded by mutex()
};

/// The named events among one wait's objects, watched for sets by other processes from just
/// before the waiting thread's first sleep (a wait satisfied at once costs nothing more), until
/// the wait ends. `events` runs parallel to the wait's objects: null where an object is not an
/// event. It outlives the watches.
class EventWatches {
 public:
  explicit EventWatches(std::span<Event* const> events);
  EventWatches(const EventWatches&) = delete;
  EventWatches& operator=(const EventWatches&) = delete;

  /// Starts watching, for `waiter`, the named events not watched yet (an unnamed event becomes
  /// named when it leaves the process, so each call looks again). True when it started one: the
  /// caller looks at the objects again before it sleeps, since a set between its last look and
  /// the watch would not wake it.
  bool watch_new(const std::shared_ptr<Waiter>& waiter);

 private:
  std::span<Event* const> events_;
  std::vector<bool> watched_;
  std::vector<std::unique_ptr<WatchGuard>> guards_;
};

/// A whole wait of the calling thread on objects, events among them (named or not): the index of
/// the object taken (0 for `all`), or nullopt at the deadline. Wait-any takes the first signalled
/// object; wait-all takes them all at once (WaitBlock). `events` runs parallel to `objects`: the
/// event where an object is one (a named event's state is watched for other processes' sets),
/// else null.
std::optional<std::size_t> wait_for_objects_and_events(
    std::span<Waitable* const> objects, std::span<Event* const> events, bool all,
    std::optional<Waiter::Clock::time_point> deadline);

}  // namespace sluice::objects
