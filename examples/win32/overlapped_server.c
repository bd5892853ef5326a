/* Named-pipe server with overlapped I/O and one event per instance (scenario S2): one thread
 * serves four instances, each driven by a small state machine (connecting, reading, writing).
 * Usage: overlapped_server [clients]   (serve that many clients, then exit; default: forever) */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

#define INSTANCES 4
#define BUFSIZE 4096

enum { CONNECTING, READING, WRITING };

typedef struct {
  OVERLAPPED ov; /* first member: the record is found from its OVERLAPPED */
  HANDLE pipe;
  TCHAR request[BUFSIZE];
  DWORD request_bytes;
  TCHAR reply[BUFSIZE];
  DWORD reply_bytes;
  int state;
  BOOL pending;
} Instance;

static Instance instances[INSTANCES];
static HANDLE events[INSTANCES];

/* Starts waiting for a client; returns whether the connect is pending. */
static BOOL start_connect(Instance* in) {
  if (ConnectNamedPipe(in->pipe, &in->ov)) {
    _tprintf(TEXT("ConnectNamedPipe failed with %d.\n"), (int)GetLastError());
    return FALSE;
  }
  switch (GetLastError()) {
    case ERROR_IO_PENDING:
      return TRUE;
    case ERROR_PIPE_CONNECTED:
      /* The client came first: the event is not signalled for us, so signal it. */
      SetEvent(in->ov.hEvent);
      return FALSE;
    default:
      _tprintf(TEXT("ConnectNamedPipe failed with %d.\n"), (int)GetLastError());
      return FALSE;
  }
}

static void reconnect(Instance* in) {
  if (!DisconnectNamedPipe(in->pipe)) {
    _tprintf(TEXT("DisconnectNamedPipe failed with %d.\n"), (int)GetLastError());
  }
  in->pending = start_connect(in);
  in->state = in->pending ? CONNECTING : READING;
}

int _tmain(int argc, TCHAR* argv[]) {
  LPCTSTR name = TEXT("\\\\.\\pipe\\mynamedpipe");
  int limit = argc > 1 ? _ttoi(argv[1]) : 0;
  int served = 0;
  int i;

  for (i = 0; i < INSTANCES; i++) {
    events[i] = CreateEvent(NULL, TRUE, TRUE, NULL);
    if (events[i] == NULL) {
      _tprintf(TEXT("CreateEvent failed with %d.\n"), (int)GetLastError());
      return 0;
    }
    instances[i].ov.hEvent = events[i];
    instances[i].pipe = CreateNamedPipe(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                        PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                                        INSTANCES, BUFSIZE * sizeof(TCHAR),
                                        BUFSIZE * sizeof(TCHAR), 5000, NULL);
    if (instances[i].pipe == INVALID_HANDLE_VALUE) {
      _tprintf(TEXT("CreateNamedPipe failed with %d.\n"), (int)GetLastError());
      return 0;
    }
    instances[i].pending = start_connect(&instances[i]);
    instances[i].state = instances[i].pending ? CONNECTING : READING;
  }

  while (limit == 0 || served < limit) {
    DWORD index = WaitForMultipleObjects(INSTANCES, events, FALSE, INFINITE) - WAIT_OBJECT_0;
    Instance* in;
    DWORD n = 0;
    BOOL ok;
    if (index >= INSTANCES) {
      printf("Index out of range.\n");
      return 0;
    }
    in = &instances[index];

    if (in->pending) {
      ok = GetOverlappedResult(in->pipe, &in->ov, &n, FALSE);
      switch (in->state) {
        case CONNECTING:
          if (!ok) {
            printf("Error %d.\n", (int)GetLastError());
            return 0;
          }
          in->state = READING;
          break;
        case READING:
          if (!ok || n == 0) {
            served++;
            reconnect(in);
            continue;
          }
          in->request_bytes = n;
          in->state = WRITING;
          break;
        case WRITING:
          if (!ok || n != in->reply_bytes) {
            served++;
            reconnect(in);
            continue;
          }
          in->state = READING;
          break;
        default:
          printf("Invalid pipe state.\n");
          return 0;
      }
    }

    switch (in->state) {
      case READING:
        ok = ReadFile(in->pipe, in->request, BUFSIZE * sizeof(TCHAR), &in->request_bytes, &in->ov);
        if (ok && in->request_bytes != 0) {
          in->pending = FALSE;
          in->state = WRITING; /* the event is signalled: the loop comes straight back */
          continue;
        }
        if (!ok && GetLastError() == ERROR_IO_PENDING) {
          in->pending = TRUE;
          continue;
        }
        served++; /* the client left (ERROR_BROKEN_PIPE) or misbehaved */
        reconnect(in);
        break;
      case WRITING:
        _tprintf(TEXT("[%d] %s\n"), (int)(INT_PTR)in->pipe, in->request);
        lstrcpy(in->reply, TEXT("Default answer from server"));
        in->reply_bytes = (DWORD)((lstrlen(in->reply) + 1) * sizeof(TCHAR));
        ok = WriteFile(in->pipe, in->reply, in->reply_bytes, &n, &in->ov);
        if (ok && n == in->reply_bytes) {
          in->pending = FALSE;
          in->state = READING;
          continue;
        }
        if (!ok && GetLastError() == ERROR_IO_PENDING) {
          in->pending = TRUE;
          continue;
        }
        served++;
        reconnect(in);
        break;
      default:
        printf("Invalid pipe state.\n");
        return 0;
    }
  }
  printf("Served %d clients.\n", served);
  return 0;
}
