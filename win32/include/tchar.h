/* sluice — tchar.h: generic-text mappings keyed on _UNICODE (as on Windows).
 *
 * In _UNICODE builds _tmain is wmain, and _TCHAR is wchar_t (32-bit on Linux, see windows.h).
 * Linux starts programs at main(); libsluice_win32 holds a main() that converts argv (and envp)
 * from the locale's multibyte encoding (UTF-8) to wchar_t and calls wmain(). The linker takes it
 * from the library only when the program defines no main of its own. wmain may take any form
 * MSVC accepts, in C and C++: (void), (int argc, wchar_t** argv) or (int argc, wchar_t** argv,
 * wchar_t** envp); this header therefore declares none of them (a C prototype would refuse the
 * other forms, and in C++ each form is an overload of its own).
 *
 * _tprintf in _UNICODE builds follows Windows' wide printf conventions (%s is a wide string,
 * %S a narrow one) and writes UTF-8 to stdout, so it mixes freely with printf.
 */
#ifndef SLUICE_WIN32_TCHAR_H_
#define SLUICE_WIN32_TCHAR_H_

#include <crtdefs.h> /* _MAX_PATH and the other limits of MSVC's stdlib.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Windows-style wide printf to stdout (used by _tprintf in _UNICODE builds). */
int sluice_wprintf(const wchar_t* format, ...);

#ifdef __cplusplus
}
#endif

#ifdef _UNICODE
typedef wchar_t _TCHAR;
typedef wchar_t _TSCHAR;
typedef wchar_t _TUCHAR;
typedef wchar_t _TXCHAR;
typedef wint_t _TINT;
#define __T(x) L##x
#define _tmain wmain
#define _tprintf sluice_wprintf
#define _ftprintf fwprintf
#define _stprintf swprintf
#define _tcslen wcslen
#define _tcscpy wcscpy
#define _tcsncpy wcsncpy
#define _tcscat wcscat
#define _tcscmp wcscmp
#define _tcsncmp wcsncmp
#define _tcschr wcschr
#define _tcsrchr wcsrchr
#define _tcsstr wcsstr
#define _tcstol wcstol
#define _tcstoul wcstoul
#define _ttoi(s) ((int)wcstol((s), NULL, 10))
#define _fgetts fgetws
#define _fputts fputws
#else
typedef char _TCHAR;
typedef char _TSCHAR;
typedef unsigned char _TUCHAR;
typedef char _TXCHAR;
typedef int _TINT;
#define __T(x) x
#define _tmain main
#define _tprintf printf
#define _ftprintf fprintf
#define _stprintf sprintf
#define _tcslen strlen
#define _tcscpy strcpy
#define _tcsncpy strncpy
#define _tcscat strcat
#define _tcscmp strcmp
#define _tcsncmp strncmp
#define _tcschr strchr
#define _tcsrchr strrchr
#define _tcsstr strstr
#define _tcstol strtol
#define _tcstoul strtoul
#define _ttoi atoi
#define _fgetts fgets
#define _fputts fputs
#endif

#define _T(x) __T(x)
#define _TEXT(x) __T(x)

#endif /* SLUICE_WIN32_TCHAR_H_ */
