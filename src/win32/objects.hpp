// The Win32 layer's process-local state: kernel-object stand-ins (pipe ends, files, events,
// threads, processes), the handle table that maps HANDLE values to them, the default Registry,
// and the last-error / exception plumbing every C entry point uses.
//
// An object lives as long as a handle refers to it: the table holds shared_ptrs, so
// DuplicateHandle shares one object and an end closes with its last handle, as on Windows.
#pragma once

#include <windows.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "objects/child_process.hpp"
#include "objects/event.hpp"
#include "objects/waitable.hpp"
#include "os/linux/unique_fd.hpp"
#include "sluice/anonymous_pipe.hpp"
#include "sluice/named_pipe.hpp"
#include "sluice/process.hpp"
#include "sluice/registry.hpp"

namespace sluice::win32 {

enum class Kind {
  kNamedPipe,
  kAnonRead,
  kAnonWrite,
  kFd,
  kEvent,
  kThread,
  kProcess,
  kPort,
  kToken,
  kFind  // FindFirstFile's handle (find_files.cpp): not a kernel object, only FindClose closes it
};

struct AsyncState;  // async.hpp: an end's overlapped-I/O state
struct ApcQueue;    // async.hpp: a thread's APC queue

class Object {
 public:
  explicit Object(Kind kind) : kind_(kind) {}
  virtual ~Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  Kind kind() const noexcept { return kind_; }

 private:
  const Kind kind_;
};

/// A named-pipe end (server or client). PipeEnd is thread-safe; the flags are atomics.
class NamedPipeObject final : public Object {
 public:
  NamedPipeObject(ServerEnd end, bool overlapped);
  NamedPipeObject(ClientEnd end, bool overlapped);
  ~NamedPipeObject() override;

  bool is_server() const noexcept { return server_.has_value(); }
  PipeEnd& end() noexcept { return server_ ? static_cast<PipeEnd&>(*server_) : *client_; }
  ServerEnd& server() noexcept { return *server_; }
  bool overlapped() const noexcept { return overlapped_; }

  /// Overlapped-I/O state, shared with the completions of pending operations (which must not
  /// keep the end open: closing its last handle is what fails them). Never null.
  const std::shared_ptr<AsyncState> async;

  /// The descriptor rights of a server end's handle: WRITE_DAC, WRITE_OWNER and
  /// ACCESS_SYSTEM_SECURITY as its open mode asked for them (SetSecurityInfo needs them). Set
  /// before the handle is published.
  DWORD security_access = 0;

 private:
  std::optional<ServerEnd> server_;
  std::optional<ClientEnd> client_;
  bool overlapped_;
};

/// Either end of an anonymous pipe: what the calls that treat both alike (GetNamedPipeInfo,
/// the handle state, the creator's ids) need. set_state is serialised by `mu` (AnonEnd keeps
/// the wait mode in a plain member).
class AnonPipeObject : public Object {
 public:
  virtual AnonEnd& any_end() noexcept = 0;
  const std::uint32_t creator_pid;
  std::mutex mu;

 protected:
  AnonPipeObject(Kind kind, std::uint32_t pid) : Object(kind), creator_pid(pid) {}
};

/// One end of an anonymous pipe, as its own type for what only that end does (read, peek;
/// write, flush).
template <class End, Kind kKind>
class AnonEndObject final : public AnonPipeObject {
 public:
  AnonEndObject(End e, std::uint32_t pid) : AnonPipeObject(kKind, pid), end(std::move(e)) {}
  AnonEnd& any_end() noexcept override { return end; }
  End end;
};
using AnonReadObject = AnonEndObject<AnonReadEnd, Kind::kAnonRead>;
using AnonWriteObject = AnonEndObject<AnonWriteEnd, Kind::kAnonWrite>;

/// An ordinary file opened by CreateFile, or a standard handle (fd 0/1/2, not owned).
class FdObject final : public Object {
 public:
  FdObject(int descriptor, bool owns, bool readable, bool writable)
      : Object(Kind::kFd), fd(descriptor), owned(owns), can_read(readable), can_write(writable) {}
  ~FdObject() override;
  const int fd;
  const bool owned;
  const bool can_read;
  const bool can_write;
};

/// Events, threads, processes and pipe handles are waitable objects (objects/waitable.hpp):
/// each guards its signalled state with its own mutex and wakes only its own waiters.
///
/// An event handle's object: the objects layer's event (objects/event.hpp: state, named or not,
/// set, reset, taking and watching) with the rights of the handle that opened it.
class EventObject final : public Object, public objects::Event {
 public:
  EventObject(bool manual_reset, bool initial)
      : Object(Kind::kEvent), objects::Event(manual_reset, initial), access(EVENT_ALL_ACCESS) {}
  /// A handle to a named event, with the rights it was opened with.
  EventObject(std::shared_ptr<objects::NamedEvent> named, DWORD rights)
      : Object(Kind::kEvent), objects::Event(std::move(named)), access(rights) {}

