/* A C program built with `cc main.c $(pkg-config --cflags --libs sluice-win32)`. */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

int _tmain(int argc, TCHAR* argv[]) {
  HANDLE r, w;
  char buffer[16];
  DWORD n = 0;
  (void)argc;
  (void)argv;
  if (!CreatePipe(&r, &w, NULL, 0)) return 1;
  if (!WriteFile(w, "win32 ok", 8, &n, NULL) || n != 8) return 2;
  CloseHandle(w);
  if (!ReadFile(r, buffer, sizeof buffer, &n, NULL)) return 3;
  if (ReadFile(r, buffer + n, 1, NULL, NULL) || GetLastError() != ERROR_BROKEN_PIPE) return 4;
  CloseHandle(r);
  printf("%.*s\n", (int)n, buffer);
  return 0;
}
