/* sluice — lmcons.h: the LAN Manager length limits programs size their buffers with (GetUserName
 * takes UNLEN + 1 characters, GetComputerName MAX_COMPUTERNAME_LENGTH + 1, i.e. CNLEN + 1). */
#include <windows.h>

#ifndef SLUICE_WIN32_LMCONS_H_
#define SLUICE_WIN32_LMCONS_H_

#define CNLEN 15 /* computer name */
#define LM20_CNLEN 15
#define DNLEN CNLEN /* domain name */
#define LM20_DNLEN 15
#define UNCLEN (CNLEN + 2) /* \\computer */
#define LM20_UNCLEN (LM20_CNLEN + 2)
#define NNLEN 80 /* share name */
#define LM20_NNLEN 12
#define RMLEN (UNCLEN + 1 + NNLEN) /* \\computer\share */
#define LM20_RMLEN (LM20_UNCLEN + 1 + LM20_NNLEN)
#define SNLEN 80 /* service name */
#define LM20_SNLEN 15
#define STXTLEN 256 /* service text */
#define LM20_STXTLEN 63
#define PATHLEN 256
#define LM20_PATHLEN 256
#define DEVLEN 80
#define LM20_DEVLEN 8
#define EVLEN 16
#define UNLEN 256 /* user name */
#define LM20_UNLEN 20
#define GNLEN UNLEN /* group name */
#define LM20_GNLEN LM20_UNLEN
#define PWLEN 256 /* password */
#define LM20_PWLEN 14
#define SHPWLEN 8
#define CLTYPE_LEN 12
#define MAXCOMMENTSZ 256
#define LM20_MAXCOMMENTSZ 48
#define QNLEN NNLEN
#define LM20_QNLEN LM20_NNLEN
#define ALERTSZ 128
#define MAXDEVENTRIES (sizeof(int) * 8)
#define NETBIOS_NAME_LEN 16
#define CRYPT_KEY_LEN 7
#define CRYPT_TXT_LEN 8
#define ENCRYPTED_PWLEN 16
#define SESSION_PWLEN 24
#define SESSION_CRYPT_KLEN 21
#define PARMNUM_ALL 0
#define PARM_ERROR_UNKNOWN ((DWORD)-1)
#define PARM_ERROR_NONE 0
#define PARMNUM_BASE_INFOLEVEL 1000
#define MAX_PREFERRED_LENGTH ((DWORD)-1)

#define NET_API_FUNCTION WINAPI
#define NET_API_STATUS DWORD
#define LMCSTR LPCWSTR
#define LMSTR LPWSTR

#endif /* SLUICE_WIN32_LMCONS_H_ */
