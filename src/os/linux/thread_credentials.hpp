// The calling thread's own credentials: read, switch and restore them without touching the other
// threads of the process (impersonation).
//
// Linux keeps credentials per thread; POSIX wants them per process, so glibc's setresuid,
// setresgid and setgroups signal every thread to change (setxid). The functions here use the
// raw system calls, which change only the caller (docs/security.md, "Differences from Windows").
#pragma once

#include <cstdint>
#include <vector>

#include "sluice/result.hpp"

namespace sluice::os {

/// A thread's user and group ids (real, effective, saved) and its supplementary groups.
struct ThreadCredentials {
  std::uint32_t ruid = 0, euid = 0, suid = 0;
  std::uint32_t rgid = 0, egid = 0, sgid = 0;
  std::vector<std::uint32_t> groups;
};

/// The calling thread's credentials as the kernel holds them now.
Result<ThreadCredentials> thread_credentials();

/// Makes the calling thread's effective (and so filesystem) uid `uid`, effective gid `gid` and
/// supplementary groups `groups`, keeping the real and saved ids, which stay the way back. On
/// failure nothing has changed. Errors: kAccessDenied (no CAP_SETUID / CAP_SETGID for these ids).
Result<void> switch_thread_credentials(std::uint32_t uid, std::uint32_t gid,
                                       const std::vector<std::uint32_t>& groups);

/// Gives the calling thread back the effective ids and groups of `saved` (taken by
/// thread_credentials() before a switch). Errors: kAccessDenied (the way back is gone: the real
/// and saved uids no longer allow it).
Result<void> restore_thread_credentials(const ThreadCredentials& saved);

// ---- a thread acting as someone else, with the way back kept per thread ----

/// Switches the calling thread to `uid`, `gid` and `groups` (switch_thread_credentials) and
/// remembers its own credentials for end_acting_as() and for the thread's exit, which switches
/// back by itself (a thread must never end, or be reused by a pool, with another identity).
/// A thread already acting as someone switches from its own credentials, not from theirs.
/// Errors: as switch_thread_credentials, the thread then itself again; kInvalidParameter inside
/// an OwnCredentialsScope.
Result<void> act_as(std::uint32_t uid, std::uint32_t gid, const std::vector<std::uint32_t>& groups);

/// Switches the calling thread back to its own credentials. Nothing to do when it does not act
/// as someone. Errors: as restore_thread_credentials.
Result<void> end_acting_as();

/// The two halves of OwnCredentialsScope, for a scope object that cannot hold one.
void enter_own_credentials();
void leave_own_credentials();

/// While it lives, the calling thread runs with its own credentials even if it acts as someone;
/// the switch comes back when it ends. Threads and children inherit the kernel credentials of
/// the thread that creates them, so whatever starts a thread or a process that must run as the
/// process (not as a client the creating thread impersonates) does so inside one. Nests. Aborts
/// if a switch fails: going on with the wrong identity would be a security bug.
class OwnCredentialsScope {
 public:
  OwnCredentialsScope() { enter_own_credentials(); }
  ~OwnCredentialsScope() { leave_own_credentials(); }
  OwnCredentialsScope(const OwnCredentialsScope&) = delete;
  OwnCredentialsScope& operator=(const OwnCredentialsScope&) = delete;
};

}  // namespace sluice::os
