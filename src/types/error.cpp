// The sluice error category: Win32 error numbers with their Windows system texts.
#include "sluice/error.hpp"

#include <string>

namespace sluice {
namespace {

const char* text_of(int code) noexcept {
  switch (static_cast<errc>(code)) {
    case errc::kSuccess:
      return "The operation completed successfully.";
    case errc::kInvalidFunction:
      return "Incorrect function.";
    case errc::kFileNotFound:
      return "The system cannot find the file specified.";
    case errc::kPathNotFound:
      return "The system cannot find the path specified.";
    case errc::kTooManyOpenFiles:
      return "The system cannot open the file.";
    case errc::kAccessDenied:
      return "Access is denied.";
    case errc::kInvalidHandle:
      return "The handle is invalid.";
    case errc::kNotEnoughMemory:
      return "Not enough memory resources are available to process this command.";
    case errc::kHandleEof:
      return "Reached the end of the file.";
    case errc::kNotSupported:
      return "The request is not supported.";
    case errc::kBadNetpath:
      return "The network path was not found.";
    case errc::kInvalidParameter:
      return "The parameter is incorrect.";
    case errc::kBrokenPipe:
      return "The pipe has been ended.";
    case errc::kSemTimeout:
      return "The semaphore timeout period has expired.";
    case errc::kInsufficientBuffer:
      return "The data area passed to a system call is too small.";
    case errc::kInvalidName:
      return "The filename, directory name, or volume label syntax is incorrect.";
    case errc::kBadPathname:
      return "The specified path is invalid.";
    case errc::kBusy:
      return "The requested resource is in use.";
    case errc::kAlreadyExists:
      return "Cannot create a file when that file already exists.";
    case errc::kFilenameExcedRange:
      return "The filename or extension is too long.";
    case errc::kPipeLocal:
      return "The pipe is local.";
    case errc::kBadPipe:
      return "The pipe state is invalid.";
    case errc::kPipeBusy:
      return "All pipe instances are busy.";
    case errc::kNoData:
      return "The pipe is being closed.";
    case errc::kPipeNotConnected:
      return "No process is on the other end of the pipe.";
    case errc::kMoreData:
      return "More data is available.";
    case errc::kWaitTimeout:
      return "The wait operation timed out.";
    case errc::kPipeConnected:
      return "There is a process on other end of the pipe.";
    case errc::kPipeListening:
      return "Waiting for a process to open the other end of the pipe.";
    case errc::kHandlesClosed:
      return "Handles to objects have been closed.";
    case errc::kAbandonedWait0:
      return "The wait operation was abandoned because the object was closed.";
    case errc::kOperationAborted:
      return "The I/O operation has been aborted because of either a thread exit or an "
             "application request.";
    case errc::kIoIncomplete:
      return "Overlapped I/O event is not in a signaled state.";
    case errc::kIoPending:
      return "Overlapped I/O operation is in progress.";
    case errc::kNotFound:
      return "Element not found.";
    case errc::kCannotImpersonate:
      return "Unable to impersonate using a named pipe until data has been read from that pipe.";
    case errc::kInvalidUserBuffer:
      return "The supplied user buffer is not valid for the requested operation.";
    case errc::kNotEnoughQuota:
      return "Not enough quota is available to process this command.";
  }
  return nullptr;
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sluice"; }
  std::string message(int code) const override {
    const char* text = text_of(code);
    return text ? text : "Unknown error " + std::to_string(code) + ".";
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

}  // namespace sluice
