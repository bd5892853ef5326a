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

/// The category of sluice error codes.
/// - message() gives the Windows system text and the Win32 name: "All pipe instances are busy.
///   (ERROR_PIPE_BUSY)".
/// - Codes compare equal to the portable conditions that mean the same outcome, so code that
///   does not know Windows' numbers can test `error == std::errc::timed_out`:
///   - timed_out: kWaitTimeout, kSemTimeout
///   - broken_pipe: kBrokenPipe, kNoData (a write whose reader has gone; a no-wait read that
///     finds nothing reports kNoData too: compare with errc::kNoData there)
///   - operation_canceled: kOperationAborted
///   - permission_denied: kAccessDenied
///   - no_such_file_or_directory: kFileNotFound, kPathNotFound, kBadNetpath
///   - device_or_resource_busy: kPipeBusy, kBusy
///   - not_connected: kPipeNotConnected, kPipeListening; already_connected: kPipeConnected
///   - invalid_argument: kInvalidParameter, kInvalidName, kBadPathname
///   - bad_file_descriptor: kInvalidHandle; file_exists: kAlreadyExists;
///     filename_too_long: kFilenameExcedRange
///   - not_supported: kNotSupported; function_not_supported: kInvalidFunction
///   - not_enough_memory: kNotEnoughMemory, kNotEnoughQuota; too_many_files_open:
///     kTooManyOpenFiles; no_buffer_space: kInsufficientBuffer
///   - operation_in_progress: kIoPending; resource_unavailable_try_again: kIoIncomplete;
///     bad_address: kInvalidUserBuffer
///   The others (kMoreData, kBadPipe, kPipeLocal, kHandleEof, kHandlesClosed, kAbandonedWait0,
///   kNotFound, kCannotImpersonate) have no portable equivalent and equal only themselves.
const std::error_category& category() noexcept;

/// Makes an error_code in sluice's category.
std::error_code make_error_code(errc e) noexcept;

/// Windows' system text for `e` (FormatMessage's, without the name), or null for a value that
/// is not one of the enumerators.
const char* system_text(errc e) noexcept;

/// The Win32 name of `e` ("ERROR_PIPE_BUSY", "WAIT_TIMEOUT"), or null as for system_text().
const char* win32_name(errc e) noexcept;

}  // namespace sluice

template <>
struct std::is_error_code_enum<sluice::errc> : std::true_type {};
