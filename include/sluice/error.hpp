// sluice — error codes. Values are the Win32 error numbers, so the Win32 layer's GetLastError is
// a straight copy of error_code::value().
#pragma once

#include <system_error>

namespace sluice {

/// The outcomes sluice reports. Each enumerator has the value of the Win32 ERROR_* code of the
/// same name (ERROR_PIPE_BUSY = 231, ...). Some are expected outcomes rather than failures:
/// kMoreData (a partial message was transferred), kPipeConnected (a client connected before the
/// server's connect call), kIoPending.
enum class errc : int {
  kSuccess = 0,
  kInvalidFunction = 1,
  kFileNotFound = 2,
  kPathNotFound = 3,
  kTooManyOpenFiles = 4,
  kAccessDenied = 5,
  kInvalidHandle = 6,
  kNotEnoughMemory = 8,
  kHandleEof = 38,
  kNotSupported = 50,
  kBadNetpath = 53,
  kInvalidParameter = 87,
  kBrokenPipe = 109,
  kSemTimeout = 121,
  kInsufficientBuffer = 122,
  kInvalidName = 123,
  kBadPathname = 161,
  kBusy = 170,
  kAlreadyExists = 183,
  kFilenameExcedRange = 206,
  kPipeLocal = 229,
  kBadPipe = 230,
  kPipeBusy = 231,
  kNoData = 232,
  kPipeNotConnected = 233,
  kMoreData = 234,
  kWaitTimeout = 258,
  kPipeConnected = 535,
  kPipeListening = 536,
  kHandlesClosed = 676,
  kAbandonedWait0 = 735,
  kOperationAborted = 995,
  kIoIncomplete = 996,
  kIoPending = 997,
  kNotFound = 1168,
  kCannotImpersonate = 1368,
  kInvalidUserBuffer = 1784,
  kNotEnoughQuota = 1816,
};

/// The category of sluice error codes; message() gives the Windows system text.
const std::error_category& category() noexcept;

/// Makes an error_code in sluice's category.
std::error_code make_error_code(errc e) noexcept;

}  // namespace sluice

template <>
struct std::is_error_code_enum<sluice::errc> : std::true_type {};
