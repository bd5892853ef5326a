/* A program with the entry point MSVC accepts in the form ENTRY_FORM selects, built as C and as
 * C++, in ANSI and _UNICODE builds (win32/CMakeLists.txt): 0 `_tmain(void)`, 1 `_tmain(argc,
 * argv)`, 2 `_tmain(argc, argv, envp)`. The test runs it with the argument "h\u00e9" and
 * SLUICE_ENTRY_TEST=v\u00e9 in its environment; it prints "entry point ok" when it received
 * them as it should (as UTF-8 in ANSI builds, as wide strings in _UNICODE ones). */
#include <windows.h>
#include <tchar.h>

static int report(int ok) {
  _tprintf(ok ? _T("entry point ok\n") : _T("entry point got wrong arguments\n"));
  return ok ? 0 : 2;
}

#if ENTRY_FORM == 0
int _tmain(void) { return report(1); }
#elif ENTRY_FORM == 1
int _tmain(int argc, _TCHAR* argv[]) {
  return report(argc == 2 && _tcscmp(argv[1], _T("h\u00e9")) == 0 && argv[2] == NULL);
}
#else
int _tmain(int argc, _TCHAR* argv[], _TCHAR* envp[]) {
  const _TCHAR* wanted = _T("SLUICE_ENTRY_TEST=v\u00e9");
  int found = 0;
  int i;
  for (i = 0; envp[i] != NULL; ++i)
    if (_tcscmp(envp[i], wanted) == 0) found = 1;
  return report(argc == 2 && _tcscmp(argv[1], _T("h\u00e9")) == 0 && found);
}
#endif
