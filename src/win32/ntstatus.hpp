// NTSTATUS and Win32 errors, each to the other, for what overlapped I/O reports.
#pragma once

#include <windows.h>

namespace sluice::win32 {

/// NT status of a Win32 error (and of the ERROR_MORE_DATA warning) and back. An error without a
/// status of its own travels as a customer-defined status (0xE000xxxx) and comes back unchanged;
/// a status without an error of its own comes back as ERROR_GEN_FAILURE.
DWORD status_of_error(DWORD error) noexcept;
DWORD error_of_status(DWORD status) noexcept;

}  // namespace sluice::win32
