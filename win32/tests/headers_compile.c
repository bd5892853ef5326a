/* Compiled (not run) as C99, C11, C++17 and C++20, each in ANSI and UNICODE builds, with
 * warnings as errors: the headers must be self-contained and clean in every mode. */
#include <windows.h>
#include <accctrl.h>
#include <aclapi.h>
#include <conio.h>
#include <consoleapi.h>
#include <interlockedapi.h>
#include <lmcons.h>
#include <process.h>
#include <sddl.h>
#include <strsafe.h>
#include <sysinfoapi.h>
#include <tchar.h>
#include <userenv.h>
#include <winerror.h>
#include <winnls.h>
#include <winsvc.h>

#ifdef __cplusplus
static_assert(sizeof(OVERLAPPED) == 32, "OVERLAPPED has the SDK layout");
static_assert(sizeof(SID) == 12 && sizeof(ACL) == 8 && sizeof(ACE_HEADER) == 4, "SDK layouts");
static_assert(sizeof(SECURITY_DESCRIPTOR) == 40 && sizeof(SECURITY_DESCRIPTOR_RELATIVE) == 20,
              "SDK layouts");
static_assert(sizeof(ACCESS_ALLOWED_ACE) == 12 && SECURITY_MAX_SID_SIZE == 68, "SDK layouts");
static_assert(sizeof(DWORD) == 4 && sizeof(LONG) == 4 && sizeof(BOOL) == 4, "32-bit types");
static_assert(sizeof(WIN32_FIND_DATAA) == 320 && sizeof(FILETIME) == 8, "SDK layouts");
#else
typedef char overlapped_is_32_bytes[sizeof(OVERLAPPED) == 32 ? 1 : -1];
typedef char dword_is_32_bits[sizeof(DWORD) == 4 ? 1 : -1];
typedef char descriptor_is_40_bytes[sizeof(SECURITY_DESCRIPTOR) == 40 ? 1 : -1];
typedef char sid_is_12_bytes[sizeof(SID) == 12 ? 1 : -1];
typedef char find_data_is_320_bytes[sizeof(WIN32_FIND_DATAA) == 320 ? 1 : -1];
#endif

static DWORD WINAPI worker(LPVOID parameter) {
  OVERLAPPED ov;
  ZeroMemory(&ov, sizeof ov);
  ov.Offset = 1;
  ov.Pointer = parameter;
  return HasOverlappedIoCompleted(&ov) ? (DWORD)ERROR_SUCCESS : (DWORD)WAIT_TIMEOUT;
}

/* The NULL-DACL idiom and an SDDL descriptor, as pipe servers write them. */
static BOOL security_use(SECURITY_ATTRIBUTES* sa, SECURITY_DESCRIPTOR* sd, HANDLE pipe) {
  SID_IDENTIFIER_AUTHORITY world = SECURITY_WORLD_SID_AUTHORITY;
  PSID everyone = NULL;
  PACL dacl = NULL;
  PSECURITY_DESCRIPTOR self_relative = NULL;
  LPTSTR text = NULL;
  DWORD size = SECURITY_MAX_SID_SIZE;
  BYTE sid[SECURITY_MAX_SID_SIZE];
  TCHAR name[64], domain[64];
  DWORD name_size = 64, domain_size = 64, session = 0;
  SID_NAME_USE use;
  BYTE acl_buffer[64];
  PACL acl = (PACL)acl_buffer;
  TOKEN_USER user;
  SECURITY_IMPERSONATION_LEVEL level = SecurityImpersonation;
  TOKEN_INFORMATION_CLASS info = TokenUser;
  if (!InitializeSecurityDescriptor(sd, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(sd, TRUE, NULL, FALSE))
    return FALSE;
  sa->nLength = sizeof *sa;
  sa->lpSecurityDescriptor = sd;
  if (!AllocateAndInitializeSid(&world, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0, 0, 0, &everyone))
    return FALSE;
  if (!InitializeAcl(acl, sizeof acl_buffer, ACL_REVISION) ||
      !AddAccessAllowedAceEx(acl, ACL_REVISION, 0, GENERIC_READ, everyone) ||
      !CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, sid, &size) ||
      !LookupAccountSid(NULL, sid, name, &name_size, domain, &domain_size, &use))
    return FALSE;
  FreeSid(everyone);
  user.User.Sid = sid;
  user.User.Attributes = 0;
  if (ConvertStringSecurityDescriptorToSecurityDescriptor(TEXT("D:(A;;GA;;;WD)"), SDDL_REVISION_1,
                                                          &self_relative, NULL) &&
      ConvertSecurityDescriptorToStringSecurityDescriptor(self_relative, SDDL_REVISION_1,
                                                          DACL_SECURITY_INFORMATION, &text, NULL))
    LocalFree(text);
  LocalFree(self_relative);
  if (GetSecurityInfo(pipe, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL,
                      &self_relative) == ERROR_SUCCESS)
    LocalFree(self_relative);
  (void)level;
  (void)info;
  return ProcessIdToSessionId(GetCurrentProcessId(), &session) && user.User.Sid != NULL;
}

/* A pipe listing, as pipelist-like programs write it. */
static DWORD pipe_listing(void) {
  WIN32_FIND_DATA data;
  DWORD instances = 0;
  HANDLE find = FindFirstFile(TEXT("\\\\.\\pipe\\*"), &data);
  if (find == INVALID_HANDLE_VALUE) return GetLastError();
  do {
    instances += data.nFileSizeLow + (data.dwFileAttributes & FILE_ATTRIBUTE_NORMAL);
  } while (FindNextFile(find, &data));
  FindClose(find);
  return instances;
}

int headers_compile_use(void);
int headers_compile_use(void) {
  TCHAR buffer[32];
  STARTUPINFO si;
  PROCESS_INFORMATION pi;
  SECURITY_ATTRIBUTES sa = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
  HANDLE pipe = CreateNamedPipe(TEXT("\\\\.\\pipe\\x"), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                                PIPE_UNLIMITED_INSTANCES, 512, 512, 0, &sa);
  LPOVERLAPPED_COMPLETION_ROUTINE routine = NULL;
  HRESULT hr = StringCchCopy(buffer, 32, _T("text"));
  ZeroMemory(&si, sizeof si);
  ZeroMemory(&pi, sizeof pi);
  si.dwFlags = STARTF_USESTDHANDLES;
  (void)routine;
  (void)worker;
  (void)security_use;
  (void)pipe_listing;
  if (FAILED(hr) || pipe == INVALID_HANDLE_VALUE) return MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT);
  return lstrlen(buffer) + (int)_tcslen(buffer);
}
