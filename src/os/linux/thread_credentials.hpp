// The calling thread's own credentials: read, switch and restore them without touching the other
// threads of the process (impersonation).
//
// Linux keeps credentials per thread; POSIX wants them per process, so glibc's setresuid,
// setresgid and setgroups signal every thread to change (setxid). The functions here use the
// raw system calls, which change only the caller (DESIGN decision 14).
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

}  // namespace sluice::os
