// Child processes as waitable objects (docs/architecture.md, "Child processes"): the object
// behind the C++ API's sluice::Process and the Win32 layer's process and thread handles from
// CreateProcess.
//
// A child's object is signalled once the child has exited, has been reaped and its stdio relays
// from the child have passed on what it wrote (or a second has gone by: a grandchild may keep
// the pipe open). One watcher thread per process notices every child's exit (an epoll set over
// their pidfds) and never waits for one child: a relay's drain is looked at again when the relay
// ends or its second is up. A process with thousands of children has one watcher thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "objects/stdio_relay.hpp"
#include "objects/waitable.hpp"
#include "os/linux/child_process.hpp"
#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::objects {

/// What to start (os::spawn_child's arguments) and the relays that serve its stdio.
struct ChildOptions {
  std::vector<std::string> argv;
  os::ChildStdio stdio;
  bool inherit_fds = true;
  std::vector<int> pass_fds;
  /// "NAME=value" entries added to the child's environment.
  std::vector<std::string> environment;
  /// Relays whose child_fd() is among `stdio`; started once the child runs.
  std::vector<std::shared_ptr<StdioRelay>> relays;
};

/// One started child. Thread safety: every member from any thread; the *_locked members with
/// mutex() held.
class ChildProcess final : public Waitable {
 public:
  /// Starts the child with the exit-code channel (exit_code.hpp) and has the watcher watch it.
  /// The calling thread's credentials are the child's (the caller picks them). Errors:
  /// os::spawn_child's, resource errors.
  static Result<std::shared_ptr<ChildProcess>> start(ChildOptions options);
  ~ChildProcess() override = default;

  std::uint32_t pid() const noexcept { return static_cast<std::uint32_t>(pid_); }
  /// The child's pidfd, open while the object lives (it names this child even after the child
  /// was reaped and its pid reused).
  const os::UniqueFd& pidfd() const noexcept { return pidfd_; }

  bool signalled_locked() noexcept override { return done_; }
  /// The exit code once signalled (the rule in exit_code.hpp), else nullopt.
  std::optional<std::uint32_t> exit_code() const;

  /// SIGKILL through the pidfd; the child reports what Linux reports (128 + 9). A child that has
  /// exited already is not an error.
  Result<void> kill();
  /// TerminateProcess: SIGKILL, and the child reports `code`. Errors: kAccessDenied once the
  /// exit is signalled (Windows: the process is gone), the kernel's.
  Result<void> terminate(std::uint32_t code);

 private:
  friend class ChildWatcher;
  ChildProcess() = default;
  // The watcher's part, on its thread only.
  void reap();                    // the child exited: collects its status
  bool drained() const;           // every relay from the child has ended
  void signal();                  // the exit becomes visible, relays into the child stop
  bool stop_relays_into_child();  // true while one still runs (cancels it again)

  int pid_ = -1;
  os::UniqueFd pidfd_;
  os::UniqueFd exit_channel_;  // the read end of the exit-code pipe; the watcher's
  std::vector<std::shared_ptr<StdioRelay>> relays_;       // the watcher's once started
  std::chrono::steady_clock::time_point drain_deadline_;  // the watcher's
  std::uint32_t reaped_code_ = 0;                         // the watcher's
  bool done_ = false;                                     // guarded by mutex()
  std::uint32_t exit_code_ = 0;                           // guarded by mutex()
  std::optional<std::uint32_t> terminated_with_;          // guarded by mutex()
};

}  // namespace sluice::objects
