/* Named-pipe server on an I/O completion port: one thread, four instances associated with one
 * port (the key is the instance number); every operation's result arrives as a packet, whether
 * the call completed at once or went pending. A client that came before ConnectNamedPipe gets
 * no packet (ERROR_PIPE_CONNECTED is an immediate "failure"), so the server posts one itself.
 * Usage: iocp_server [clients]   (serve that many clients, then exit; default: forever) */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

#define INSTANCES 4
#define BUFSIZE 4096

enum { CONNECTING, READING, WRITING };

typedef struct {
  OVERLAPPED ov;
  HANDLE pipe;
  TCHAR request[BUFSIZE];
  TCHAR reply[BUFSIZE];
  DWORD reply_bytes;
  int state;
} Instance;

static Instance instances[INSTANCES];
static HANDLE port;

/* Starts the next operation of an instance; FALSE when the conversation is over. */
static BOOL start_connect(Instance* in) {
  in->state = CONNECTING;
  if (ConnectNamedPipe(in->pipe, &in->ov) || GetLastError() == ERROR_IO_PENDING) return TRUE;
  if (GetLastError() == ERROR_PIPE_CONNECTED) {
    return PostQueuedCompletionStatus(port, 0, (ULONG_PTR)(in - instances), &in->ov);
  }
  _tprintf(TEXT("ConnectNamedPipe failed with %d.\n"), (int)GetLastError());
  return FALSE;
}

static BOOL start_read(Instance* in) {
  in->state = READING;
  return ReadFile(in->pipe, in->request, BUFSIZE * sizeof(TCHAR), NULL, &in->ov) ||
         GetLastError() == ERROR_IO_PENDING;
}

static BOOL start_write(Instance* in) {
  in->state = WRITING;
  lstrcpy(in->reply, TEXT("Default answer from server"));
  in->reply_bytes = (DWORD)((lstrlen(in->reply) + 1) * sizeof(TCHAR));
  return WriteFile(in->pipe, in->reply, in->reply_bytes, NULL, &in->ov) ||
         GetLastError() == ERROR_IO_PENDING;
}

int _tmain(int argc, TCHAR* argv[]) {
  LPCTSTR name = TEXT("\\\\.\\pipe\\mynamedpipe");
  int limit = argc > 1 ? _ttoi(argv[1]) : 0;
  int served = 0;
  ULONG_PTR i;

  port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  if (port == NULL) {
    _tprintf(TEXT("CreateIoCompletionPort failed with %d.\n"), (int)GetLastError());
    return 1;
  }
  for (i = 0; i < INSTANCES; i++) {
    Instance* in = &instances[i];
    in->pipe = CreateNamedPipe(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                               PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, INSTANCES,
                               BUFSIZE * sizeof(TCHAR), BUFSIZE * sizeof(TCHAR), 5000, NULL);
    if (in->pipe == INVALID_HANDLE_VALUE) {
      _tprintf(TEXT("CreateNamedPipe failed with %d.\n"), (int)GetLastError());
      return 1;
    }
    if (CreateIoCompletionPort(in->pipe, port, i, 0) != port) {
      _tprintf(TEXT("CreateIoCompletionPort failed with %d.\n"), (int)GetLastError());
      return 1;
    }
    if (!start_connect(in)) return 1;
  }

  while (limit == 0 || served < limit) {
    DWORD n = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED ov = NULL;
    BOOL ok = GetQueuedCompletionStatus(port, &n, &key, &ov, INFINITE);
    Instance* in;
    if (ov == NULL) {
      _tprintf(TEXT("GetQueuedCompletionStatus failed with %d.\n"), (int)GetLastError());
      return 1;
    }
    in = &instances[key];
    switch (in->state) {
      case CONNECTING:
        ok = ok ? start_read(in) : FALSE;
        break;
      case READING:
        if (ok && n != 0) {
          _tprintf(TEXT("[%d] %s\n"), (int)key, in->request);
          ok = start_write(in);
        } else {
          ok = FALSE; /* ERROR_BROKEN_PIPE: the client left */
        }
        break;
      case WRITING:
        ok = ok && n == in->reply_bytes ? start_read(in) : FALSE;
        break;
    }
    if (!ok) {
      served++;
      if (!DisconnectNamedPipe(in->pipe)) {
        _tprintf(TEXT("DisconnectNamedPipe failed with %d.\n"), (int)GetLastError());
      }
      if (!start_connect(in)) return 1;
    }
  }
  printf("Served %d clients.\n", served);
  CloseHandle(port);
  return 0;
}
