// The NTSTATUS values an OVERLAPPED and a completion packet carry, and the Win32 errors that
// GetOverlappedResult and GetQueuedCompletionStatus turn them back into. Windows reports a
// completed operation's status, not its error, in OVERLAPPED.Internal (Microsoft's OVERLAPPED
// documentation); programs compare it to STATUS_PENDING and the like, so the numbers must be
// Windows' own.
#include "win32/ntstatus.hpp"

namespace sluice::win32 {

DWORD status_of_error(DWORD error) noexcept {
  switch (error) {
    case ERROR_SUCCESS:
      return STATUS_SUCCESS;
    case ERROR_MORE_DATA:
      return STATUS_BUFFER_OVERFLOW;
    case ERROR_OPERATION_ABORTED:
      return STATUS_CANCELLED;
    case ERROR_BROKEN_PIPE:
      return STATUS_PIPE_BROKEN;
    case ERROR_PIPE_NOT_CONNECTED:
      return STATUS_PIPE_DISCONNECTED;
    case ERROR_NO_DATA:
      return STATUS_PIPE_CLOSING;
    case ERROR_PIPE_CONNECTED:
      return STATUS_PIPE_CONNECTED;
    case ERROR_PIPE_LISTENING:
      return STATUS_PIPE_LISTENING;
    case ERROR_BAD_PIPE:
      return STATUS_INVALID_PIPE_STATE;
    case ERROR_PIPE_BUSY:
      return STATUS_PIPE_BUSY;
    case ERROR_INVALID_FUNCTION:
      return STATUS_ILLEGAL_FUNCTION;
    case ERROR_CANNOT_IMPERSONATE:
      return STATUS_CANNOT_IMPERSONATE;
    case ERROR_ACCESS_DENIED:
      return 0xC0000022;  // STATUS_ACCESS_DENIED
    case ERROR_INVALID_HANDLE:
      return 0xC0000008;  // STATUS_INVALID_HANDLE
    case ERROR_INVALID_PARAMETER:
      return 0xC000000D;  // STATUS_INVALID_PARAMETER
    case ERROR_NOT_ENOUGH_MEMORY:
      return 0xC0000017;  // STATUS_NO_MEMORY
    // Anything else keeps its Win32 number in a customer-defined error status.
    default:
      return 0xE0000000u | (error & 0xFFFF);
  }
}

DWORD error_of_status(DWORD status) noexcept {
  switch (status) {
    case STATUS_SUCCESS:
      return ERROR_SUCCESS;
    case STATUS_BUFFER_OVERFLOW:
      return ERROR_MORE_DATA;
    case STATUS_CANCELLED:
      return ERROR_OPERATION_ABORTED;
    case STATUS_PIPE_BROKEN:
      return ERROR_BROKEN_PIPE;
    case STATUS_PIPE_DISCONNECTED:
      return ERROR_PIPE_NOT_CONNECTED;
    case STATUS_PIPE_CLOSING:
      return ERROR_NO_DATA;
    case STATUS_PIPE_CONNECTED:
      return ERROR_PIPE_CONNECTED;
    case STATUS_PIPE_LISTENING:
      return ERROR_PIPE_LISTENING;
    case STATUS_INVALID_PIPE_STATE:
      return ERROR_BAD_PIPE;
    case STATUS_PIPE_BUSY:
    case STATUS_PIPE_NOT_AVAILABLE:
    case STATUS_INSTANCE_NOT_AVAILABLE:
      return ERROR_PIPE_BUSY;
    case STATUS_PIPE_EMPTY:
      return ERROR_NO_DATA;
    case STATUS_ILLEGAL_FUNCTION:
      return ERROR_INVALID_FUNCTION;
    case STATUS_CANNOT_IMPERSONATE:
      return ERROR_CANNOT_IMPERSONATE;
    case 0xC0000022:
      return ERROR_ACCESS_DENIED;
    case 0xC0000008:
      return ERROR_INVALID_HANDLE;
    case 0xC000000D:
      return ERROR_INVALID_PARAMETER;
    case 0xC0000017:
      return ERROR_NOT_ENOUGH_MEMORY;
    default:
      if ((status & 0xFFFF0000u) == 0xE0000000u) return status & 0xFFFF;
      return ERROR_GEN_FAILURE;
  }
}

}  // namespace sluice::win32
