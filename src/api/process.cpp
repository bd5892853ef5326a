#include "sluice/process.hpp"

#include <utility>

#include "api/wait_access.hpp"
#include "objects/child_process.hpp"
#include "os/linux/directory.hpp"
#include "sluice/impersonation.hpp"

namespace sluice {

Process::Process() noexcept = default;
Process::Process(Process&&) noexcept = default;
Process& Process::operator=(Process&&) noexcept = default;
// Not killing here matches Windows (closing a process handle leaves the process running); the
// child's object stays with the watcher until the child exits and is reaped.
Process::~Process() = default;

Result<Process> Process::spawn(const SpawnOptions& options) {
  // A child inherits its creator thread's kernel credentials; one started while the thread
  // impersonates a client must still run as the process (Windows' CreateProcess uses the
  // process's primary token, not the thread's).
  ProcessIdentityScope as_process;
  objects::ChildOptions child_options;
  child_options.argv = options.argv;
  child_options.stdio = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
  child_options.inherit_fds = options.inherit_handles;
  child_options.pass_fds = options.pass_descriptors;
  auto child = objects::ChildProcess::start(std::move(child_options));
  if (!child) return child.error();
  Process process;
  process.child_ = std::move(*child);
  return process;
}

std::uint32_t Process::pid() const noexcept { return child_ ? child_->pid() : 0; }

std::shared_ptr<objects::Waitable> Process::wait_object() const noexcept { return child_; }

Result<int> Process::wait(std::chrono::milliseconds timeout) {
  Waitable* self = this;
  auto done = WaitAccess::wait(std::span<Waitable* const>(&self, 1), false, timeout);
  if (!done) return done.error();
  // Signalled: the code is there. The DWORD's bits as an int (the class comment).
  return static_cast<int>(child_->exit_code().value_or(0));
}

Result<void> Process::kill() {
  if (!child_) return errc::kInvalidHandle;
  return child_->kill();
}

std::uint32_t current_process_id() noexcept { return os::current_process_id(); }

std::uint32_t current_thread_id() noexcept { return os::current_thread_id(); }

Result<std::string> executable_path() { return os::executable_path(); }

}  // namespace sluice
