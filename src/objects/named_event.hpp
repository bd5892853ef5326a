// Named events: one event object per name machine-wide (per pipe namespace), shared by every
// process that creates or opens the name.
//
// Decisions (and the kernel facts they rest on):
//
// - Each name is a small file in <namespace>/events/<scope>/, mapped shared by every holder:
//   <scope> is "global" for Global\ names and "session-<audit session id>" for the others
//   (Local\ prefix or none), so Local names are per login session as on Windows, and a process
//   without a session (id 0, like Windows' session 0) shares the global scope. The file is
//   created without a name (O_TMPFILE), initialised, then linked under its name: the link is
//   atomic and fails when the name exists, so two creators agree on one object and nobody maps a
//   half-written one.
// - The signalled state is a word in the file; a set also bumps a sequence word and, when some
//   process's watcher sleeps on it (a count in the file says so), wakes it with FUTEX_WAKE.
//   Consuming an auto-reset event is a compare-and-swap of the state from 1 to 0, so exactly one
//   waiter in any process gets each set.
// - Lifetime: every open (each Event::create/open of the C++ API, each CreateEvent/OpenEvent of
//   the Win32 layer: each objects::Event) holds its own open file description with an OFD read
//   lock on byte 0. When a NamedEvent goes away it probes with a write lock: it gets it only when
//   no other description in any process holds the name, and then it removes the file (a later
//   create makes a fresh event). An opener that opened the file just before the removal waits
//   for its read lock, then sees a link count of 0 and starts over. Locks vanish with the last
//   descriptor, so SIGKILLed holders let go too; the file they leave is found without holders by
//   the next opener (openers take turns on a second lock byte for that look), which removes it and
//   starts over.
// - Waking waiters in this process: a wait sleeps on its thread's Waiter (objects/waiter.hpp).
//   While a thread waits on named events, a watcher thread sleeps in futex_waitv on their
//   sequence words (and a private control word for changes of the set) and wakes the Waiters of
//   the threads that wait for an event whose word moved. Nothing polls while
//   idle; the watcher starts with the first wait on a named event and makes no identity-dependent
//   call, so impersonation cannot affect it.
//   TODO(perf): beyond 127 events watched at once, the rest are polled every 10 ms.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "objects/waiter.hpp"
#include "os/linux/shared_memory.hpp"
#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::objects {

/// The longest event name, in characters (code points), prefix included: Windows' MAX_PATH.
inline constexpr std::size_t kMaxEventNameChars = 260;

/// The shared state of one named event, as mapped in this process. Thread-safe; the words may
/// change at any time (other processes).
class NamedEvent {
 public:
  NamedEvent(os::UniqueFd dir, std::string file, os::UniqueFd fd, os::Mapping map) noexcept;
  ~NamedEvent();
  NamedEvent(const NamedEvent&) = delete;
  NamedEvent& operator=(const NamedEvent&) = delete;

  bool manual() const noexcept;
  bool signalled() const noexcept;
  /// Takes the signalled state of an auto-reset event; false when it was not signalled.
  bool try_consume() noexcept;
  /// Sets the state and wakes the watchers of every process (no system call when none watches).
  void set() noexcept;
  void reset() noexcept;
  /// This process's watcher starts or stops sleeping on sequence().
  void add_watcher() noexcept;
  void remove_watcher() noexcept;
  /// The futex word that moves with every set().
  const std::atomic<std::uint32_t>& sequence() const noexcept;

  /// For another process (inheritance, DuplicateHandle): a new open of the event that holds it
  /// like a handle does, the scope directory and the file name. The receiver makes the event
  /// again with adopt(); until then the new open keeps the event alive.
  struct Travelling {
    os::UniqueFd open;
    int directory = -1;  ///< ours: still owned by this event
    std::string file;
  };
  Result<Travelling> prepare_travel() const;
  /// The event another process handed over (Travelling's descriptors, taken over).
  static Result<std::shared_ptr<NamedEvent>> adopt(os::UniqueFd open, os::UniqueFd directory,
                                                   std::string file);

  /// The shared page (named_event.cpp).
  struct Shared;

 private:
  Shared& shared() const noexcept;

  os::UniqueFd dir_;  // the scope directory, to remove the file
  std::string file_;
  os::UniqueFd fd_;  // this open's description, holding the read lock
  os::Mapping map_;
};

struct OpenedEvent {
  std::shared_ptr<NamedEvent> event;
  bool existed = false;  ///< the name was in use (CreateEvent reports ERROR_ALREADY_EXISTS)
};

/// Opens the event called `name` (UTF-8, with its Global\ or Local\ prefix, if any) in the
/// namespace `directory`; when it does not exist, creates it with `manual` and `initial` if
/// `create`, else fails with kFileNotFound. A backslash after the prefix is kPathNotFound (as on
/// Windows, where it names a missing object directory); more than kMaxEventNameChars characters
/// kFilenameExcedRange; a file of another user kAccessDenied.
Result<OpenedEvent> open_named_event(const std::string& directory, const std::string& name,
                                     bool create, bool manual, bool initial);

/// While a WatchGuard lives, a change of the event's state in any process wakes `waiter`.
/// Construct it before the first look at the state (it records the sequence word then).
class WatchGuard {
 public:
  WatchGuard(std::shared_ptr<NamedEvent> event, std::shared_ptr<Waiter> waiter);
  ~WatchGuard();
  WatchGuard(const WatchGuard&) = delete;
  WatchGuard& operator=(const WatchGuard&) = delete;

 private:
  std::shared_ptr<NamedEvent> event_;
  std::shared_ptr<Waiter> waiter_;
};

}  // namespace sluice::objects
