// sluice — events: Windows' event objects (CreateEvent, SetEvent, WaitForSingleObject), unnamed
// for the threads of one process or named for every process of the namespace.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>

#include "sluice/result.hpp"

namespace sluice {

class Registry;

namespace objects {
class Event;
class Waitable;
}  // namespace objects

/// What wait_any() and wait_all() wait for, as WaitForMultipleObjects waits for any object
/// handle: an Event (until it is set) or a Process (until its child has exited). Only sluice's
/// own classes derive from it.
class Waitable {
 protected:
  Waitable() noexcept = default;
  Waitable(const Waitable&) noexcept = default;
  Waitable& operator=(const Waitable&) noexcept = default;
  virtual ~Waitable() = default;

 private:
  friend struct WaitAccess;
  /// The object a wait looks at; null for an empty one.
  virtual std::shared_ptr<objects::Waitable> wait_object() const noexcept = 0;
  /// An event's object (a named one is watched for other processes' sets); null for others.
  virtual objects::Event* wait_event() const noexcept { return nullptr; }
};

/// How a new event behaves.
struct EventOptions {
  /// Manual reset (bManualReset): a set releases every waiter, now and later, until reset().
  /// Otherwise auto reset: a set releases one waiter, whose wait takes the set with it.
  bool manual_reset = false;
  /// Whether it starts set (bInitialState).
  bool initially_set = false;
};

/// An event object. A named one is one object machine-wide (per pipe namespace): every process
/// that creates or opens the name, through this API or through the Win32 layer's CreateEvent /
/// OpenEvent, shares its state, and exactly one waiter in any process gets each set of an
/// auto-reset event. The name lives while some Event or handle holds it (a killed process lets
/// go too), then goes; a later create makes a fresh event.
///
/// Names are UTF-8, as Windows spells them: "Global\\" for the machine's scope, "Local\\" or no
/// prefix for the caller's login session (a process outside any session shares the machine's).
/// They are case-sensitive, at most 260 characters (MAX_PATH) with the prefix, and contain no
/// other backslash. Only the creator's user may open a named event (Windows' default security).
///
/// Move-only. A default-constructed or moved-from Event is empty (valid() false): set() and
/// reset() do nothing and the waits fail with kInvalidHandle.
/// Thread safety: set(), reset() and the waits may be called from any thread at once.
class Event final : public Waitable {
 public:
  Event() noexcept;
  Event(Event&&) noexcept;
  Event& operator=(Event&&) noexcept;
  ~Event() override;

  /// An unnamed event, for the threads of this process (CreateEvent(NULL, ...)).
  static Event unnamed(EventOptions options = {});
  /// CreateEvent(..., name): creates the event `name` in `registry`'s namespace, or opens it when
  /// it exists (then `options` are ignored, as on Windows, and existed() says so). An empty name
  /// makes an unnamed event. Errors: kPathNotFound (a backslash after the prefix),
  /// kFilenameExcedRange (too long), kAccessDenied (another user's event), kInvalidHandle (the
  /// name belongs to something else), resource errors.
  static Result<Event> create(const Registry& registry, std::string_view name,
                              EventOptions options = {});
  /// OpenEvent(EVENT_ALL_ACCESS, FALSE, name): the existing event `name`. Errors: kFileNotFound
  /// (no such event), kInvalidParameter (an empty name), and create()'s.
  static Result<Event> open(const Registry& registry, std::string_view name);

  bool valid() const noexcept { return event_ != nullptr; }
  /// Whether create() found the name in use (CreateEvent's ERROR_ALREADY_EXISTS); true after
  /// open(), false for an unnamed event.
  bool existed() const noexcept { return existed_; }
  bool manual_reset() const noexcept;

  /// SetEvent: sets the event and wakes its waiters, in every process for a named one.
  void set() noexcept;
  /// ResetEvent.
  void reset() noexcept;

  /// WaitForSingleObject: waits until the event is set, and takes an auto-reset event's set.
  /// Errors: kWaitTimeout when `timeout` passes first (0: just look; max(): no limit),
  /// kInvalidHandle (an empty Event).
  Result<void> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

 private:
  Event(std::shared_ptr<objects::Event> event, bool existed) noexcept;
  std::shared_ptr<objects::Waitable> wait_object() const noexcept override;
  objects::Event* wait_event() const noexcept override { return event_.get(); }
  std::shared_ptr<objects::Event> event_;
  bool existed_ = false;
};

/// WaitForMultipleObjects(bWaitAll = FALSE): waits until one of `objects` is signalled (an
/// Event set, a Process's child exited), takes it (an auto-reset event's set) and returns its
/// index, the lowest when several are. Errors: kInvalidParameter (none, more than 64 or a null
/// pointer), kInvalidHandle (an empty Event or Process), kWaitTimeout (0: just look; max(): no
/// limit). Thread safety: any threads at once, also on the same objects.
Result<std::size_t> wait_any(std::span<Waitable* const> objects,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

/// WaitForMultipleObjects(bWaitAll = TRUE): waits until all of `objects` are signalled at once
/// and takes them all together (no waiter of this process sees some taken and others not).
/// Errors: as wait_any().
Result<void> wait_all(std::span<Waitable* const> objects,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

/// wait_any() and wait_all() on a list written in place: wait_any({&event, &process}).
Result<std::size_t> wait_any(std::initializer_list<Waitable*> objects,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds::max());
Result<void> wait_all(std::initializer_list<Waitable*> objects,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

/// wait_any() on events only.
Result<std::size_t> wait_any(std::span<Event* const> events,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

/// wait_all() on events only.
Result<void> wait_all(std::span<Event* const> events,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

}  // namespace sluice
