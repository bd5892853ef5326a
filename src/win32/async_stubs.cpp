// Overlapped I/O, completion routines, completion ports and cancellation: declared and exported
// so programs compile and link; their behaviour belongs to the asynchronous I/O issue. Until
// then they fail with ERROR_NOT_SUPPORTED, except GetOverlappedResult(Ex), which reports the
// result of an operation that a synchronous call completed.
#include <windows.h>

#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

// NT status in OVERLAPPED.Internal → Win32 error (README's table).
DWORD error_of_status(DWORD status) {
  switch (status) {
    case STATUS_SUCCESS: return ERROR_SUCCESS;
    case STATUS_BUFFER_OVERFLOW: return ERROR_MORE_DATA;
    case STATUS_CANCELLED: return ERROR_OPERATION_ABORTED;
    case STATUS_PIPE_BROKEN: return ERROR_BROKEN_PIPE;
    case STATUS_PIPE_DISCONNECTED: return ERROR_PIPE_NOT_CONNECTED;
    case STATUS_PIPE_CLOSING: return ERROR_NO_DATA;
    case STATUS_PIPE_CONNECTED: return ERROR_PIPE_CONNECTED;
    case STATUS_PIPE_LISTENING: return ERROR_PIPE_LISTENING;
    case STATUS_INVALID_PIPE_STATE: return ERROR_BAD_PIPE;
    case STATUS_PIPE_BUSY:
    case STATUS_PIPE_NOT_AVAILABLE:
    case STATUS_INSTANCE_NOT_AVAILABLE: return ERROR_PIPE_BUSY;
    case STATUS_PIPE_EMPTY: return ERROR_NO_DATA;
    case STATUS_ILLEGAL_FUNCTION: return ERROR_INVALID_FUNCTION;
    case STATUS_CANNOT_IMPERSONATE: return ERROR_CANNOT_IMPERSONATE;
    default: return ERROR_GEN_FAILURE;
  }
}

BOOL overlapped_result(HANDLE file, LPOVERLAPPED ov, LPDWORD bytes) {
  if (!globals().handles.get(file)) return fail(ERROR_INVALID_HANDLE);
  if (!ov) return fail(ERROR_INVALID_PARAMETER);
  auto status = static_cast<DWORD>(ov->Internal);
  // Nothing is ever pending yet: a pending OVERLAPPED was never started by this layer.
  if (status == STATUS_PENDING) return fail(ERROR_IO_INCOMPLETE);
  if (bytes) *bytes = static_cast<DWORD>(ov->InternalHigh);
  DWORD error = error_of_status(status);
  if (error != ERROR_SUCCESS) return fail(error);
  return TRUE;
}

BOOL not_supported() { return fail(ERROR_NOT_SUPPORTED); }

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                LPDWORD lpNumberOfBytesTransferred, BOOL bWait) {
  (void)bWait;
  return guarded<BOOL>(FALSE,
                       [&] { return overlapped_result(hFile, lpOverlapped, lpNumberOfBytesTransferred); });
}

BOOL WINAPI GetOverlappedResultEx(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                  LPDWORD lpNumberOfBytesTransferred, DWORD dwMilliseconds,
                                  BOOL bAlertable) {
  (void)dwMilliseconds, (void)bAlertable;
  return guarded<BOOL>(FALSE,
                       [&] { return overlapped_result(hFile, lpOverlapped, lpNumberOfBytesTransferred); });
}

BOOL WINAPI ReadFileEx(HANDLE, LPVOID, DWORD, LPOVERLAPPED, LPOVERLAPPED_COMPLETION_ROUTINE) {
  return not_supported();
}
BOOL WINAPI WriteFileEx(HANDLE, LPCVOID, DWORD, LPOVERLAPPED, LPOVERLAPPED_COMPLETION_ROUTINE) {
  return not_supported();
}
BOOL WINAPI CancelIo(HANDLE) { return not_supported(); }
BOOL WINAPI CancelIoEx(HANDLE, LPOVERLAPPED) { return not_supported(); }
BOOL WINAPI CancelSynchronousIo(HANDLE) { return not_supported(); }
HANDLE WINAPI CreateIoCompletionPort(HANDLE, HANDLE, ULONG_PTR, DWORD) {
  set_last_error(ERROR_NOT_SUPPORTED);
  return nullptr;
}
BOOL WINAPI GetQueuedCompletionStatus(HANDLE, LPDWORD, PULONG_PTR, LPOVERLAPPED*, DWORD) {
  return not_supported();
}
BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE, LPOVERLAPPED_ENTRY, ULONG, PULONG, DWORD, BOOL) {
  return not_supported();
}
BOOL WINAPI PostQueuedCompletionStatus(HANDLE, DWORD, ULONG_PTR, LPOVERLAPPED) {
  return not_supported();
}
BOOL WINAPI SetFileCompletionNotificationModes(HANDLE, UCHAR) { return not_supported(); }
DWORD WINAPI QueueUserAPC(PAPCFUNC, HANDLE, ULONG_PTR) {
  set_last_error(ERROR_NOT_SUPPORTED);
  return 0;
}

}  // extern "C"
