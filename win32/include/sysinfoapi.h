/* sluice — sysinfoapi.h: the computer's names (GetComputerName, GetComputerNameEx).
 *
 * windows.h includes this header; a program may also include it on its own. The names come
 * from the Linux host name (uname's nodename, what hostname(1) prints):
 *
 *   ComputerNameNetBIOS, ComputerNamePhysicalNetBIOS, GetComputerName:
 *       its first label, upper-cased (ASCII letters) and cut to MAX_COMPUTERNAME_LENGTH (15)
 *       characters, as Windows makes a NetBIOS name of a DNS host name;
 *   ComputerNameDnsHostname, ComputerNamePhysicalDnsHostname: its first label, as spelled;
 *   ComputerNameDnsDomain, ComputerNamePhysicalDnsDomain: what follows the first dot, or the
 *       empty string (a computer in no domain);
 *   ComputerNameDnsFullyQualified, ComputerNamePhysicalDnsFullyQualified: the whole name.
 *
 * TODO(compat): no DNS look-up completes a short host name with a domain (the domain Windows
 * takes from its registry settings); there are no clusters, so the Physical forms equal the
 * others. ANSI forms give UTF-8.
 */
#include <windows.h>

#ifndef SLUICE_WIN32_SYSINFOAPI_H_
#define SLUICE_WIN32_SYSINFOAPI_H_

#ifndef ERROR_BUFFER_OVERFLOW
#define ERROR_BUFFER_OVERFLOW 111L
#endif

#define MAX_COMPUTERNAME_LENGTH 15

typedef enum _COMPUTER_NAME_FORMAT {
  ComputerNameNetBIOS,
  ComputerNameDnsHostname,
  ComputerNameDnsDomain,
  ComputerNameDnsFullyQualified,
  ComputerNamePhysicalNetBIOS,
  ComputerNamePhysicalDnsHostname,
  ComputerNamePhysicalDnsDomain,
  ComputerNamePhysicalDnsFullyQualified,
  ComputerNameMax
} COMPUTER_NAME_FORMAT;

SLUICE_EXTERN_C_BEGIN

/// The NetBIOS name. *nSize: the buffer's size in characters; on success the name's length
/// (without the NUL). A buffer too small (or NULL): FALSE, ERROR_BUFFER_OVERFLOW, *nSize the
/// size needed with the NUL. nSize NULL: ERROR_INVALID_PARAMETER.
BOOL WINAPI GetComputerNameA(LPSTR lpBuffer, LPDWORD nSize);
BOOL WINAPI GetComputerNameW(LPWSTR lpBuffer, LPDWORD nSize);
/// The name NameType selects (see above). As GetComputerName, but a buffer too small (or NULL)
/// fails with ERROR_MORE_DATA; NameType out of range: ERROR_INVALID_PARAMETER.
BOOL WINAPI GetComputerNameExA(COMPUTER_NAME_FORMAT NameType, LPSTR lpBuffer, LPDWORD nSize);
BOOL WINAPI GetComputerNameExW(COMPUTER_NAME_FORMAT NameType, LPWSTR lpBuffer, LPDWORD nSize);

SLUICE_EXTERN_C_END

#ifdef UNICODE
#define GetComputerName GetComputerNameW
#define GetComputerNameEx GetComputerNameExW
#else
#define GetComputerName GetComputerNameA
#define GetComputerNameEx GetComputerNameExA
#endif

#endif /* SLUICE_WIN32_SYSINFOAPI_H_ */
