/* Named-pipe client (scenario S4): connect (waiting while all instances are busy), switch to
 * message-read mode, send one message, read the reply in pieces.
 * Usage: pipe_client [message] */
#include <windows.h>
#include <stdio.h>
#include <conio.h>
#include <tchar.h>

#define BUFSIZE 512

int _tmain(int argc, TCHAR* argv[]) {
  LPCTSTR name = TEXT("\\\\.\\pipe\\mynamedpipe");
  LPCTSTR message = argc > 1 ? argv[1] : TEXT("Default message from client.");
  TCHAR buffer[BUFSIZE];
  HANDLE pipe;
  DWORD mode, bytes, count = 0;
  BOOL ok = FALSE;

  for (;;) {
    pipe = CreateFile(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (pipe != INVALID_HANDLE_VALUE) break;
    if (GetLastError() != ERROR_PIPE_BUSY) {
      _tprintf(TEXT("Could not open pipe. GLE=%d\n"), (int)GetLastError());
      return -1;
    }
    if (!WaitNamedPipe(name, 20000)) {
      printf("Could not open pipe: 20 second wait timed out.");
      return -1;
    }
  }

  /* Client ends start in byte-read mode, even on a message pipe. */
  mode = PIPE_READMODE_MESSAGE;
  if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL)) {
    _tprintf(TEXT("SetNamedPipeHandleState failed. GLE=%d\n"), (int)GetLastError());
    return -1;
  }

  bytes = (DWORD)((lstrlen(message) + 1) * sizeof(TCHAR));
  _tprintf(TEXT("Sending %d byte message: \"%s\"\n"), (int)bytes, message);
  if (!WriteFile(pipe, message, bytes, &count, NULL)) {
    _tprintf(TEXT("WriteFile to pipe failed. GLE=%d\n"), (int)GetLastError());
    return -1;
  }
  printf("\nMessage sent to server, receiving reply as follows:\n");

  do {
    ok = ReadFile(pipe, buffer, BUFSIZE * sizeof(TCHAR), &count, NULL);
    if (!ok && GetLastError() != ERROR_MORE_DATA) break;
    _tprintf(TEXT("\"%s\"\n"), buffer);
  } while (!ok);

  if (!ok) {
    _tprintf(TEXT("ReadFile from pipe failed. GLE=%d\n"), (int)GetLastError());
    return -1;
  }
  printf("\n<End of message, press ENTER to terminate connection and exit>");
  _getch();
  CloseHandle(pipe);
  return 0;
}
