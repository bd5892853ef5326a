#include "os/linux/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <string_view>

#include "os/linux/errno_map.hpp"

namespace sluice::os {
namespace {

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so its wrappers cannot be linked from C++.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// RAII for the two posix_spawn attribute objects, so every early return frees them.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  int failed = 0;
  SpawnSetup() {
    failed = posix_spawn_file_actions_init(&actions);
    if (failed == 0) failed = posix_spawnattr_init(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
};

// This process's environment with `added` ("NAME=value") in place of the variables of the same
// names, null-terminated; the strings stay owned by environ and `added`.
std::vector<char*> child_environment(const std::vector<std::string>& added) {
  std::vector<char*> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view current(*entry);
    std::size_t equals = current.find('=');
    std::string_view name = current.substr(0, equals == current.npos ? 0 : equals + 1);  // "NAME="
    bool replaced = !name.empty() && std::any_of(added.begin(), added.end(), [&](const auto& a) {
      return std::string_view(a).starts_with(name);
    });
    if (!replaced) env.push_back(*entry);
  }
  for (const auto& entry : added) env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);
  return env;
}

}  // namespace

Result<Child> spawn_child(const std::vector<std::string>& argv, ChildStdio stdio, bool inherit_fds,
                          const std::vector<int>& pass_fds,
                          const std::vector<std::string>& environment) {
  if (argv.empty() || argv[0].empty()) return errc::kInvalidParameter;
  for (int fd : pass_fds)
    if (fd < 3) return errc::kInvalidParameter;
  for (const auto& entry : environment)
    if (entry.find('=') == std::string::npos) return errc::kInvalidParameter;
  SpawnSetup setup;
  if (setup.failed != 0) return from_errno(setup.failed);

  // The dup2 actions run in order, so a source that is itself 0, 1 or 2 could be overwritten
  // by an earlier action before it is copied; such sources are first copied above 2.
  std::array<int, 3> sources{stdio.in, stdio.out, stdio.err};
  std::array<UniqueFd, 3> lifted;
  for (int target = 0; target < 3; ++target) {
    int& source = sources[static_cast<std::size_t>(target)];
    if (source >= 0 && source < 3 && source != target) {
      int copy = ::fcntl(source, F_DUPFD_CLOEXEC, 3);
      if (copy < 0) return last_errno();
      lifted[static_cast<std::size_t>(target)].reset(copy);
      source = copy;
    }
  }
  for (int target = 0; target < 3; ++target) {
    int source = sources[static_cast<std::size_t>(target)];
    // dup2 onto itself clears FD_CLOEXEC in glibc >= 2.29, so a close-on-exec descriptor that
    // already is the right number still reaches the child.
    if (source >= 0) {
      int failed = posix_spawn_file_actions_adddup2(&setup.actions, source, target);
      if (failed != 0) return from_errno(failed);
    }
  }
  for (int fd : pass_fds) {  // dup2 onto itself: the child's copy loses FD_CLOEXEC (see above)
    int failed = posix_spawn_file_actions_adddup2(&setup.actions, fd, fd);
    if (failed != 0) return from_errno(failed);
  }
  if (!inherit_fds) {
    // Windows' bInheritHandles = FALSE: nothing but the standard handles crosses, and the
    // descriptors passed by number. Every other number below the highest passed one is closed
    // (glibc ignores closing one that is not open), everything above it at once.
    int first_free = 3;
    if (!pass_fds.empty()) {
      std::vector<int> kept(pass_fds);
      std::sort(kept.begin(), kept.end());
      for (int fd = 3; fd < kept.back(); ++fd) {
        if (std::binary_search(kept.begin(), kept.end(), fd)) continue;
        int failed = posix_spawn_file_actions_addclose(&setup.actions, fd);
        if (failed != 0) return from_errno(failed);
      }
      first_free = kept.back() + 1;
    }
    int failed = posix_spawn_file_actions_addclosefrom_np(&setup.actions, first_free);
    if (failed != 0) return from_errno(failed);
  }

  // A Windows child never inherits signal state; the writes in this library block SIGPIPE for a
  // moment, and a child started from such a thread must still die of SIGPIPE like any program.
  sigset_t none;
  sigemptyset(&none);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &pipe_only);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  std::vector<char*> env = child_environment(environment);
  pid_t pid = -1;
  // glibc's posix_spawnp reports exec failures (ENOENT, EACCES) as its own return value.
  int failed = posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), env.data());
  if (failed != 0) return from_errno(failed);

  // The pid cannot be reused before we reap it, so opening the pidfd afterwards is race-free
  // unless the host program sets SIGCHLD to SIG_IGN (auto-reaping).
  int pidfd = open_pidfd(pid);
  if (pidfd < 0) {
    auto error = last_errno();
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return error;
  }
  return Child{pid, UniqueFd(pidfd)};
}

Result<bool> wait_child_exit(int pidfd, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  bool forever = timeout.count() < 0 || timeout >= std::chrono::hours(24 * 365);
  auto deadline = forever ? Clock::time_point::max() : Clock::now() + timeout;
  for (;;) {
    int wait_ms = -1;
    if (!forever) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      wait_ms =
          left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), INT_MAX));
    }
    pollfd entry{pidfd, POLLIN, 0};
    int n = ::poll(&entry, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_errno();
    if (entry.revents & POLLNVAL) return errc::kInvalidHandle;
    if (n > 0) return true;
    if (wait_ms == 0) return false;
  }
}

Result<int> reap_child(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return last_errno();
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

Result<void> kill_child(int pidfd) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) != 0 && errno != ESRCH) {
    return last_errno();
  }
  return {};
}

Result<UniqueFd> watch_process_exit(std::uint32_t pid) {
  UniqueFd fd(open_pidfd(static_cast<pid_t>(pid)));
  if (!fd) return last_errno();
  return fd;
}

}  // namespace sluice::os
