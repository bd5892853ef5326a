/* Named-pipe server with completion routines (scenario S3): one thread, a new instance per
 * client, ReadFileEx/WriteFileEx chains whose routines run in an alertable wait.
 * Usage: completion_server [clients]   (serve that many clients, then exit; default: forever) */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

#define BUFSIZE 4096

typedef struct {
  OVERLAPPED ov; /* first member: the routines get the record back through lpOverlapped */
  HANDLE pipe;
  TCHAR request[BUFSIZE];
  DWORD request_bytes;
  TCHAR reply[BUFSIZE];
  DWORD reply_bytes;
} Client;

static LPCTSTR name = TEXT("\\\\.\\pipe\\mynamedpipe");
static HANDLE pipe;
static int finished;

static VOID WINAPI read_done(DWORD error, DWORD bytes, LPOVERLAPPED ov);

static void disconnect_and_close(Client* c) {
  if (!DisconnectNamedPipe(c->pipe)) {
    _tprintf(TEXT("DisconnectNamedPipe failed with %d.\n"), (int)GetLastError());
  }
  CloseHandle(c->pipe);
  GlobalFree(c);
  finished++;
}

static VOID WINAPI write_done(DWORD error, DWORD bytes, LPOVERLAPPED ov) {
  Client* c = (Client*)ov;
  BOOL ok = FALSE;
  if (error == 0 && bytes == c->reply_bytes) {
    ok = ReadFileEx(c->pipe, c->request, BUFSIZE * sizeof(TCHAR), ov, read_done);
  }
  if (!ok) disconnect_and_close(c);
}

static VOID WINAPI read_done(DWORD error, DWORD bytes, LPOVERLAPPED ov) {
  Client* c = (Client*)ov;
  BOOL ok = FALSE;
  if (error == 0 && bytes != 0) {
    c->request_bytes = bytes;
    _tprintf(TEXT("[%d] %s\n"), (int)(INT_PTR)c->pipe, c->request);
    lstrcpy(c->reply, TEXT("Default answer from server"));
    c->reply_bytes = (DWORD)((lstrlen(c->reply) + 1) * sizeof(TCHAR));
    ok = WriteFileEx(c->pipe, c->reply, c->reply_bytes, ov, write_done);
  }
  if (!ok) disconnect_and_close(c);
}

/* Creates the next instance and starts connecting it; returns whether the connect is pending. */
static BOOL create_and_connect(LPOVERLAPPED ov) {
  pipe = CreateNamedPipe(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                         PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                         PIPE_UNLIMITED_INSTANCES, BUFSIZE * sizeof(TCHAR),
                         BUFSIZE * sizeof(TCHAR), 5000, NULL);
  if (pipe == INVALID_HANDLE_VALUE) {
    _tprintf(TEXT("CreateNamedPipe failed with %d.\n"), (int)GetLastError());
    return FALSE;
  }
  if (ConnectNamedPipe(pipe, ov)) {
    _tprintf(TEXT("ConnectNamedPipe failed with %d.\n"), (int)GetLastError());
    return FALSE;
  }
  switch (GetLastError()) {
    case ERROR_IO_PENDING:
      return TRUE;
    case ERROR_PIPE_CONNECTED:
      SetEvent(ov->hEvent);
      return FALSE;
    default:
      _tprintf(TEXT("ConnectNamedPipe failed with %d.\n"), (int)GetLastError());
      return FALSE;
  }
}

int _tmain(int argc, TCHAR* argv[]) {
  int limit = argc > 1 ? _ttoi(argv[1]) : 0;
  OVERLAPPED connect = {0};
  BOOL pending;
  DWORD n;

  connect.hEvent = CreateEvent(NULL, TRUE, TRUE, NULL);
  if (connect.hEvent == NULL) {
    _tprintf(TEXT("CreateEvent failed with %d.\n"), (int)GetLastError());
    return 0;
  }
  pending = create_and_connect(&connect);

  while (limit == 0 || finished < limit) {
    DWORD wait = WaitForSingleObjectEx(connect.hEvent, INFINITE, TRUE);
    if (wait == 0) {
      Client* c;
      if (pending && !GetOverlappedResult(pipe, &connect, &n, FALSE)) {
        printf("ConnectNamedPipe (%d)\n", (int)GetLastError());
        return 0;
      }
      c = (Client*)GlobalAlloc(GPTR, sizeof(Client));
      if (c == NULL) {
        printf("GlobalAlloc failed (%d)\n", (int)GetLastError());
        return 0;
      }
      c->pipe = pipe;
      c->reply_bytes = 0;
      write_done(0, 0, (LPOVERLAPPED)c); /* starts the first read */
      pending = create_and_connect(&connect);
    } else if (wait != WAIT_IO_COMPLETION) {
      printf("WaitForSingleObjectEx (%d)\n", (int)GetLastError());
      return 0;
    }
  }
  printf("Served %d clients.\n", finished);
  return 0;
}
