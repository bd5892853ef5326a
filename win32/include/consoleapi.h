/* sluice — consoleapi.h: the console's code pages.
 *
 * The terminal of a Linux program takes UTF-8, so the console's code pages start as CP_UTF8 and
 * SetConsoleOutputCP(CP_UTF8), the call programs make to print Unicode, is what already holds.
 * Another code page is accepted and reported back, but text is still written as it is given.
 * TODO(compat): no conversion to a code page other than UTF-8. The pseudo code pages (CP_ACP,
 * CP_OEMCP, CP_MACCP, CP_THREAD_ACP), which name no code page a console could take, and values
 * above 65535 are refused with ERROR_INVALID_PARAMETER.
 */
#include <windows.h>

#ifndef SLUICE_WIN32_CONSOLEAPI_H_
#define SLUICE_WIN32_CONSOLEAPI_H_

#include <winnls.h>

SLUICE_EXTERN_C_BEGIN

/// The code page of the console's output / input, CP_UTF8 until changed. Thread-safe.
UINT WINAPI GetConsoleOutputCP(void);
UINT WINAPI GetConsoleCP(void);
/// Sets it for this process; see above for which values it takes.
BOOL WINAPI SetConsoleOutputCP(UINT wCodePageID);
BOOL WINAPI SetConsoleCP(UINT wCodePageID);

SLUICE_EXTERN_C_END

#endif /* SLUICE_WIN32_CONSOLEAPI_H_ */