  /// objects::Event::shared_state() in the namespace of the layer's default registry, for a
  /// handle that leaves this process.
  Result<std::shared_ptr<objects::NamedEvent>> shared_state();

  const DWORD access;  ///< EVENT_MODIFY_STATE, SYNCHRONIZE (EVENT_ALL_ACCESS when created)
};

class ThreadObject final : public Object, public objects::Waitable {
 public:
  ThreadObject() : Object(Kind::kThread) {}
  bool signalled_locked() noexcept override { return done; }
  bool done = false;    // guarded by mutex()
  DWORD exit_code = 0;  // guarded by mutex()
  /// The kernel thread id, 0 until the thread runs (a futex word: CreateThread waits on it).
  std::atomic<std::uint32_t> tid{0};
  std::shared_ptr<ApcQueue> apc;  // the thread's APC queue, made before it starts
};

/// An access token (OpenProcessToken, OpenThreadToken): a snapshot of an identity. Immutable.
class TokenObject final : public Object {
 public:
  TokenObject() : Object(Kind::kToken) {}
  Identity identity;
  bool impersonation = false;  ///< TokenImpersonation (else TokenPrimary)
  SECURITY_IMPERSONATION_LEVEL level = SecurityAnonymous;  ///< impersonation tokens only
  DWORD access = 0;  ///< the rights the handle was opened with (generic bits mapped)
};

/// A child process's handle (pi.hProcess) or, with `is_thread_handle`, its primary thread's
/// (pi.hThread): both stand for the objects layer's child process, signalled when it has exited
/// (objects/child_process.hpp), and a wait on either waits on it (waitable()).
class ProcessObject final : public Object {
 public:
  ProcessObject(std::shared_ptr<objects::ChildProcess> child, bool thread_handle) noexcept
      : Object(Kind::kProcess), is_thread_handle(thread_handle), child_(std::move(child)) {}
  const bool is_thread_handle;
  /// The child: its pid, and its pidfd (TerminateProcess signals through it, and DuplicateHandle
  /// into it checks that it still runs).
  objects::ChildProcess& target() noexcept { return *child_; }

 private:
  const std::shared_ptr<objects::ChildProcess> child_;
};

/// What a wait on `object` waits on, or null for an object that cannot be waited on.
objects::Waitable* waitable(Object& object) noexcept;

/// Guards the bookkeeping of overlapped I/O and completion ports (async.hpp). No thread sleeps
/// while it holds it, and waits on objects never take it.
std::mutex& io_mutex() noexcept;

struct Entry {
  std::shared_ptr<Object> object;
  DWORD flags = 0;   // HANDLE_FLAG_*
  DWORD access = 0;  // the handle's rights, generic bits mapped (see object_rights)
};

/// The rights a handle to `object` has when nothing narrower is known: an event's or a file's
/// rights as opened, an anonymous end's as CreatePipe gives them, and every right for the kinds
/// whose object enforces its own rights (a named-pipe end checks its direction itself).
DWORD object_rights(const Object& object) noexcept;
/// `desired` with the generic rights mapped to the specific rights of `kind` (the GENERIC_MAPPING
/// of its object type), and bits that type does not define dropped.
DWORD map_generic_rights(Kind kind, DWORD desired) noexcept;
/// Pipe ends and files: the kinds whose data calls check FILE_READ_DATA / FILE_WRITE_DATA.
inline bool is_file_kind(Kind kind) noexcept {
  return kind == Kind::kNamedPipe || kind == Kind::kAnonRead || kind == Kind::kAnonWrite ||
         kind == Kind::kFd;
}

/// HANDLE values are small multiples of 4 (never 0, never a pseudo handle); a closed value is
/// reused only after every other free value (FIFO), which makes stale-handle bugs show up as
/// ERROR_INVALID_HANDLE rather than as another object.
class HandleTable {
 public:
  /// At most this many handles at once, Windows' own per-process limit (2^24, "Pushing the
  /// Limits of Windows: Handles"); insert() throws std::bad_alloc past it.
  static constexpr std::size_t kMaxHandles = std::size_t{1} << 24;

  HandleTable() = default;
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;
  ~HandleTable();

