// sluice — events: Windows' event objects (CreateEvent, SetEvent, WaitForSingleObject), unnamed
// for the threads of one process or named for every process of the namespace.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "sluice/result.hpp"

namespace sluice {

class Registry;

namespace objects {
class Event;
}

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
class Event {
 public:
  Event() noexcept;
  Event(Event&&) noexcept;
  Event& operator=(Event&&) noexcept;
  ~Event();

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
  friend Result<std::size_t> wait_any(std::span<Event* const>, std::chrono::milliseconds);
  friend Result<void> wait_all(std::span<Event* const>, std::chrono::milliseconds);
  Event(std::shared_ptr<objects::Event> event, bool existed) noexcept;
  static Result<std::size_t> wait_on(std::span<Event* const> events, bool all,
                                     std::chrono::milliseconds timeout);
  std::shared_ptr<objects::Event> event_;
  bool existed_ = false;
};

/// WaitForMultipleObjects(bWaitAll = FALSE): waits until one of `events` is set, takes it (an
/// auto-reset event's set) and returns its index, the lowest when several are set. Errors:
/// kInvalidParameter (none, more than 64 or a null pointer), kInvalidHandle (an empty Event),
/// kWaitTimeout.
Result<std::size_t> wait_any(std::span<Event* const> events,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

/// WaitForMultipleObjects(bWaitAll = TRUE): waits until all of `events` are set at once and
/// takes them all together (no waiter of this process sees some taken and others not). Errors:
/// as wait_any().
Result<void> wait_all(std::span<Event* const> events,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

}  // namespace sluice
