// sluice — child processes with redirected standard handles.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/event.hpp"
#include "sluice/result.hpp"

namespace sluice {

namespace objects {
class ChildProcess;
}

/// What to start and which descriptors become the child's fd 0, 1 and 2.
struct SpawnOptions {
  /// Program and arguments; argv[0] is looked up in PATH when it has no slash.
  std::vector<std::string> argv;
  /// Descriptors (e.g. AnonReadEnd::native_handle()) to become the child's stdin, stdout and
  /// stderr; -1 keeps the parent's.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  /// Whether the child also gets the descriptors marked inheritable (bInheritHandles). Nothing
  /// else leaks: every descriptor sluice makes is close-on-exec unless made inheritable. One
  /// more descriptor always goes to the child: the write end of a pipe named by the environment
  /// variable SLUICE_EXIT_CODE, through which a sluice child reports its 32-bit exit code (a
  /// sluice child closes it on exec; another program may ignore it).
  bool inherit_handles = true;
  /// Descriptors the child gets at the same numbers although they are close-on-exec here (for
  /// example PortableEnd::descriptors()), without making them inheritable for other spawns;
  /// with or without inherit_handles.
  std::vector<int> pass_descriptors = {};
};

/// A child process: the same object as a Win32 process handle from CreateProcess. Move-only;
/// destroying it does not kill the child, nor wait for it (Windows' CloseHandle on a process
/// handle): sluice still reaps the child when it exits, so it leaves no zombie.
///
/// A Process is a Waitable: wait_any() and wait_all() (sluice/event.hpp) wait for its child's
/// exit together with events and other processes. One thread of this process notices every
/// child's exit, however many children there are (docs/architecture.md, "Threads").
///
/// Exit codes: wait() returns the child's 32-bit exit code as an int (static_cast to
/// std::uint32_t gives Windows' DWORD, e.g. 0xC0000005). A sluice program (one linked with
/// sluice, which then reports its code to its parent) that ends through exit(), a return from
/// main or ExitProcess reports all 32 bits of its value; any other program, or one that ends
/// with _exit, reports what Linux reports: the low 8 bits, or 128 + the signal number when a
/// signal (kill()) ended it (README, "Exit codes").
///
/// Thread safety: wait(), kill() and pid() may be called from any threads at once, and the
/// object may be in waits of other threads meanwhile; moving, assigning or destroying it may not
/// overlap any other use.
class Process final : public Waitable {
 public:
  Process() noexcept;
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  ~Process() override;

  /// Starts the child, with the process's credentials even when the calling thread
  /// impersonates a client (Impersonation). Errors: kFileNotFound (no such program),
  /// kAccessDenied, kInvalidParameter (no argv), resource errors. Win32: CreateProcess.
  static Result<Process> spawn(const SpawnOptions& options);

  /// The child's process id; 0 for an empty Process. Win32: GetProcessId.
  std::uint32_t pid() const noexcept;

  /// Waits for the child to exit and returns its exit code (the rule above). Errors:
  /// kWaitTimeout when `timeout` passes first (0: just look), kInvalidHandle (an empty
  /// Process). Win32: WaitForSingleObject and GetExitCodeProcess.
  Result<int> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  /// Sends SIGKILL through the child's pidfd (never to a reused pid); the child reports
  /// 128 + 9. Killing a child that has exited is not an error. Errors: kInvalidHandle (an empty
  /// Process). Win32: TerminateProcess, which reports the code it is given instead.
  Result<void> kill();

 private:
  std::shared_ptr<objects::Waitable> wait_object() const noexcept override;
  std::shared_ptr<objects::ChildProcess> child_;
};

/// This process's id (getpid). Win32: GetCurrentProcessId.
std::uint32_t current_process_id() noexcept;

/// The calling thread's kernel id (gettid): unlike std::thread::id, the number other processes
/// and the kernel know the thread by; right in a fork's child too. Win32: GetCurrentThreadId.
std::uint32_t current_thread_id() noexcept;

/// The path of the program this process runs, as the kernel knows it (/proc/self/exe):
/// absolute, links resolved, " (deleted)" appended when the file was removed since. Errors:
/// kFileNotFound (no /proc), kAccessDenied. Win32: GetModuleFileName(nullptr).
Result<std::string> executable_path();

}  // namespace sluice
