// sluice — the machine's users and groups: names by id, ids by name, and the ids the calling
// thread runs with. A peer's identity arrives as ids (ServerEnd::client_credentials,
// Impersonation::current()); these give them names, and tell whose rights the thread has.
//
//   auto who = server.client_credentials().value();
//   auto name = sluice::user_name_of(who.uid);  // "alice", or kNotFound for a bare uid
//
// The lookups read the user and group databases the C library reads (/etc/passwd, /etc/group
// and whatever NSS adds, LDAP for example), so they may block on a remote directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/result.hpp"

namespace sluice {

/// The name of user `uid` / group `gid`. A process may run as an id that has no entry (a
/// container's or a test's): then kNotFound. Other errors: resource errors of the database.
///
/// Win32: LookupAccountSid on S-1-22-1-<uid> / S-1-22-2-<gid> (Samba's SIDs for Unix ids), whose
/// domain is "Unix User" / "Unix Group". Thread safety: any thread.
Result<std::string> user_name_of(std::uint32_t uid);
Result<std::string> group_name_of(std::uint32_t gid);

/// The uid of user `name` / gid of group `name`, as the database spells it (case matters on
/// Linux, unlike Windows). kNotFound when it has no such entry, also for an empty name or one
/// holding a NUL. Win32: LookupAccountName. Thread safety: any thread.
Result<std::uint32_t> user_id_of(std::string_view name);
Result<std::uint32_t> group_id_of(std::string_view name);

/// The effective user id / group id the calling thread runs with now: the process's, or the
/// client's while the thread acts as one (Impersonation::acts_as_client()); the kernel keeps
/// them per thread. process_identity() (sluice/impersonation.hpp) gives the process's own.
/// Win32: the user and primary group of the thread's effective token (GetUserName,
/// GetTokenInformation).
std::uint32_t current_user_id() noexcept;
std::uint32_t current_group_id() noexcept;

}  // namespace sluice
