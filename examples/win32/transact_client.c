/* TransactNamedPipe client (scenario S5a): one request, one reply, as one operation.
 * Usage: transact_client [message]
 * Exits with 1 when it got no reply, so that a script can tell and try again. */
#include <windows.h>
#include <stdio.h>
#include <conio.h>
#include <tchar.h>

#define BUFSIZE 512

int _tmain(int argc, TCHAR* argv[]) {
  LPCTSTR name = TEXT("\\\\.\\pipe\\mynamedpipe");
  LPCTSTR message = argc > 1 ? argv[1] : TEXT("Default message from client");
  TCHAR reply[BUFSIZE];
  HANDLE pipe;
  DWORD mode, count = 0;
  BOOL ok;

  for (;;) {
    pipe = CreateFile(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (pipe != INVALID_HANDLE_VALUE) break;
    if (GetLastError() != ERROR_PIPE_BUSY || !WaitNamedPipe(name, 20000)) {
      printf("Could not open pipe, GLE=%d.\n", (int)GetLastError());
      return 1;
    }
  }
  mode = PIPE_READMODE_MESSAGE;
  if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL)) {
    printf("SetNamedPipeHandleState failed, GLE=%d.\n", (int)GetLastError());
    return 1;
  }
  ok = TransactNamedPipe(pipe, (LPVOID)message, (DWORD)((lstrlen(message) + 1) * sizeof(TCHAR)),
                         reply, BUFSIZE * sizeof(TCHAR), &count, NULL);
  if (!ok && GetLastError() != ERROR_MORE_DATA) {
    printf("TransactNamedPipe failed, GLE=%d.\n", (int)GetLastError());
    return 1;
  }
  for (;;) {
    _tprintf(TEXT("%s\n"), reply);
    if (ok) break;
    /* The reply did not fit: the rest of the message is still in the pipe. */
    ok = ReadFile(pipe, reply, BUFSIZE * sizeof(TCHAR), &count, NULL);
    if (!ok && GetLastError() != ERROR_MORE_DATA) break;
  }
  _getch();
  CloseHandle(pipe);
  return 0;
}
