/* sluice — sddl.h: security descriptors and SIDs as strings (Security Descriptor Definition
 * Language), the subset pipe programs use.
 *
 * SIDs: "S-1-<authority>-<sub-authority>..." and the aliases WD (Everyone), AU (Authenticated
 * Users), SY (LocalSystem), BA (BUILTIN\Administrators), BU (BUILTIN\Users), CO (CREATOR
 * OWNER), CG (CREATOR GROUP), OW (OWNER RIGHTS), AN (ANONYMOUS LOGON), NU (NETWORK) and IU
 * (INTERACTIVE). Linux users and groups are S-1-22-1-<uid> and S-1-22-2-<gid>.
 *
 * Descriptors: "O:<sid>", "G:<sid>", "D:<flags>(<ace>)..." with flags P, AI, AR or
 * NO_ACCESS_CONTROL (a NULL DACL); ACEs "A" (allow) or "D" (deny), ACE flags OI CI NP IO ID,
 * rights as GA GR GW GX, FA FR FW FX, RC SD WD WO, CC DC LC SW RP WP DT LO CR, KA KR KW KX or
 * one hexadecimal number "0x...", no object GUIDs. An "S:" part is accepted and ignored.
 *
 * Errors (as Windows): an unknown revision ERROR_UNKNOWN_REVISION; a string that is not a
 * descriptor ERROR_INVALID_PARAMETER; an ACE this subset cannot read ERROR_INVALID_ACL; an
 * owner or group that is not a SID ERROR_INVALID_SID; a string that is not a SID (string SID
 * functions) ERROR_INVALID_SID. Results are freed with LocalFree.
 */
#ifndef SLUICE_WIN32_SDDL_H_
#define SLUICE_WIN32_SDDL_H_

#include <windows.h>

#define SDDL_REVISION_1 1
#define SDDL_REVISION SDDL_REVISION_1

SLUICE_EXTERN_C_BEGIN

BOOL WINAPI ConvertSidToStringSidA(PSID Sid, LPSTR* StringSid);
BOOL WINAPI ConvertSidToStringSidW(PSID Sid, LPWSTR* StringSid);
BOOL WINAPI ConvertStringSidToSidA(LPCSTR StringSid, PSID* Sid);
BOOL WINAPI ConvertStringSidToSidW(LPCWSTR StringSid, PSID* Sid);
/// Makes a self-relative descriptor (freed with LocalFree); SecurityDescriptorSize (optional)
/// receives its size in bytes.
BOOL WINAPI ConvertStringSecurityDescriptorToSecurityDescriptorA(
    LPCSTR StringSecurityDescriptor, DWORD StringSDRevision,
    PSECURITY_DESCRIPTOR* SecurityDescriptor, PULONG SecurityDescriptorSize);
BOOL WINAPI ConvertStringSecurityDescriptorToSecurityDescriptorW(
    LPCWSTR StringSecurityDescriptor, DWORD StringSDRevision,
    PSECURITY_DESCRIPTOR* SecurityDescriptor, PULONG SecurityDescriptorSize);
/// The parts SecurityInformation names (OWNER_, GROUP_, DACL_SECURITY_INFORMATION; SACL parts
/// are left out), absolute or self-relative. StringSecurityDescriptorLen (optional) receives the
/// length in characters including the terminating NUL.
BOOL WINAPI ConvertSecurityDescriptorToStringSecurityDescriptorA(
    PSECURITY_DESCRIPTOR SecurityDescriptor, DWORD RequestedStringSDRevision,
    SECURITY_INFORMATION SecurityInformation, LPSTR* StringSecurityDescriptor,
    PULONG StringSecurityDescriptorLen);
BOOL WINAPI ConvertSecurityDescriptorToStringSecurityDescriptorW(
    PSECURITY_DESCRIPTOR SecurityDescriptor, DWORD RequestedStringSDRevision,
    SECURITY_INFORMATION SecurityInformation, LPWSTR* StringSecurityDescriptor,
    PULONG StringSecurityDescriptorLen);

SLUICE_EXTERN_C_END

#ifdef UNICODE
#define ConvertSidToStringSid ConvertSidToStringSidW
#define ConvertStringSidToSid ConvertStringSidToSidW
#define ConvertStringSecurityDescriptorToSecurityDescriptor \
  ConvertStringSecurityDescriptorToSecurityDescriptorW
#define ConvertSecurityDescriptorToStringSecurityDescriptor \
  ConvertSecurityDescriptorToStringSecurityDescriptorW
#else
#define ConvertSidToStringSid ConvertSidToStringSidA
#define ConvertStringSidToSid ConvertStringSidToSidA
#define ConvertStringSecurityDescriptorToSecurityDescriptor \
  ConvertStringSecurityDescriptorToSecurityDescriptorA
#define ConvertSecurityDescriptorToStringSecurityDescriptor \
  ConvertSecurityDescriptorToStringSecurityDescriptorA
#endif

#endif /* SLUICE_WIN32_SDDL_H_ */
