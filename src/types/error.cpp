// The sluice error category: Win32 error numbers with their Windows system texts and names, and
// the portable conditions (std::errc) they stand for.
#include "sluice/error.hpp"

#include <string>

namespace sluice {
namespace {

// A code without a portable equivalent compares equal only to itself (and to its own value in
// sluice's category), so it gets no condition.
constexpr auto kNone = static_cast<std::errc>(-1);
constexpr auto kSuccessCondition = static_cast<std::errc>(0);

struct Known {
  errc code;
  const char* win32_name;
  const char* text;     // FormatMessage's text for it (Microsoft's "System Error Codes" pages)
  std::errc condition;  // or kNone, or kSuccessCondition
};

// Conditions are what a Linux program means by the same outcome, so a caller compares with
// std::errc without knowing Windows' codes: ERROR_NO_DATA is what a write to a pipe whose reader
// has gone reports (Linux: EPIPE); note that a no-wait read that finds nothing reports it too,
// and such a caller compares with errc::kNoData itself. ERROR_PIPE_LISTENING is a server end
// without a client yet (not connected); ERROR_PIPE_BUSY and ERROR_BUSY are a resource in use.
constexpr Known kKnown[] = {
    {errc::kSuccess, "ERROR_SUCCESS", "The operation completed successfully.", kSuccessCondition},
    {errc::kInvalidFunction, "ERROR_INVALID_FUNCTION", "Incorrect function.",
     std::errc::function_not_supported},
    {errc::kFileNotFound, "ERROR_FILE_NOT_FOUND", "The system cannot find the file specified.",
     std::errc::no_such_file_or_directory},
    {errc::kPathNotFound, "ERROR_PATH_NOT_FOUND", "The system cannot find the path specified.",
     std::errc::no_such_file_or_directory},
    {errc::kTooManyOpenFiles, "ERROR_TOO_MANY_OPEN_FILES", "The system cannot open the file.",
     std::errc::too_many_files_open},
    {errc::kAccessDenied, "ERROR_ACCESS_DENIED", "Access is denied.", std::errc::permission_denied},
    {errc::kInvalidHandle, "ERROR_INVALID_HANDLE", "The handle is invalid.",
     std::errc::bad_file_descriptor},
    {errc::kNotEnoughMemory, "ERROR_NOT_ENOUGH_MEMORY",
     "Not enough memory resources are available to process this command.",
     std::errc::not_enough_memory},
    {errc::kHandleEof, "ERROR_HANDLE_EOF", "Reached the end of the file.", kNone},
    {errc::kNotSupported, "ERROR_NOT_SUPPORTED", "The request is not supported.",
     std::errc::not_supported},
    {errc::kBadNetpath, "ERROR_BAD_NETPATH", "The network path was not found.",
     std::errc::no_such_file_or_directory},
    {errc::kInvalidParameter, "ERROR_INVALID_PARAMETER", "The parameter is incorrect.",
     std::errc::invalid_argument},
    {errc::kBrokenPipe, "ERROR_BROKEN_PIPE", "The pipe has been ended.", std::errc::broken_pipe},
    {errc::kSemTimeout, "ERROR_SEM_TIMEOUT", "The semaphore timeout period has expired.",
     std::errc::timed_out},
    {errc::kInsufficientBuffer, "ERROR_INSUFFICIENT_BUFFER",
     "The data area passed to a system call is too small.", std::errc::no_buffer_space},
    {errc::kInvalidName, "ERROR_INVALID_NAME",
     "The filename, directory name, or volume label syntax is incorrect.",
     std::errc::invalid_argument},
    {errc::kBadPathname, "ERROR_BAD_PATHNAME", "The specified path is invalid.",
     std::errc::invalid_argument},
    {errc::kBusy, "ERROR_BUSY", "The requested resource is in use.",
     std::errc::device_or_resource_busy},
    {errc::kAlreadyExists, "ERROR_ALREADY_EXISTS",
     "Cannot create a file when that file already exists.", std::errc::file_exists},
    {errc::kFilenameExcedRange, "ERROR_FILENAME_EXCED_RANGE",
     "The filename or extension is too long.", std::errc::filename_too_long},
    {errc::kPipeLocal, "ERROR_PIPE_LOCAL", "The pipe is local.", kNone},
    {errc::kBadPipe, "ERROR_BAD_PIPE", "The pipe state is invalid.", kNone},
    {errc::kPipeBusy, "ERROR_PIPE_BUSY", "All pipe instances are busy.",
     std::errc::device_or_resource_busy},
    {errc::kNoData, "ERROR_NO_DATA", "The pipe is being closed.", std::errc::broken_pipe},
    {errc::kPipeNotConnected, "ERROR_PIPE_NOT_CONNECTED",
     "No process is on the other end of the pipe.", std::errc::not_connected},
    {errc::kMoreData, "ERROR_MORE_DATA", "More data is available.", kNone},
    {errc::kWaitTimeout, "WAIT_TIMEOUT", "The wait operation timed out.", std::errc::timed_out},
    {errc::kPipeConnected, "ERROR_PIPE_CONNECTED", "There is a process on other end of the pipe.",
     std::errc::already_connected},
    {errc::kPipeListening, "ERROR_PIPE_LISTENING",
     "Waiting for a process to open the other end of the pipe.", std::errc::not_connected},
    {errc::kHandlesClosed, "ERROR_HANDLES_CLOSED", "Handles to objects have been closed.", kNone},
    {errc::kAbandonedWait0, "ERROR_ABANDONED_WAIT_0",
     "The wait operation was abandoned because the object was closed.", kNone},
    {errc::kOperationAborted, "ERROR_OPERATION_ABORTED",
     "The I/O operation has been aborted because of either a thread exit or an "
     "application request.",
     std::errc::operation_canceled},
    {errc::kIoIncomplete, "ERROR_IO_INCOMPLETE", "Overlapped I/O event is not in a signaled state.",
     std::errc::resource_unavailable_try_again},
    {errc::kIoPending, "ERROR_IO_PENDING", "Overlapped I/O operation is in progress.",
     std::errc::operation_in_progress},
    {errc::kNotFound, "ERROR_NOT_FOUND", "Element not found.", kNone},
    {errc::kCannotImpersonate, "ERROR_CANNOT_IMPERSONATE",
     "Unable to impersonate using a named pipe until data has been read from that pipe.", kNone},
    {errc::kInvalidUserBuffer, "ERROR_INVALID_USER_BUFFER",
     "The supplied user buffer is not valid for the requested operation.", std::errc::bad_address},
    {errc::kNotEnoughQuota, "ERROR_NOT_ENOUGH_QUOTA",
     "Not enough quota is available to process this command.", std::errc::not_enough_memory},
};

const Known* find(int code) noexcept {
  for (const Known& k : kKnown) {
    if (static_cast<int>(k.code) == code) return &k;
  }
  return nullptr;
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sluice"; }
  std::string message(int code) const override {
    const Known* k = find(code);
    if (!k) return "Unknown error " + std::to_string(code) + ".";
    return std::string(k->text) + " (" + k->win32_name + ")";
  }
  std::error_condition default_error_condition(int code) const noexcept override {
    const Known* k = find(code);
    if (!k || k->condition == kNone) return {code, *this};
    if (k->condition == kSuccessCondition) return {};
    return k->condition;
  }
};

}  // namespace

const std::error_category& category() noexcept {
  // Never destroyed: error codes are still made and compared while the process exits (the
  // engine's threads, atexit handlers registered before this first ran), after the destructors
  // of statics made later than those handlers.
  static const Category* instance = new Category;
  return *instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

const char* system_text(errc e) noexcept {
  const Known* k = find(static_cast<int>(e));
  return k ? k->text : nullptr;
}

const char* win32_name(errc e) noexcept {
  const Known* k = find(static_cast<int>(e));
  return k ? k->win32_name : nullptr;
}

}  // namespace sluice
