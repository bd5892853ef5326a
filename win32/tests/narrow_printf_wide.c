/* `%S` in the narrow printf family formats a wide string and `%C` a wide character, as MSVC's
 * do; glibc reads them so already (its %S is %ls). Built as C and C++, ANSI and _UNICODE
 * (win32/CMakeLists.txt). Prints one line the test matches. */
#include <windows.h>
#include <locale.h>
#include <stdio.h>
#include <strsafe.h>
#include <tchar.h>

int main(void) {
  const wchar_t* wide = L"wide";
  char buffer[64];
  printf("printf:%S|", wide);
  fprintf(stdout, "fprintf:%S|", wide);
  sprintf(buffer, "%S%C", wide, L'!');
  printf("sprintf:%s|", buffer);
  snprintf(buffer, sizeof buffer, "[%-6S][%.2S]", wide, wide);
  printf("snprintf:%s|", buffer);
  StringCchPrintfA(buffer, sizeof buffer, "%S", wide);
  printf("StringCchPrintfA:%s|", buffer);
#ifndef _UNICODE
  _tprintf("_tprintf:%S|", wide);
#endif
  /* Beyond ASCII the conversion follows LC_CTYPE, as on Windows: in a UTF-8 locale it is UTF-8. */
  setlocale(LC_CTYPE, "C.UTF-8");
  printf("utf8:%S\n", L"h\u00e9");
  return 0;
}
