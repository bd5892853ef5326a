/* CallNamedPipe client (scenario S5b): open, transact and close in one call.
 * Usage: call_client [message]
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
  DWORD count = 0;
  BOOL ok = CallNamedPipe(name, (LPVOID)message, (DWORD)((lstrlen(message) + 1) * sizeof(TCHAR)),
                          reply, BUFSIZE * sizeof(TCHAR), &count, 20000);
  if (ok || GetLastError() == ERROR_MORE_DATA) {
    _tprintf(TEXT("%s\n"), reply);
    if (!ok) printf("\nExtra data in message was lost\n");
  } else {
    printf("CallNamedPipe failed, GLE=%d.\n", (int)GetLastError());
    return 1;
  }
  _getch();
  return 0;
}
