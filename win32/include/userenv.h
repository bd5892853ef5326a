/* sluice — userenv.h: user profiles.
 *
 * A Linux user's profile directory is its home directory. GetUserProfileDirectory answers for a
 * token of the calling user (with $HOME); the other calls, which load profiles or build another
 * user's environment, fail cleanly with ERROR_CALL_NOT_IMPLEMENTED.
 * TODO(compat): another user's home directory (the passwd database's) is not looked up.
 */
#include <windows.h>

#ifndef SLUICE_WIN32_USERENV_H_
#define SLUICE_WIN32_USERENV_H_

#define PI_NOUI 1
#define PI_APPLYPOLICY 2

typedef struct _PROFILEINFOA {
  DWORD dwSize;
  DWORD dwFlags;
  LPSTR lpUserName;
  LPSTR lpProfilePath;
  LPSTR lpDefaultPath;
  LPSTR lpServerName;
  LPSTR lpPolicyPath;
  HANDLE hProfile;
} PROFILEINFOA, *LPPROFILEINFOA;
typedef struct _PROFILEINFOW {
  DWORD dwSize;
  DWORD dwFlags;
  LPWSTR lpUserName;
  LPWSTR lpProfilePath;
  LPWSTR lpDefaultPath;
  LPWSTR lpServerName;
  LPWSTR lpPolicyPath;
  HANDLE hProfile;
} PROFILEINFOW, *LPPROFILEINFOW;

SLUICE_EXTERN_C_BEGIN

/// The profile (home) directory of the token's user. *lpcchSize: the buffer's size in
/// characters; too small (or lpProfileDir NULL): FALSE, ERROR_INSUFFICIENT_BUFFER, *lpcchSize the
/// size needed with the NUL; on success it receives that size too. Not a token:
/// ERROR_INVALID_HANDLE. Another user's token, or no $HOME: ERROR_CALL_NOT_IMPLEMENTED.
BOOL WINAPI GetUserProfileDirectoryA(HANDLE hToken, LPSTR lpProfileDir, LPDWORD lpcchSize);
BOOL WINAPI GetUserProfileDirectoryW(HANDLE hToken, LPWSTR lpProfileDir, LPDWORD lpcchSize);
/// FALSE, ERROR_CALL_NOT_IMPLEMENTED.
BOOL WINAPI CreateEnvironmentBlock(LPVOID* lpEnvironment, HANDLE hToken, BOOL bInherit);
BOOL WINAPI DestroyEnvironmentBlock(LPVOID lpEnvironment);
BOOL WINAPI LoadUserProfileA(HANDLE hToken, LPPROFILEINFOA lpProfileInfo);
BOOL WINAPI LoadUserProfileW(HANDLE hToken, LPPROFILEINFOW lpProfileInfo);
BOOL WINAPI UnloadUserProfile(HANDLE hToken, HANDLE hProfile);

SLUICE_EXTERN_C_END

#ifdef UNICODE
#define GetUserProfileDirectory GetUserProfileDirectoryW
#define LoadUserProfile LoadUserProfileW
typedef PROFILEINFOW PROFILEINFO;
typedef LPPROFILEINFOW LPPROFILEINFO;
#else
#define GetUserProfileDirectory GetUserProfileDirectoryA
#define LoadUserProfile LoadUserProfileA
typedef PROFILEINFOA PROFILEINFO;
typedef LPPROFILEINFOA LPPROFILEINFO;
#endif

#endif /* SLUICE_WIN32_USERENV_H_ */
