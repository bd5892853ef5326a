// The one table from errno values to sluice error codes.
#pragma once

#include <system_error>

namespace sluice::os {

/// Maps an errno value to the sluice (Win32) error code a Windows program would see for it.
std::error_code from_errno(int errno_value) noexcept;

/// from_errno(errno) for the calling thread's current errno.
std::error_code last_errno() noexcept;

}  // namespace sluice::os
