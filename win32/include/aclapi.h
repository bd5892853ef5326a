/* sluice — aclapi.h: a pipe's security descriptor read and changed through its handle
 * (GetSecurityInfo, SetSecurityInfo). */
#ifndef SLUICE_WIN32_ACLAPI_H_
#define SLUICE_WIN32_ACLAPI_H_

#include <windows.h>
#include <accctrl.h>

SLUICE_EXTERN_C_BEGIN

/// Reads the owner, group and DACL of the pipe a named-pipe handle belongs to (ObjectType
/// SE_KERNEL_OBJECT or SE_FILE_OBJECT). Returns a Win32 error code (ERROR_SUCCESS), not a BOOL.
/// *ppSecurityDescriptor receives a self-relative descriptor (free it with LocalFree) and is
/// required when any of the other pointers is given; they point into it. Linux users and groups
/// appear as S-1-22-1-<uid> / S-1-22-2-<gid>, root's rules as BUILTIN\Administrators, the rule
/// for the owner as the owner's SID. SACL_SECURITY_INFORMATION: ERROR_PRIVILEGE_NOT_HELD.
/// Other handles: ERROR_INVALID_HANDLE. Difference: a client end gives ERROR_NOT_SUPPORTED (its
/// process does not know the pipe's descriptor yet).
DWORD WINAPI GetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType,
                             SECURITY_INFORMATION SecurityInfo, PSID* ppsidOwner, PSID* ppsidGroup,
                             PACL* ppDacl, PACL* ppSacl,
                             PSECURITY_DESCRIPTOR* ppSecurityDescriptor);
/// Replaces the owner (a user SID or LocalSystem/Administrators for uid 0, else
/// ERROR_INVALID_OWNER), the group (a group SID, else ERROR_INVALID_PRIMARY_GROUP) and/or the
/// DACL (NULL: a NULL DACL) of the pipe. The handle needs WRITE_DAC (DACL) or WRITE_OWNER (owner,
/// group) in its open mode, else ERROR_ACCESS_DENIED. Difference from Windows: the change is
/// seen by the clients that connect to this server end afterwards, not yet by the pipe's other
/// instances nor by other processes.
DWORD WINAPI SetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType,
                             SECURITY_INFORMATION SecurityInfo, PSID psidOwner, PSID psidGroup,
                             PACL pDacl, PACL pSacl);

SLUICE_EXTERN_C_END

#endif /* SLUICE_WIN32_ACLAPI_H_ */
