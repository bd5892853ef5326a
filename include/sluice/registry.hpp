// sluice — Registry: one pipe namespace and the agent thread that serves it in this process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/result.hpp"

namespace sluice {

namespace core {
class Engine;
}

/// A registry's engine work, for an event loop of the caller's (the Asio adapter runs it on its
/// io_context). descriptor() becomes readable when the agent thread has work waiting (a client
/// connecting, a peer's doorbell for a pending asynchronous operation, a hang-up); serve() then
/// does that work on the calling thread and so delivers the completions there. It never waits
/// for new work, only, when the agent thread is serving at that moment, for it to finish its
/// batch.
/// A wake-up then reaches the loop's thread only, where it would otherwise wake the agent thread
/// and then the loop's. While serve() is called at least every millisecond the agent thread
/// stands by; after that it serves again, so nothing waits on a loop that stopped.
///
/// Put in an epoll set with EPOLLET (as Asio's reactor does), the descriptor reports only new
/// work: arm the wait first, then call serve() until it returns 0. Keeps the engine alive; the
/// descriptor stays the engine's. Thread safety: all members may be called from any thread.
class RegistryEvents {
 public:
  int descriptor() const noexcept;
  /// A descriptor of the caller's own for what descriptor() refers to (close-on-exec), for an
  /// event loop that owns what it watches (Asio's stream_descriptor closes it); -1 when the
  /// process has no descriptor left. Close it with close_descriptor() unless the loop does.
  int duplicate_descriptor() const noexcept;
  /// Closes a descriptor that duplicate_descriptor() returned.
  static void close_descriptor(int descriptor) noexcept;
  /// Does the work waiting now; returns how many events it handled (0: none, or another thread
  /// is serving the engine at this moment).
  std::size_t serve();

  /// For an event loop that runs on one thread, around a batch of handlers: from now on the
  /// calling thread holds the wakes of the readers its writes reach (a reply to each of many
  /// clients), until release_wakes() wakes them all in one system call. Each woken reader
  /// otherwise tends to preempt the writer as its wake returns. Returns false, holding nothing,
  /// where the system cannot wake in a batch. The thread releases by itself when it sleeps in a
  /// sluice operation, after 16 held wakes and when it ends; it must call release_wakes() before
  /// it waits for anything else, or its readers wait as long.
  static bool hold_wakes() noexcept;
  /// Wakes the readers whose wakes the calling thread holds, and stops holding.
  static void release_wakes() noexcept;

 private:
  friend class Registry;
  explicit RegistryEvents(std::shared_ptr<core::Engine> engine);
  std::shared_ptr<core::Engine> engine_;
};

/// A pipe as a listing of the namespace shows it: what Windows' named-pipe file system reports
/// for each pipe when a program lists `\\.\pipe\` (Sysinternals PipeList, FindFirstFile).
struct ListedPipe {
  std::string name;                 ///< as its creator spelled it, e.g. `\\.\pipe\Foo`
  std::uint32_t instances = 0;      ///< server ends (instances) that exist now, in any process
  std::uint32_t max_instances = 0;  ///< the limit the first instance set, 1 to 254, or 255 for
                                    ///< PIPE_UNLIMITED_INSTANCES (Windows lists that one as -1)
};

/// Which namespace a registry serves.
enum class NamespaceScope {
  kMachine,  ///< /run/sluice: root's, shared by every user of the machine
  kPrivate,  ///< a directory of one user's (or a test's, or a container's)
};

/// A pipe namespace (a directory that holds every pipe name) plus this process's agent thread,
/// which accepts clients for this process's server ends and watches every connection for a dead
/// peer. Create one per process (or one per test, for a private namespace) and pass it to the
/// pipe constructors; every pipe end keeps what it needs alive, so a Registry may be destroyed
/// before the ends made from it.
///
/// No user can capture, block or fake another user's names in a shared namespace: each user's
/// instances live in an entry only that user can change, and clients check that the instance
/// they reached is the name owner's (docs/security.md).
///
/// Thread safety: all members may be called from any thread.
class Registry {
 public:
  /// Opens the namespace in `directory`. Empty means $SLUICE_PIPE_DIR, else the machine
  /// namespace /run/sluice: root creates it (mode 1777) when missing, as the package's
  /// tmpfiles.d entry does at boot; other users only use it. When it does not exist and the
  /// caller is not root, the caller gets a private namespace of its own ($XDG_RUNTIME_DIR/sluice,
  /// else /tmp/sluice-<uid>, mode 0700) that other users cannot reach: scope() says which.
  /// A given directory is created (mode 1777) when missing. Any directory is refused unless it
  /// is owned by root or the caller, and sticky when others may write it.
  /// Errors: kAccessDenied (unsafe directory, or another user's), kPathNotFound (cannot
  /// create), resource errors.
  static Result<Registry> open(std::string directory = {});

  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  /// The namespace directory in use.
  const std::string& directory() const noexcept;
  /// Whether it is the machine's namespace or a private one.
  NamespaceScope scope() const noexcept { return scope_; }

  /// The names (as their creators spelled them, e.g. `\\.\pipe\Foo`) of the pipes that exist now,
  /// i.e. that have at least one open server end.
  Result<std::vector<std::string>> list() const;

  /// Every pipe that exists now with its instance counts, sorted by name. Like Windows, it shows
  /// every name whatever the pipe's descriptor grants the caller (a descriptor guards opening a
  /// pipe, not seeing its name). An instance counts from its creation to the close of its last
  /// handle; a server that was killed counts no more. Entries another user planted that do not
  /// hold together are left out. The list is a snapshot: pipes come and go meanwhile.
  /// Errors: resource errors (kTooManyOpenFiles, kNotEnoughMemory).
  Result<std::vector<ListedPipe>> list_pipes() const;

  /// This registry's engine work, for an event loop of the caller's (see RegistryEvents).
  RegistryEvents events() const;

 private:
  friend struct EngineAccess;  // the pipe classes and the Win32 layer reach the engine (src/api)
  Registry(std::shared_ptr<core::Engine> engine, NamespaceScope scope);
  std::shared_ptr<core::Engine> engine_;
  NamespaceScope scope_ = NamespaceScope::kPrivate;
};

}  // namespace sluice
