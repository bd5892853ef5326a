#include "sluice/accounts.hpp"

#include "os/linux/accounts.hpp"
#include "os/linux/directory.hpp"

namespace sluice {
namespace {

// The C library takes a NUL-terminated name: one with a NUL inside would be looked up cut short.
bool usable_name(std::string_view name) {
  return !name.empty() && name.find('\0') == std::string_view::npos;
}

}  // namespace

Result<std::string> user_name_of(std::uint32_t uid) { return os::user_name_of(uid); }

Result<std::string> group_name_of(std::uint32_t gid) { return os::group_name_of(gid); }

Result<std::uint32_t> user_id_of(std::string_view name) {
  if (!usable_name(name)) return errc::kNotFound;
  return os::user_id_of(std::string(name));
}

Result<std::uint32_t> group_id_of(std::string_view name) {
  if (!usable_name(name)) return errc::kNotFound;
  return os::group_id_of(std::string(name));
}

std::uint32_t current_user_id() noexcept { return os::current_user_id(); }

std::uint32_t current_group_id() noexcept { return os::current_group_id(); }

}  // namespace sluice
