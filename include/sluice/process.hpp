// sluice — child processes with redirected standard handles.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/result.hpp"

namespace sluice {

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
  /// else leaks: every descriptor sluice makes is close-on-exec unless made inheritable.
  bool inherit_handles = true;
  /// Descriptors the child gets at the same numbers although they are close-on-exec here (for
  /// example PortableEnd::descriptors()), without making them inheritable for other spawns;
  /// with or without inherit_handles.
  std::vector<int> pass_descriptors = {};
};

/// A child process. Move-only; destroying it does not kill or wait for the child (it is reaped
/// when waited for).
///
/// Thread safety: one thread at a time.
class Process {
 public:
  Process() noexcept = default;
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  ~Process();

  /// Starts the child, with the process's credentials even when the calling thread
  /// impersonates a client (Impersonation). Errors: kFileNotFound (no such program),
  /// kAccessDenied, resource errors.
  static Result<Process> spawn(const SpawnOptions& options);

  std::uint32_t pid() const noexcept { return static_cast<std::uint32_t>(pid_); }

  /// Waits for the child to exit and returns its exit code (128 + signal number when killed).
  /// Errors: kWaitTimeout when `timeout` passes first.
  Result<int> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  /// Sends SIGKILL.
  Result<void> kill();

 private:
  int pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  int exit_code_ = 0;
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
