/* Child for parent.c (scenario S6): copies its standard input to its standard output. */
#include <windows.h>
#include <stdio.h>

#define BUFSIZE 4096

int main(void) {
  CHAR buffer[BUFSIZE];
  DWORD got, put;
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  if (out == INVALID_HANDLE_VALUE || in == INVALID_HANDLE_VALUE) ExitProcess(1);

  printf("\n ** This is a message from the child process. ** \n");
  for (;;) {
    if (!ReadFile(in, buffer, BUFSIZE, &got, NULL) || got == 0) break;
    if (!WriteFile(out, buffer, got, &put, NULL)) break;
  }
  return 0;
}