  /// A new handle with `access` (generic bits already mapped); without it, object_rights().
  HANDLE insert(std::shared_ptr<Object> object, DWORD flags);
  HANDLE insert(std::shared_ptr<Object> object, DWORD flags, DWORD access);
  /// Puts `object` at a given value (handles inherited from the parent keep their values).
  bool insert_at(HANDLE value, std::shared_ptr<Object> object, DWORD flags);
  bool insert_at(HANDLE value, std::shared_ptr<Object> object, DWORD flags, DWORD access);
  /// Takes no lock: every ReadFile and WriteFile starts here, and the worker threads of a
  /// completion-port server look up the same handles at once.
  std::shared_ptr<Object> get(HANDLE h) const;
  /// As get(), with the handle's rights read in the same step (a handle closed and reused
  /// meanwhile never pairs one handle's object with another's rights). `*access` is set only
  /// when the handle is found.
  std::shared_ptr<Object> get(HANDLE h, DWORD* access) const;
  std::optional<Entry> entry(HANDLE h) const;
  bool set_flags(HANDLE h, DWORD mask, DWORD flags);
  /// Removes the handle; kInvalidHandle when unknown or protected from close. The object is
  /// released outside the lock (closing a pipe end may take time).
  std::error_code close(HANDLE h);
  /// Every live handle with HANDLE_FLAG_INHERIT.
  std::vector<std::pair<HANDLE, Entry>> inheritable();

 private:
  // One handle. `busy` guards `object` for the few instructions of a copy or a swap: a lookup
  // never waits for another slot, nor for a writer of the table. (std::atomic<shared_ptr> does
  // the same in libstdc++ 12, but its load releases its lock relaxed, which ThreadSanitizer
  // rightly reports as a race.)
  // `access` shares `busy` with the object rather than being an atomic of its own: it never
  // changes while the handle lives, and reading both under one flag is what pairs them.
  struct Slot {
    mutable std::atomic<bool> busy{false};
    std::shared_ptr<Object> object;  // guarded by busy
    DWORD access = 0;                // guarded by busy
    std::atomic<DWORD> flags{0};
    std::shared_ptr<Object> load() const noexcept;
    std::shared_ptr<Object> load(DWORD* rights) const noexcept;
    std::shared_ptr<Object> exchange(std::shared_ptr<Object> next, DWORD rights) noexcept;
  };
  // Slots live in chunks that never move or go away while the table lives, so a lookup needs
  // no lock against a writer that grows the table: only the slot's own atomic.
  static constexpr std::size_t kChunkSlots = 4096;
  static constexpr std::size_t kChunks = kMaxHandles / kChunkSlots;
  static std::size_t index_of(HANDLE h) noexcept;
  const Slot* find(std::size_t index) const noexcept;
  Slot& slot_locked(std::size_t index);  // grows the table through `index`

  std::mutex mu_;  // serialises writers (insert, close, flags); readers take none
  std::array<std::atomic<Slot*>, kChunks> chunks_{};
  std::size_t size_ = 0;           // slots handed out so far; guarded by mu_
  std::vector<std::size_t> free_;  // guarded by mu_; used as a FIFO via free_head_
  std::size_t free_head_ = 0;
};

/// The process-wide state, created at library initialisation and never destroyed (other threads
/// may still use handles while the process exits).
struct Globals {
  Globals();
  std::optional<Registry> registry;
  std::error_code registry_error;
  HandleTable handles;
  std::mutex std_mu;
  HANDLE std_handles[3] = {nullptr, nullptr, nullptr};
  std::mutex spawn_mu;
};
Globals& globals();

/// The default registry, or its opening error.
Registry* registry(std::error_code* error);

// ---- last error --------------------------------------------------------------------------------
void set_last_error(DWORD code) noexcept;
/// The Win32 error number of an error code (sluice codes are already Win32 numbers; errno codes
/// go through the engine's errno table).
DWORD win32_code(std::error_code ec) noexcept;
inline BOOL fail(DWORD code) noexcept {
  set_last_error(code);
  return FALSE;
}
inline BOOL fail(std::error_code ec) noexcept { return fail(win32_code(ec)); }
inline BOOL fail(errc e) noexcept { return fail(static_cast<DWORD>(e)); }

/// Runs `body` and turns any exception into a last error; what every C entry point does.
template <class R, class F>
R guarded(R on_exception, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    set_last_error(ERROR_NOT_ENOUGH_MEMORY);
  } catch (const std::system_error& e) {
    set_last_error(win32_code(e.code()));
  } catch (...) {
    set_last_error(ERROR_GEN_FAILURE);
  }
  return on_exception;
}

// ---- helpers shared between the source files ---------------------------------------------------
/// UTF-32 (Linux wchar_t) to UTF-8 and back; invalid code points become U+FFFD.
std::string to_utf8(const wchar_t* s);
std::string to_utf8(const wchar_t* s, std::size_t n);
std::wstring from_utf8(const std::string& s);

/// Signals an event handle (used by the synchronous completion of OVERLAPPED calls).
void signal_event(HANDLE h) noexcept;
void reset_event(HANDLE h) noexcept;

/// Restores inherited handles from the environment (called once at initialisation); named
/// pipes join `registry`'s engine.
void adopt_inherited_handles(HandleTable& table, Registry* registry);

}  // namespace sluice::win32
