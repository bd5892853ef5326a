// User and group names from the passwd and group databases (getpwuid_r, getgrnam_r and
// friends, so NSS sources such as LDAP count too).
#pragma once

#include <cstdint>
#include <string>

#include "sluice/result.hpp"

namespace sluice::os {

/// The name of user `uid` / group `gid`; kNotFound when the database has no entry.
Result<std::string> user_name_of(std::uint32_t uid);
Result<std::string> group_name_of(std::uint32_t gid);

/// The uid of user `name` / gid of group `name`; kNotFound when the database has no entry.
Result<std::uint32_t> user_id_of(const std::string& name);
Result<std::uint32_t> group_id_of(const std::string& name);

}  // namespace sluice::os
