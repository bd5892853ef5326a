/* Compiled (not run) as C99, C11, C++17 and C++20, each in ANSI and UNICODE builds, with
 * warnings as errors: the headers must be self-contained and clean in every mode. */
#include <windows.h>
#include <conio.h>
#include <strsafe.h>
#include <tchar.h>

#ifdef __cplusplus
static_assert(sizeof(OVERLAPPED) == 32, "OVERLAPPED has the SDK layout");
static_assert(sizeof(DWORD) == 4 && sizeof(LONG) == 4 && sizeof(BOOL) == 4, "32-bit types");
#else
typedef char overlapped_is_32_bytes[sizeof(OVERLAPPED) == 32 ? 1 : -1];
typedef char dword_is_32_bits[sizeof(DWORD) == 4 ? 1 : -1];
#endif

static DWORD WINAPI worker(LPVOID parameter) {
  OVERLAPPED ov;
  ZeroMemory(&ov, sizeof ov);
  ov.Offset = 1;
  ov.Pointer = parameter;
  return HasOverlappedIoCompleted(&ov) ? (DWORD)ERROR_SUCCESS : (DWORD)WAIT_TIMEOUT;
}

int headers_compile_use(void);
int headers_compile_use(void) {
  TCHAR buffer[32];
  STARTUPINFO si;
  PROCESS_INFORMATION pi;
  SECURITY_ATTRIBUTES sa = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
  HANDLE pipe = CreateNamedPipe(TEXT("\\\\.\\pipe\\x"), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                                PIPE_UNLIMITED_INSTANCES, 512, 512, 0, &sa);
  LPOVERLAPPED_COMPLETION_ROUTINE routine = NULL;
  HRESULT hr = StringCchCopy(buffer, 32, _T("text"));
  ZeroMemory(&si, sizeof si);
  ZeroMemory(&pi, sizeof pi);
  si.dwFlags = STARTF_USESTDHANDLES;
  (void)routine;
  (void)worker;
  if (FAILED(hr) || pipe == INVALID_HANDLE_VALUE) return MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT);
  return lstrlen(buffer) + (int)_tcslen(buffer);
}
