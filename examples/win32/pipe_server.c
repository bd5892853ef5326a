/* Multithreaded named-pipe server (scenario S1): one thread per client, synchronous I/O.
 * An ordinary Win32 program; builds unchanged on Windows and, with sluice, on Linux.
 * Usage: pipe_server [clients]   (serve that many clients, then exit; default: forever) */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>
#include <strsafe.h>

#define BUFSIZE 512

static DWORD WINAPI ServeClient(LPVOID param);

int _tmain(int argc, TCHAR* argv[]) {
  LPCTSTR name = TEXT("\\\\.\\pipe\\mynamedpipe");
  int limit = argc > 1 ? _ttoi(argv[1]) : 0;
  HANDLE workers[MAXIMUM_WAIT_OBJECTS];
  DWORD nworkers = 0;
  int served = 0;

  while (limit == 0 || served < limit) {
    HANDLE pipe;
    BOOL connected;
    _tprintf(TEXT("\nPipe Server: Main thread awaiting client connection on %s\n"), name);
    pipe = CreateNamedPipe(name, PIPE_ACCESS_DUPLEX,
                           PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                           PIPE_UNLIMITED_INSTANCES, BUFSIZE, BUFSIZE, 0, NULL);
    if (pipe == INVALID_HANDLE_VALUE) {
      _tprintf(TEXT("CreateNamedPipe failed, GLE=%d.\n"), (int)GetLastError());
      return -1;
    }
    /* A client that connected before ConnectNamedPipe is a good connection too. */
    connected = ConnectNamedPipe(pipe, NULL) ? TRUE : (GetLastError() == ERROR_PIPE_CONNECTED);
    if (connected) {
      DWORD tid = 0;
      HANDLE worker;
      _tprintf(TEXT("Client connected, creating a processing thread.\n"));
      worker = CreateThread(NULL, 0, ServeClient, pipe, 0, &tid);
      if (worker == NULL) {
        _tprintf(TEXT("CreateThread failed, GLE=%d.\n"), (int)GetLastError());
        return -1;
      }
      ++served;
      if (limit != 0 && nworkers < MAXIMUM_WAIT_OBJECTS) {
        workers[nworkers++] = worker;
      } else {
        CloseHandle(worker);
      }
    } else {
      CloseHandle(pipe);
    }
  }
  if (nworkers > 0) WaitForMultipleObjects(nworkers, workers, TRUE, INFINITE);
  while (nworkers > 0) CloseHandle(workers[--nworkers]);
  return 0;
}

static DWORD WINAPI ServeClient(LPVOID param) {
  HANDLE heap = GetProcessHeap();
  TCHAR* request = (TCHAR*)HeapAlloc(heap, 0, BUFSIZE * sizeof(TCHAR));
  TCHAR* reply = (TCHAR*)HeapAlloc(heap, 0, BUFSIZE * sizeof(TCHAR));
  HANDLE pipe = (HANDLE)param;
  DWORD got = 0, replyBytes = 0, written = 0;

  if (pipe == NULL || request == NULL || reply == NULL) {
    printf("\nERROR - Pipe Server Failure:\n   ServeClient got a NULL handle or buffer.\n");
    if (request) HeapFree(heap, 0, request);
    if (reply) HeapFree(heap, 0, reply);
    return (DWORD)-1;
  }
  printf("ServeClient started, receiving and processing messages.\n");

  for (;;) {
    if (!ReadFile(pipe, request, BUFSIZE * sizeof(TCHAR), &got, NULL) || got == 0) {
      if (GetLastError() == ERROR_BROKEN_PIPE) {
        _tprintf(TEXT("ServeClient: client disconnected.\n"));
      } else {
        _tprintf(TEXT("ServeClient ReadFile failed, GLE=%d.\n"), (int)GetLastError());
      }
      break;
    }
    request[BUFSIZE - 1] = 0; /* never trust the client to terminate its string */
    _tprintf(TEXT("Client Request String:\"%s\"\n"), request);
    if (FAILED(StringCchCopy(reply, BUFSIZE, TEXT("default answer from server")))) {
      replyBytes = 0;
      printf("StringCchCopy failed, no outgoing message.\n");
    } else {
      replyBytes = (DWORD)((lstrlen(reply) + 1) * sizeof(TCHAR));
    }
    if (!WriteFile(pipe, reply, replyBytes, &written, NULL) || written != replyBytes) {
      _tprintf(TEXT("ServeClient WriteFile failed, GLE=%d.\n"), (int)GetLastError());
      break;
    }
  }
  /* Let the client read everything before the connection goes. */
  FlushFileBuffers(pipe);
  DisconnectNamedPipe(pipe);
  CloseHandle(pipe);
  HeapFree(heap, 0, request);
  HeapFree(heap, 0, reply);
  printf("ServeClient exiting.\n");
  return 1;
}
