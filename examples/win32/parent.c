/* Parent with redirected child I/O (scenario S6): the child's stdin and stdout are anonymous
 * pipes; the parent copies a file into the child and the child's output to its own stdout.
 * Usage: parent FILE   (runs the program "child" from its own directory) */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>
#include <strsafe.h>

#define BUFSIZE 4096

static HANDLE childInRead, childInWrite, childOutRead, childOutWrite;

static void ErrorExit(LPCTSTR what) {
  LPVOID message = NULL;
  LPVOID display;
  DWORD error = GetLastError();
  FormatMessage(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                    FORMAT_MESSAGE_IGNORE_INSERTS,
                NULL, error, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), (LPTSTR)&message, 0,
                NULL);
  display = LocalAlloc(LMEM_ZEROINIT,
                       (lstrlen((LPCTSTR)message) + lstrlen(what) + 40) * sizeof(TCHAR));
  StringCchPrintf((LPTSTR)display, LocalSize(display) / sizeof(TCHAR),
                  TEXT("%s failed with error %d: %s"), what, (int)error, (LPTSTR)message);
  MessageBox(NULL, (LPCTSTR)display, TEXT("Error"), MB_OK);
  LocalFree(message);
  LocalFree(display);
  ExitProcess(1);
}

static void StartChild(void) {
  TCHAR command[] = TEXT("child");
  PROCESS_INFORMATION pi;
  STARTUPINFO si;
  ZeroMemory(&pi, sizeof pi);
  ZeroMemory(&si, sizeof si);
  si.cb = sizeof si;
  si.hStdError = childOutWrite;
  si.hStdOutput = childOutWrite;
  si.hStdInput = childInRead;
  si.dwFlags |= STARTF_USESTDHANDLES;
  if (!CreateProcess(NULL, command, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    ErrorExit(TEXT("CreateProcess"));
  }
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  /* Without this the child's end of output would never be seen. */
  CloseHandle(childOutWrite);
  CloseHandle(childInRead);
}

int _tmain(int argc, TCHAR* argv[]) {
  SECURITY_ATTRIBUTES sa;
  HANDLE input, out = GetStdHandle(STD_OUTPUT_HANDLE);
  CHAR buffer[BUFSIZE];
  DWORD got, put;

  printf("\n->Start of parent execution.\n");
  sa.nLength = sizeof sa;
  sa.bInheritHandle = TRUE;
  sa.lpSecurityDescriptor = NULL;
  if (!CreatePipe(&childOutRead, &childOutWrite, &sa, 0)) ErrorExit(TEXT("StdoutRd CreatePipe"));
  if (!SetHandleInformation(childOutRead, HANDLE_FLAG_INHERIT, 0))
    ErrorExit(TEXT("Stdout SetHandleInformation"));
  if (!CreatePipe(&childInRead, &childInWrite, &sa, 0)) ErrorExit(TEXT("Stdin CreatePipe"));
  if (!SetHandleInformation(childInWrite, HANDLE_FLAG_INHERIT, 0))
    ErrorExit(TEXT("Stdin SetHandleInformation"));
  StartChild();

  if (argc == 1) ErrorExit(TEXT("Please specify an input file.\n"));
  input = CreateFile(argv[1], GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_READONLY, NULL);
  if (input == INVALID_HANDLE_VALUE) ErrorExit(TEXT("CreateFile"));
  for (;;) {
    if (!ReadFile(input, buffer, BUFSIZE, &got, NULL) || got == 0) break;
    if (!WriteFile(childInWrite, buffer, got, &put, NULL)) break;
  }
  if (!CloseHandle(childInWrite)) ErrorExit(TEXT("StdInWr CloseHandle"));
  _tprintf(TEXT("\n->Contents of %s written to child STDIN pipe.\n"), argv[1]);

  printf("\n->Contents of child process STDOUT:\n\n");
  fflush(stdout); /* our printf buffer and WriteFile on the handle share one stdout */
  for (;;) {
    if (!ReadFile(childOutRead, buffer, BUFSIZE, &got, NULL) || got == 0) break;
    if (!WriteFile(out, buffer, got, &put, NULL)) break;
  }
  printf("\n->End of parent execution.\n");
  return 0;
}
