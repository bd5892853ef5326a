// Starting, waiting for and killing child processes (posix_spawn + pidfd).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// Descriptors that become the child's 0, 1 and 2; -1 keeps the parent's.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

/// A started child: its pid and a pidfd that becomes readable when it exits.
struct Child {
  int pid = -1;
  UniqueFd pidfd;
};

/// Starts argv[0] (searched in PATH when it has no slash) with this environment, the given
/// stdio, an empty signal mask and default SIGPIPE. The child gets those in `pass_fds` (above 2)
/// at the same numbers even if they are close-on-exec; with `inherit_fds` also every descriptor
/// without FD_CLOEXEC, without it nothing else but 0, 1 and 2. `environment` ("NAME=value"
/// entries) is added to the child's copy of this process's environment, replacing a variable of
/// the same name: the parent's own environment is never changed, so nothing races with getenv.
/// Errors: kInvalidParameter (empty argv, a pass_fds entry below 3, an environment entry without
/// '='), kFileNotFound, kAccessDenied, resource errors.
Result<Child> spawn_child(const std::vector<std::string>& argv, ChildStdio stdio, bool inherit_fds,
                          const std::vector<int>& pass_fds = {},
                          const std::vector<std::string>& environment = {});

/// Waits up to `timeout` (milliseconds::max(): forever) for the child to exit; returns whether
/// it has. Does not reap it.
Result<bool> wait_child_exit(int pidfd, std::chrono::milliseconds timeout);

/// Reaps an exited child and returns its exit status, or 128 + the signal that killed it.
Result<int> reap_child(int pid);

/// Sends SIGKILL. A child that has exited already is not an error.
Result<void> kill_child(int pidfd);

/// A pidfd of any process (not only a child): readable once it has exited. Errors: the
/// kernel's (ESRCH when the process is gone already).
Result<UniqueFd> watch_process_exit(std::uint32_t pid);

}  // namespace sluice::os
