#include "sluice/process.hpp"

#include <utility>

#include "os/linux/child_process.hpp"
#include "os/linux/directory.hpp"
#include "sluice/impersonation.hpp"

namespace sluice {

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      reaped_(other.reaped_),
      exit_code_(other.exit_code_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    os::close_fd(pidfd_);
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
    reaped_ = other.reaped_;
    exit_code_ = other.exit_code_;
  }
  return *this;
}

// Not waiting here matches Windows (closing a process handle leaves the process running); the
// zombie stays until the host reaps it or exits.
Process::~Process() { os::close_fd(pidfd_); }

Result<Process> Process::spawn(const SpawnOptions& options) {
  // A child inherits its creator thread's kernel credentials; one started while the thread
  // impersonates a client must still run as the process (Windows' CreateProcess uses the
  // process's primary token, not the thread's).
  ProcessIdentityScope as_process;
  auto child =
      os::spawn_child(options.argv, {options.stdin_fd, options.stdout_fd, options.stderr_fd},
                      options.inherit_handles, options.pass_descriptors);
  if (!child) return child.error();
  Process process;
  process.pid_ = child->pid;
  process.pidfd_ = child->pidfd.release();
  return process;
}

Result<int> Process::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  if (pidfd_ < 0) return errc::kInvalidHandle;
  auto exited = os::wait_child_exit(pidfd_, timeout);
  if (!exited) return exited.error();
  if (!*exited) return errc::kWaitTimeout;
  auto code = os::reap_child(pid_);
  if (!code) return code.error();
  reaped_ = true;
  exit_code_ = *code;
  return exit_code_;
}

Result<void> Process::kill() {
  if (reaped_) return {};
  if (pidfd_ < 0) return errc::kInvalidHandle;
  return os::kill_child(pidfd_);
}

std::uint32_t current_process_id() noexcept { return os::current_process_id(); }

std::uint32_t current_thread_id() noexcept { return os::current_thread_id(); }

Result<std::string> executable_path() { return os::executable_path(); }

}  // namespace sluice
