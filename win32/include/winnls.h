/* sluice — winnls.h: code page identifiers and the process's code pages.
 *
 * A sluice program's ANSI code page is UTF-8 (the A functions take and give UTF-8, as Windows
 * does for a program whose manifest sets the UTF-8 active code page), so GetACP and GetOEMCP
 * return CP_UTF8.
 */
#include <windows.h>

#ifndef SLUICE_WIN32_WINNLS_H_
#define SLUICE_WIN32_WINNLS_H_

#define CP_ACP 0
#define CP_OEMCP 1
#define CP_MACCP 2
#define CP_THREAD_ACP 3
#define CP_SYMBOL 42
#define CP_UTF7 65000
#define CP_UTF8 65001

SLUICE_EXTERN_C_BEGIN

/// CP_UTF8: see above.
UINT WINAPI GetACP(void);
UINT WINAPI GetOEMCP(void);

SLUICE_EXTERN_C_END

#endif /* SLUICE_WIN32_WINNLS_H_ */
