/* sluice — windows.h: the Win32 personality of sluice (pipes, handles, threads, processes,
 * waits, memory, strings and errors), so that Windows pipe programs compile unmodified on Linux.
 *
 * Differences from Windows that a program can see (each is documented at its declaration):
 *  - WCHAR is wchar_t, which is 32 bits (UTF-32) on Linux, not 16 bits (UTF-16). W functions
 *    convert their strings to UTF-8 for the engine. Byte counts of wide strings therefore are
 *    (length + 1) * 4 in Unicode builds, where Windows has (length + 1) * 2.
 *  - WINAPI and the other calling-convention macros are empty (x86-64 has one convention).
 *  - Overlapped I/O works on named-pipe handles opened with FILE_FLAG_OVERLAPPED. Anonymous
 *    pipes, files and named-pipe handles without the flag are synchronous: an OVERLAPPED given
 *    to them is filled in when the call returns. CancelSynchronousIo interrupts a thread blocked
 *    in a named-pipe call (ReadFile, WriteFile, TransactNamedPipe, FlushFileBuffers,
 *    ConnectNamedPipe), not one blocked on an anonymous pipe, a file or a wait. Known
 *    differences: synchronous I/O does not make a pipe handle nonsignalled; the client end killed
 *    by DisconnectNamedPipe stays signalled; a thread running for a completion port still counts
 *    as running while it blocks outside sluice (see CreateIoCompletionPort below).
 *  - Inheritance (CreateProcess with bInheritHandles) and DuplicateHandle pass named-pipe ends,
 *    anonymous pipe ends, files and events (named or not) to other processes; thread, process
 *    and completion-port handles stay in their process.
 *  - Security descriptors apply to Linux users: a user SID is S-1-22-1-<uid>, a group SID
 *    S-1-22-2-<gid>, root is LocalSystem and Administrators (see "security descriptors" below).
 *
 * Every function sets the calling thread's last error on failure; an invalid or closed handle
 * gives ERROR_INVALID_HANDLE. All functions are thread-safe.
 */
#ifndef SLUICE_WIN32_WINDOWS_H_
#define SLUICE_WIN32_WINDOWS_H_

#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <wchar.h>

#ifdef __cplusplus
#define SLUICE_EXTERN_C extern "C"
#define SLUICE_EXTERN_C_BEGIN extern "C" {
#define SLUICE_EXTERN_C_END }
#else
#define SLUICE_EXTERN_C extern
#define SLUICE_EXTERN_C_BEGIN
#define SLUICE_EXTERN_C_END
#endif

#ifdef __GNUC__
#define SLUICE_ANON __extension__
#else
#define SLUICE_ANON
#endif

/* ---- calling conventions and annotations ------------------------------------------------ */
#define WINAPI
#define WINAPIV
#define APIENTRY
#define CALLBACK
#define WINBASEAPI
#define WINADVAPI
#define WINUSERAPI
#define NTAPI
#define STDAPI
#define FAR
#define NEAR
#define CONST const
#define IN
#define OUT
#define OPTIONAL
#ifndef VOID
#define VOID void
#endif
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#ifdef __GNUC__
#define DECLSPEC_NORETURN __attribute__((__noreturn__))
#else
#define DECLSPEC_NORETURN
#endif

/* ---- basic types (LP64: Windows' 32-bit `long` types are `int` here) -------------------- */
typedef int BOOL;
typedef BOOL* PBOOL;
typedef BOOL* LPBOOL;
typedef unsigned char BYTE;
typedef BYTE* PBYTE;
typedef BYTE* LPBYTE;
typedef BYTE BOOLEAN;
typedef unsigned short WORD;
typedef WORD* PWORD;
typedef WORD* LPWORD;
typedef unsigned int DWORD;
typedef DWORD* PDWORD;
typedef DWORD* LPDWORD;
typedef int INT;
typedef unsigned int UINT;
typedef int LONG;
typedef LONG* PLONG;
typedef LONG* LPLONG;
typedef unsigned int ULONG;
typedef ULONG* PULONG;
typedef short SHORT;
typedef unsigned short USHORT;
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG;
typedef unsigned long long DWORD64;
typedef unsigned long long DWORDLONG;
typedef unsigned int DWORD32;
typedef long INT_PTR;
typedef unsigned long UINT_PTR;
typedef long LONG_PTR;
typedef unsigned long ULONG_PTR;
typedef ULONG_PTR DWORD_PTR;
typedef ULONG_PTR SIZE_T;
typedef LONG_PTR SSIZE_T;
typedef ULONG_PTR* PULONG_PTR;
typedef SIZE_T* PSIZE_T;
typedef void* PVOID;
typedef void* LPVOID;
typedef const void* LPCVOID;
typedef void* HANDLE;
typedef HANDLE* PHANDLE;
typedef HANDLE* LPHANDLE;
typedef HANDLE HLOCAL;
typedef HANDLE HGLOBAL;
typedef HANDLE HINSTANCE;
typedef HANDLE HMODULE;
typedef HANDLE HWND;
typedef LONG HRESULT;
typedef char CHAR;
typedef unsigned char UCHAR;
typedef UCHAR* PUCHAR;
typedef CHAR* PCHAR;
typedef CHAR* LPSTR;
typedef CHAR* PSTR;
typedef const CHAR* LPCSTR;
typedef const CHAR* PCSTR;
/* 32 bits (UTF-32) on Linux; Windows' WCHAR is 16 bits (UTF-16). */
typedef wchar_t WCHAR;
typedef WCHAR* PWCHAR;
typedef WCHAR* LPWSTR;
typedef WCHAR* PWSTR;
typedef const WCHAR* LPCWSTR;
typedef const WCHAR* PCWSTR;
typedef WORD LANGID;

#ifdef UNICODE
typedef WCHAR TCHAR;
typedef WCHAR TBYTE;
#define __TEXT(quote) L##quote
#else
typedef char TCHAR;
typedef unsigned char TBYTE;
#define __TEXT(quote) quote
#endif
#define TEXT(quote) __TEXT(quote)
typedef TCHAR* PTCHAR;
typedef TCHAR* LPTSTR;
typedef TCHAR* PTSTR;
typedef const TCHAR* LPCTSTR;
typedef const TCHAR* PCTSTR;

#ifndef NULL
#define NULL ((void*)0)
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef MAX_PATH
#define MAX_PATH 260
#endif

typedef union _LARGE_INTEGER {
  SLUICE_ANON struct {
    DWORD LowPart;
    LONG HighPart;
  };
  struct {
    DWORD LowPart;
    LONG HighPart;
  } u;
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
  SLUICE_ANON struct {
    DWORD LowPart;
    DWORD HighPart;
  };
  struct {
    DWORD LowPart;
    DWORD HighPart;
  } u;
  ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* ---- macros ------------------------------------------------------------------------------ */
#define MAKEWORD(a, b) \
  ((WORD)(((BYTE)((DWORD_PTR)(a)&0xff)) | ((WORD)((BYTE)((DWORD_PTR)(b)&0xff))) << 8))
#define MAKELONG(a, b) \
  ((LONG)(((WORD)((DWORD_PTR)(a)&0xffff)) | ((DWORD)((WORD)((DWORD_PTR)(b)&0xffff))) << 16))
#define LOWORD(l) ((WORD)((DWORD_PTR)(l)&0xffff))
#define HIWORD(l) ((WORD)((DWORD_PTR)(l) >> 16))
#define LOBYTE(w) ((BYTE)((DWORD_PTR)(w)&0xff))
#define HIBYTE(w) ((BYTE)((DWORD_PTR)(w) >> 8))
#define MAKELANGID(p, s) ((((WORD)(s)) << 10) | (WORD)(p))
#define PRIMARYLANGID(lgid) ((WORD)(lgid)&0x3ff)
#define SUBLANGID(lgid) ((WORD)(lgid) >> 10)
#define LANG_NEUTRAL 0x00
#define LANG_ENGLISH 0x09
#define SUBLANG_NEUTRAL 0x00
#define SUBLANG_DEFAULT 0x01
#define SUBLANG_SYS_DEFAULT 0x02
#define SUBLANG_ENGLISH_US 0x01
#define S_OK ((HRESULT)0)
#define S_FALSE ((HRESULT)1)
#define E_FAIL ((HRESULT)0x80004005)
#define E_INVALIDARG ((HRESULT)0x80070057)
#define E_OUTOFMEMORY ((HRESULT)0x8007000E)
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#define HRESULT_FROM_WIN32(x) \
  ((HRESULT)(x) <= 0 ? ((HRESULT)(x)) : ((HRESULT)(((x)&0x0000FFFF) | (7 << 16) | 0x80000000)))
#define ZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define SecureZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define FillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define CopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define MoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlZeroMemory ZeroMemory
#define RtlCopyMemory CopyMemory
#define RtlMoveMemory MoveMemory
#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _countof(a) (sizeof(a) / sizeof((a)[0]))
#if !defined(min) && !defined(NOMINMAX)
#ifndef __cplusplus
#define min(a, b) (((a) < (b)) ? (a) : (b))
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#endif

/* ---- error codes (winerror.h) --------------------------------------------------------------- */
#define NO_ERROR 0L
#define ERROR_SUCCESS 0L
#define ERROR_INVALID_FUNCTION 1L
#define ERROR_FILE_NOT_FOUND 2L
#define ERROR_PATH_NOT_FOUND 3L
#define ERROR_TOO_MANY_OPEN_FILES 4L
#define ERROR_ACCESS_DENIED 5L
#define ERROR_INVALID_HANDLE 6L
#define ERROR_NOT_ENOUGH_MEMORY 8L
#define ERROR_INVALID_ACCESS 12L
#define ERROR_INVALID_DATA 13L
#define ERROR_OUTOFMEMORY 14L
#define ERROR_NO_MORE_FILES 18L
#define ERROR_BAD_LENGTH 24L
#define ERROR_WRITE_FAULT 29L
#define ERROR_READ_FAULT 30L
#define ERROR_GEN_FAILURE 31L
#define ERROR_SHARING_VIOLATION 32L
#define ERROR_HANDLE_EOF 38L
#define ERROR_HANDLE_DISK_FULL 39L
#define ERROR_NOT_SUPPORTED 50L
#define ERROR_BAD_NETPATH 53L
#define ERROR_FILE_EXISTS 80L
#define ERROR_INVALID_PARAMETER 87L
#define ERROR_BROKEN_PIPE 109L
#define ERROR_DISK_FULL 112L
#define ERROR_CALL_NOT_IMPLEMENTED 120L
#define ERROR_SEM_TIMEOUT 121L
#define ERROR_INSUFFICIENT_BUFFER 122L
#define ERROR_INVALID_NAME 123L
#define ERROR_MOD_NOT_FOUND 126L
#define ERROR_NEGATIVE_SEEK 131L
#define ERROR_DIR_NOT_EMPTY 145L
#define ERROR_BAD_PATHNAME 161L
#define ERROR_BUSY 170L
#define ERROR_ALREADY_EXISTS 183L
#define ERROR_BAD_EXE_FORMAT 193L
#define ERROR_ENVVAR_NOT_FOUND 203L
#define ERROR_FILENAME_EXCED_RANGE 206L
#define ERROR_PIPE_LOCAL 229L
#define ERROR_BAD_PIPE 230L
#define ERROR_PIPE_BUSY 231L
#define ERROR_NO_DATA 232L
#define ERROR_PIPE_NOT_CONNECTED 233L
#define ERROR_MORE_DATA 234L
#define ERROR_NO_WORK_DONE 235L
#define ERROR_DIRECTORY 267L
#define ERROR_MR_MID_NOT_FOUND 317L
#define ERROR_PIPE_CONNECTED 535L
#define ERROR_PIPE_LISTENING 536L
#define ERROR_HANDLES_CLOSED 676L
#define ERROR_ABANDONED_WAIT_0 735L
#define ERROR_OPERATION_ABORTED 995L
#define ERROR_IO_INCOMPLETE 996L
#define ERROR_IO_PENDING 997L
#define ERROR_NOACCESS 998L
#define ERROR_NO_TOKEN 1008L
#define ERROR_INVALID_FLAGS 1004L
#define ERROR_NOT_FOUND 1168L
#define ERROR_UNKNOWN_REVISION 1305L
#define ERROR_REVISION_MISMATCH 1306L
#define ERROR_INVALID_OWNER 1307L
#define ERROR_INVALID_PRIMARY_GROUP 1308L
#define ERROR_PRIVILEGE_NOT_HELD 1314L
#define ERROR_NONE_MAPPED 1332L
#define ERROR_INVALID_ACL 1336L
#define ERROR_INVALID_SID 1337L
#define ERROR_INVALID_SECURITY_DESCR 1338L
#define ERROR_ALLOTTED_SPACE_EXCEEDED 1344L
#define ERROR_BAD_IMPERSONATION_LEVEL 1346L
#define ERROR_CANT_OPEN_ANONYMOUS 1347L
#define ERROR_BAD_DESCRIPTOR_FORMAT 1361L
#define ERROR_CANNOT_IMPERSONATE 1368L
#define ERROR_TIMEOUT 1460L
#define ERROR_INVALID_USER_BUFFER 1784L
#define ERROR_RESOURCE_TYPE_NOT_FOUND 1813L
#define ERROR_NOT_ENOUGH_QUOTA 1816L

/* ---- NT status values (OVERLAPPED.Internal) ------------------------------------------------- */
#define STATUS_WAIT_0 ((DWORD)0x00000000L)
#define STATUS_SUCCESS ((DWORD)0x00000000L)
#define STATUS_ABANDONED_WAIT_0 ((DWORD)0x00000080L)
#define STATUS_USER_APC ((DWORD)0x000000C0L)
#define STATUS_TIMEOUT ((DWORD)0x00000102L)
#define STATUS_PENDING ((DWORD)0x00000103L)
#define STATUS_BUFFER_OVERFLOW ((DWORD)0x80000005L)
#define STATUS_CANCELLED ((DWORD)0xC0000120L)
#define STATUS_PIPE_BROKEN ((DWORD)0xC000014BL)
#define STATUS_PIPE_DISCONNECTED ((DWORD)0xC00000B0L)
#define STATUS_PIPE_CLOSING ((DWORD)0xC00000B1L)
#define STATUS_PIPE_CONNECTED ((DWORD)0xC00000B2L)
#define STATUS_PIPE_LISTENING ((DWORD)0xC00000B3L)
#define STATUS_INVALID_PIPE_STATE ((DWORD)0xC00000ADL)
#define STATUS_PIPE_BUSY ((DWORD)0xC00000AEL)
#define STATUS_PIPE_NOT_AVAILABLE ((DWORD)0xC00000ACL)
#define STATUS_INSTANCE_NOT_AVAILABLE ((DWORD)0xC00000ABL)
#define STATUS_PIPE_EMPTY ((DWORD)0xC00000D9L)
#define STATUS_ILLEGAL_FUNCTION ((DWORD)0xC00000AFL)
#define STATUS_CANNOT_IMPERSONATE ((DWORD)0xC000010DL)
#define STILL_ACTIVE STATUS_PENDING

/* ---- waits ---------------------------------------------------------------------------------- */
#define INFINITE 0xFFFFFFFF
#define WAIT_OBJECT_0 ((STATUS_WAIT_0) + 0)
#define WAIT_ABANDONED ((STATUS_ABANDONED_WAIT_0) + 0)
#define WAIT_ABANDONED_0 ((STATUS_ABANDONED_WAIT_0) + 0)
#define WAIT_IO_COMPLETION STATUS_USER_APC
#define WAIT_TIMEOUT 258L
#define WAIT_FAILED ((DWORD)0xFFFFFFFF)
#define MAXIMUM_WAIT_OBJECTS 64

/* ---- access rights and file flags ----------------------------------------------------------- */
#define DELETE 0x00010000L
#define READ_CONTROL 0x00020000L
#define WRITE_DAC 0x00040000L
#define WRITE_OWNER 0x00080000L
#define SYNCHRONIZE 0x00100000L
#define STANDARD_RIGHTS_REQUIRED 0x000F0000L
#define STANDARD_RIGHTS_READ READ_CONTROL
#define STANDARD_RIGHTS_WRITE READ_CONTROL
#define STANDARD_RIGHTS_EXECUTE READ_CONTROL
#define STANDARD_RIGHTS_ALL 0x001F0000L
#define ACCESS_SYSTEM_SECURITY 0x01000000L
#define MAXIMUM_ALLOWED 0x02000000L
#define GENERIC_READ 0x80000000L
#define GENERIC_WRITE 0x40000000L
#define GENERIC_EXECUTE 0x20000000L
#define GENERIC_ALL 0x10000000L
#define FILE_READ_DATA 0x0001
#define FILE_LIST_DIRECTORY 0x0001
#define FILE_WRITE_DATA 0x0002
#define FILE_ADD_FILE 0x0002
#define FILE_APPEND_DATA 0x0004
#define FILE_ADD_SUBDIRECTORY 0x0004
#define FILE_CREATE_PIPE_INSTANCE 0x0004
#define FILE_READ_EA 0x0008
#define FILE_WRITE_EA 0x0010
#define FILE_EXECUTE 0x0020
#define FILE_READ_ATTRIBUTES 0x0080
#define FILE_WRITE_ATTRIBUTES 0x0100
#define FILE_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF)
#define FILE_GENERIC_READ \
  (STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE)
#define FILE_GENERIC_WRITE                                                           \
  (STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | \
   FILE_APPEND_DATA | SYNCHRONIZE)
#define FILE_GENERIC_EXECUTE \
  (STANDARD_RIGHTS_EXECUTE | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE)
#define FILE_SHARE_READ 0x00000001
#define FILE_SHARE_WRITE 0x00000002
#define FILE_SHARE_DELETE 0x00000004
#define CREATE_NEW 1
#define CREATE_ALWAYS 2
#define OPEN_EXISTING 3
#define OPEN_ALWAYS 4
#define TRUNCATE_EXISTING 5
#define FILE_ATTRIBUTE_READONLY 0x00000001
#define FILE_ATTRIBUTE_HIDDEN 0x00000002
#define FILE_ATTRIBUTE_SYSTEM 0x00000004
#define FILE_ATTRIBUTE_DIRECTORY 0x00000010
#define FILE_ATTRIBUTE_ARCHIVE 0x00000020
#define FILE_ATTRIBUTE_NORMAL 0x00000080
#define FILE_ATTRIBUTE_TEMPORARY 0x00000100
#define FILE_FLAG_WRITE_THROUGH 0x80000000
#define FILE_FLAG_OVERLAPPED 0x40000000
#define FILE_FLAG_NO_BUFFERING 0x20000000
#define FILE_FLAG_RANDOM_ACCESS 0x10000000
#define FILE_FLAG_SEQUENTIAL_SCAN 0x08000000
#define FILE_FLAG_DELETE_ON_CLOSE 0x04000000
#define FILE_FLAG_BACKUP_SEMANTICS 0x02000000
#define FILE_FLAG_POSIX_SEMANTICS 0x01000000
#define FILE_FLAG_OPEN_REPARSE_POINT 0x00200000
#define FILE_FLAG_OPEN_NO_RECALL 0x00100000
#define FILE_FLAG_FIRST_PIPE_INSTANCE 0x00080000
#define SECURITY_ANONYMOUS (0 << 16)
#define SECURITY_IDENTIFICATION (1 << 16)
#define SECURITY_IMPERSONATION (2 << 16)
#define SECURITY_DELEGATION (3 << 16)
#define SECURITY_CONTEXT_TRACKING 0x00040000
#define SECURITY_EFFECTIVE_ONLY 0x00080000
#define SECURITY_SQOS_PRESENT 0x00100000
#define SECURITY_VALID_SQOS_FLAGS 0x001F0000
#define FILE_TYPE_UNKNOWN 0x0000
#define FILE_TYPE_DISK 0x0001
#define FILE_TYPE_CHAR 0x0002
#define FILE_TYPE_PIPE 0x0003
#define FILE_TYPE_REMOTE 0x8000
#define FILE_BEGIN 0
#define FILE_CURRENT 1
#define FILE_END 2
#define INVALID_SET_FILE_POINTER ((DWORD)-1)
#define INVALID_FILE_SIZE ((DWORD)0xFFFFFFFF)

/* ---- pipes ---------------------------------------------------------------------------------- */
#define PIPE_ACCESS_INBOUND 0x00000001
#define PIPE_ACCESS_OUTBOUND 0x00000002
#define PIPE_ACCESS_DUPLEX 0x00000003
#define PIPE_CLIENT_END 0x00000000
#define PIPE_SERVER_END 0x00000001
#define PIPE_WAIT 0x00000000
#define PIPE_NOWAIT 0x00000001
#define PIPE_READMODE_BYTE 0x00000000
#define PIPE_READMODE_MESSAGE 0x00000002
#define PIPE_TYPE_BYTE 0x00000000
#define PIPE_TYPE_MESSAGE 0x00000004
#define PIPE_ACCEPT_REMOTE_CLIENTS 0x00000000
#define PIPE_REJECT_REMOTE_CLIENTS 0x00000008
#define PIPE_UNLIMITED_INSTANCES 255
#define NMPWAIT_USE_DEFAULT_WAIT 0x00000000
#define NMPWAIT_NOWAIT 0x00000001
#define NMPWAIT_WAIT_FOREVER 0xffffffff

/* ---- handles -------------------------------------------------------------------------------- */
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#define HANDLE_FLAG_INHERIT 0x00000001
#define HANDLE_FLAG_PROTECT_FROM_CLOSE 0x00000002
#define DUPLICATE_CLOSE_SOURCE 0x00000001
#define DUPLICATE_SAME_ACCESS 0x00000002
#define STD_INPUT_HANDLE ((DWORD)-10)
#define STD_OUTPUT_HANDLE ((DWORD)-11)
#define STD_ERROR_HANDLE ((DWORD)-12)

/* ---- processes and threads ------------------------------------------------------------------ */
#define STARTF_USESHOWWINDOW 0x00000001
#define STARTF_USESIZE 0x00000002
#define STARTF_USEPOSITION 0x00000004
#define STARTF_USECOUNTCHARS 0x00000008
#define STARTF_USEFILLATTRIBUTE 0x00000010
#define STARTF_RUNFULLSCREEN 0x00000020
#define STARTF_FORCEONFEEDBACK 0x00000040
#define STARTF_FORCEOFFFEEDBACK 0x00000080
#define STARTF_USESTDHANDLES 0x00000100
#define DEBUG_PROCESS 0x00000001
#define DEBUG_ONLY_THIS_PROCESS 0x00000002
#define CREATE_SUSPENDED 0x00000004
#define DETACHED_PROCESS 0x00000008
#define CREATE_NEW_CONSOLE 0x00000010
#define NORMAL_PRIORITY_CLASS 0x00000020
#define CREATE_NEW_PROCESS_GROUP 0x00000200
#define CREATE_UNICODE_ENVIRONMENT 0x00000400
#define CREATE_NO_WINDOW 0x08000000
#define STACK_SIZE_PARAM_IS_A_RESERVATION 0x00010000
#define PROCESS_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)
#define THREAD_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)
#define EVENT_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3)
#define EVENT_MODIFY_STATE 0x0002
#define CREATE_EVENT_MANUAL_RESET 0x00000001
#define CREATE_EVENT_INITIAL_SET 0x00000002

/* ---- memory --------------------------------------------------------------------------------- */
#define HEAP_NO_SERIALIZE 0x00000001
#define HEAP_GENERATE_EXCEPTIONS 0x00000004
#define HEAP_ZERO_MEMORY 0x00000008
#define GMEM_FIXED 0x0000
#define GMEM_MOVEABLE 0x0002
#define GMEM_ZEROINIT 0x0040
#define GPTR (GMEM_FIXED | GMEM_ZEROINIT)
#define GHND (GMEM_MOVEABLE | GMEM_ZEROINIT)
#define LMEM_FIXED 0x0000
#define LMEM_MOVEABLE 0x0002
#define LMEM_ZEROINIT 0x0040
#define LPTR (LMEM_FIXED | LMEM_ZEROINIT)
#define LHND (LMEM_MOVEABLE | LMEM_ZEROINIT)

/* ---- FormatMessage and MessageBox ----------------------------------------------------------- */
#define FORMAT_MESSAGE_ALLOCATE_BUFFER 0x00000100
#define FORMAT_MESSAGE_IGNORE_INSERTS 0x00000200
#define FORMAT_MESSAGE_FROM_STRING 0x00000400
#define FORMAT_MESSAGE_FROM_HMODULE 0x00000800
#define FORMAT_MESSAGE_FROM_SYSTEM 0x00001000
#define FORMAT_MESSAGE_ARGUMENT_ARRAY 0x00002000
#define FORMAT_MESSAGE_MAX_WIDTH_MASK 0x000000FF
#define MB_OK 0x00000000L
#define MB_OKCANCEL 0x00000001L
#define MB_YESNO 0x00000004L
#define MB_ICONERROR 0x00000010L
#define MB_ICONHAND 0x00000010L
#define MB_ICONWARNING 0x00000030L
#define MB_ICONINFORMATION 0x00000040L
#define IDOK 1
#define IDCANCEL 2
#define IDYES 6
#define IDNO 7

/* ---- structures ----------------------------------------------------------------------------- */
typedef struct _SECURITY_ATTRIBUTES {
  DWORD nLength;
  LPVOID lpSecurityDescriptor;
  BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/* ---- security types (winnt.h), in the SDK's binary layouts ----------------------------------
 * Programs build these structures by hand and use sizeof, so the layouts are Windows' (x64):
 * SID 12 bytes with one sub-authority, ACL 8, ACE_HEADER 4, SECURITY_DESCRIPTOR 40 (absolute,
 * pointers), SECURITY_DESCRIPTOR_RELATIVE 20 (offsets). */
#define ANYSIZE_ARRAY 1
typedef DWORD ACCESS_MASK;
typedef ACCESS_MASK* PACCESS_MASK;

typedef struct _SID_IDENTIFIER_AUTHORITY {
  BYTE Value[6];
} SID_IDENTIFIER_AUTHORITY, *PSID_IDENTIFIER_AUTHORITY;

typedef struct _SID {
  BYTE Revision;
  BYTE SubAuthorityCount;
  SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
  DWORD SubAuthority[ANYSIZE_ARRAY];
} SID, *PISID;
typedef PVOID PSID;

#define SID_REVISION 1
#define SID_MAX_SUB_AUTHORITIES 15
#define SID_RECOMMENDED_SUB_AUTHORITIES 1
#define SECURITY_MAX_SID_SIZE \
  (sizeof(SID) - sizeof(DWORD) + (SID_MAX_SUB_AUTHORITIES * sizeof(DWORD)))
/* Initialisers of a SID_IDENTIFIER_AUTHORITY (braced for its array, so that C builds with
 * -Wmissing-braces accept `SID_IDENTIFIER_AUTHORITY a = SECURITY_NT_AUTHORITY;`). */
#define SECURITY_NULL_SID_AUTHORITY \
  {                                 \
    { 0, 0, 0, 0, 0, 0 }            \
  }
#define SECURITY_WORLD_SID_AUTHORITY \
  {                                  \
    { 0, 0, 0, 0, 0, 1 }             \
  }
#define SECURITY_LOCAL_SID_AUTHORITY \
  {                                  \
    { 0, 0, 0, 0, 0, 2 }             \
  }
#define SECURITY_CREATOR_SID_AUTHORITY \
  {                                    \
    { 0, 0, 0, 0, 0, 3 }               \
  }
#define SECURITY_NT_AUTHORITY \
  {                           \
    { 0, 0, 0, 0, 0, 5 }      \
  }
#define SECURITY_NULL_RID 0x00000000L
#define SECURITY_WORLD_RID 0x00000000L
#define SECURITY_LOCAL_RID 0x00000000L
#define SECURITY_CREATOR_OWNER_RID 0x00000000L
#define SECURITY_CREATOR_GROUP_RID 0x00000001L
#define SECURITY_CREATOR_OWNER_RIGHTS_RID 0x00000004L
#define SECURITY_NETWORK_RID 0x00000002L
#define SECURITY_INTERACTIVE_RID 0x00000004L
#define SECURITY_LOGON_IDS_RID 0x00000005L
#define SECURITY_LOGON_IDS_RID_COUNT 3L
#define SECURITY_ANONYMOUS_LOGON_RID 0x00000007L
#define SECURITY_AUTHENTICATED_USER_RID 0x0000000BL
#define SECURITY_LOCAL_SYSTEM_RID 0x00000012L
#define SECURITY_BUILTIN_DOMAIN_RID 0x00000020L
#define DOMAIN_ALIAS_RID_ADMINS 0x00000220L
#define DOMAIN_ALIAS_RID_USERS 0x00000221L
#define DOMAIN_ALIAS_RID_GUESTS 0x00000222L

typedef enum _SID_NAME_USE {
  SidTypeUser = 1,
  SidTypeGroup,
  SidTypeDomain,
  SidTypeAlias,
  SidTypeWellKnownGroup,
  SidTypeDeletedAccount,
  SidTypeInvalid,
  SidTypeUnknown,
  SidTypeComputer,
  SidTypeLabel,
  SidTypeLogonSession
} SID_NAME_USE,
    *PSID_NAME_USE;

/* The values CreateWellKnownSid takes (the start of Windows' list, and OWNER RIGHTS). */
typedef enum _WELL_KNOWN_SID_TYPE {
  WinNullSid = 0,
  WinWorldSid = 1,
  WinLocalSid = 2,
  WinCreatorOwnerSid = 3,
  WinCreatorGroupSid = 4,
  WinCreatorOwnerServerSid = 5,
  WinCreatorGroupServerSid = 6,
  WinNtAuthoritySid = 7,
  WinDialupSid = 8,
  WinNetworkSid = 9,
  WinBatchSid = 10,
  WinInteractiveSid = 11,
  WinServiceSid = 12,
  WinAnonymousSid = 13,
  WinProxySid = 14,
  WinEnterpriseControllersSid = 15,
  WinSelfSid = 16,
  WinAuthenticatedUserSid = 17,
  WinRestrictedCodeSid = 18,
  WinTerminalServerSid = 19,
  WinRemoteLogonIdSid = 20,
  WinLogonIdsSid = 21,
  WinLocalSystemSid = 22,
  WinLocalServiceSid = 23,
  WinNetworkServiceSid = 24,
  WinBuiltinDomainSid = 25,
  WinBuiltinAdministratorsSid = 26,
  WinBuiltinUsersSid = 27,
  WinBuiltinGuestsSid = 28,
  WinCreatorOwnerRightsSid = 71
} WELL_KNOWN_SID_TYPE;

typedef struct _ACL {
  BYTE AclRevision;
  BYTE Sbz1;
  WORD AclSize;
  WORD AceCount;
  WORD Sbz2;
} ACL, *PACL;
#define ACL_REVISION 2
#define ACL_REVISION_DS 4
#define ACL_REVISION2 2
#define ACL_REVISION4 4
#define MIN_ACL_REVISION ACL_REVISION2
#define MAX_ACL_REVISION ACL_REVISION4

typedef struct _ACE_HEADER {
  BYTE AceType;
  BYTE AceFlags;
  WORD AceSize;
} ACE_HEADER, *PACE_HEADER;
#define ACCESS_ALLOWED_ACE_TYPE 0x0
#define ACCESS_DENIED_ACE_TYPE 0x1
#define SYSTEM_AUDIT_ACE_TYPE 0x2
#define SYSTEM_ALARM_ACE_TYPE 0x3
#define SYSTEM_MANDATORY_LABEL_ACE_TYPE 0x11
#define OBJECT_INHERIT_ACE 0x1
#define CONTAINER_INHERIT_ACE 0x2
#define NO_PROPAGATE_INHERIT_ACE 0x4
#define INHERIT_ONLY_ACE 0x8
#define INHERITED_ACE 0x10
#define VALID_INHERIT_FLAGS 0x1F
#define SUCCESSFUL_ACCESS_ACE_FLAG 0x40
#define FAILED_ACCESS_ACE_FLAG 0x80

/* SidStart is the first DWORD of the SID that fills the rest of the ACE. */
typedef struct _ACCESS_ALLOWED_ACE {
  ACE_HEADER Header;
  ACCESS_MASK Mask;
  DWORD SidStart;
} ACCESS_ALLOWED_ACE, *PACCESS_ALLOWED_ACE;
typedef struct _ACCESS_DENIED_ACE {
  ACE_HEADER Header;
  ACCESS_MASK Mask;
  DWORD SidStart;
} ACCESS_DENIED_ACE, *PACCESS_DENIED_ACE;

typedef enum _ACL_INFORMATION_CLASS {
  AclRevisionInformation = 1,
  AclSizeInformation
} ACL_INFORMATION_CLASS;
typedef struct _ACL_REVISION_INFORMATION {
  DWORD AclRevision;
} ACL_REVISION_INFORMATION, *PACL_REVISION_INFORMATION;
typedef struct _ACL_SIZE_INFORMATION {
  DWORD AceCount;
  DWORD AclBytesInUse;
  DWORD AclBytesFree;
} ACL_SIZE_INFORMATION, *PACL_SIZE_INFORMATION;

typedef WORD SECURITY_DESCRIPTOR_CONTROL, *PSECURITY_DESCRIPTOR_CONTROL;
#define SE_OWNER_DEFAULTED 0x0001
#define SE_GROUP_DEFAULTED 0x0002
#define SE_DACL_PRESENT 0x0004
#define SE_DACL_DEFAULTED 0x0008
#define SE_SACL_PRESENT 0x0010
#define SE_SACL_DEFAULTED 0x0020
#define SE_DACL_AUTO_INHERIT_REQ 0x0100
#define SE_SACL_AUTO_INHERIT_REQ 0x0200
#define SE_DACL_AUTO_INHERITED 0x0400
#define SE_SACL_AUTO_INHERITED 0x0800
#define SE_DACL_PROTECTED 0x1000
#define SE_SACL_PROTECTED 0x2000
#define SE_RM_CONTROL_VALID 0x4000
#define SE_SELF_RELATIVE 0x8000

/* Absolute form: what InitializeSecurityDescriptor sets up and the Set* functions fill in. */
typedef struct _SECURITY_DESCRIPTOR {
  BYTE Revision;
  BYTE Sbz1;
  SECURITY_DESCRIPTOR_CONTROL Control;
  PSID Owner;
  PSID Group;
  PACL Sacl;
  PACL Dacl;
} SECURITY_DESCRIPTOR, *PISECURITY_DESCRIPTOR;
/* Self-relative form (SE_SELF_RELATIVE): offsets from the start, 0 for none. */
typedef struct _SECURITY_DESCRIPTOR_RELATIVE {
  BYTE Revision;
  BYTE Sbz1;
  SECURITY_DESCRIPTOR_CONTROL Control;
  DWORD Owner;
  DWORD Group;
  DWORD Sacl;
  DWORD Dacl;
} SECURITY_DESCRIPTOR_RELATIVE, *PISECURITY_DESCRIPTOR_RELATIVE;
typedef PVOID PSECURITY_DESCRIPTOR;
#define SECURITY_DESCRIPTOR_REVISION 1
#define SECURITY_DESCRIPTOR_REVISION1 1
#define SECURITY_DESCRIPTOR_MIN_LENGTH (sizeof(SECURITY_DESCRIPTOR))

typedef DWORD SECURITY_INFORMATION, *PSECURITY_INFORMATION;
#define OWNER_SECURITY_INFORMATION 0x00000001L
#define GROUP_SECURITY_INFORMATION 0x00000002L
#define DACL_SECURITY_INFORMATION 0x00000004L
#define SACL_SECURITY_INFORMATION 0x00000008L
#define LABEL_SECURITY_INFORMATION 0x00000010L
#define PROTECTED_DACL_SECURITY_INFORMATION 0x80000000L
#define PROTECTED_SACL_SECURITY_INFORMATION 0x40000000L
#define UNPROTECTED_DACL_SECURITY_INFORMATION 0x20000000L
#define UNPROTECTED_SACL_SECURITY_INFORMATION 0x10000000L

/* Token types, for the token functions (OpenProcessToken, GetTokenInformation). */
typedef struct _SID_AND_ATTRIBUTES {
  PSID Sid;
  DWORD Attributes;
} SID_AND_ATTRIBUTES, *PSID_AND_ATTRIBUTES;
typedef struct _TOKEN_USER {
  SID_AND_ATTRIBUTES User;
} TOKEN_USER, *PTOKEN_USER;
typedef struct _TOKEN_GROUPS {
  DWORD GroupCount;
  SID_AND_ATTRIBUTES Groups[ANYSIZE_ARRAY];
} TOKEN_GROUPS, *PTOKEN_GROUPS;
typedef struct _TOKEN_OWNER {
  PSID Owner;
} TOKEN_OWNER, *PTOKEN_OWNER;
typedef struct _TOKEN_PRIMARY_GROUP {
  PSID PrimaryGroup;
} TOKEN_PRIMARY_GROUP, *PTOKEN_PRIMARY_GROUP;
typedef struct _TOKEN_DEFAULT_DACL {
  PACL DefaultDacl;
} TOKEN_DEFAULT_DACL, *PTOKEN_DEFAULT_DACL;
#define SE_GROUP_MANDATORY 0x00000001L
#define SE_GROUP_ENABLED_BY_DEFAULT 0x00000002L
#define SE_GROUP_ENABLED 0x00000004L
#define SE_GROUP_OWNER 0x00000008L
#define SE_GROUP_USE_FOR_DENY_ONLY 0x00000010L
#define SE_GROUP_LOGON_ID 0xC0000000L
typedef enum _SECURITY_IMPERSONATION_LEVEL {
  SecurityAnonymous,
  SecurityIdentification,
  SecurityImpersonation,
  SecurityDelegation
} SECURITY_IMPERSONATION_LEVEL,
    *PSECURITY_IMPERSONATION_LEVEL;
typedef enum _TOKEN_TYPE { TokenPrimary = 1, TokenImpersonation } TOKEN_TYPE, *PTOKEN_TYPE;
typedef enum _TOKEN_INFORMATION_CLASS {
  TokenUser = 1,
  TokenGroups,
  TokenPrivileges,
  TokenOwner,
  TokenPrimaryGroup,
  TokenDefaultDacl,
  TokenSource,
  TokenType,
  TokenImpersonationLevel,
  TokenStatistics,
  TokenRestrictedSids,
  TokenSessionId,
  TokenGroupsAndPrivileges,
  TokenSessionReference,
  TokenSandBoxInert,
  TokenAuditPolicy,
  TokenOrigin,
  TokenElevationType,
  TokenLinkedToken,
  TokenElevation,
  TokenHasRestrictions,
  TokenAccessInformation,
  TokenVirtualizationAllowed,
  TokenVirtualizationEnabled,
  TokenIntegrityLevel,
  TokenUIAccess,
  TokenMandatoryPolicy,
  TokenLogonSid,
  MaxTokenInfoClass
} TOKEN_INFORMATION_CLASS,
    *PTOKEN_INFORMATION_CLASS;

/* The SDK layout (32 bytes on x86-64): programs read Internal (an NT status) and InternalHigh
 * (the byte count) directly. */
typedef struct _OVERLAPPED {
  ULONG_PTR Internal;
  ULONG_PTR InternalHigh;
  SLUICE_ANON union {
    SLUICE_ANON struct {
      DWORD Offset;
      DWORD OffsetHigh;
    };
    PVOID Pointer;
  };
  HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

typedef struct _OVERLAPPED_ENTRY {
  ULONG_PTR lpCompletionKey;
  LPOVERLAPPED lpOverlapped;
  ULONG_PTR Internal;
  DWORD dwNumberOfBytesTransferred;
} OVERLAPPED_ENTRY, *LPOVERLAPPED_ENTRY;

#define HasOverlappedIoCompleted(lpOverlapped) (((DWORD)(lpOverlapped)->Internal) != STATUS_PENDING)

typedef VOID(WINAPI* LPOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwErrorCode,
                                                      DWORD dwNumberOfBytesTransfered,
                                                      LPOVERLAPPED lpOverlapped);
typedef DWORD(WINAPI* PTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
typedef PTHREAD_START_ROUTINE LPTHREAD_START_ROUTINE;
typedef VOID(NTAPI* PAPCFUNC)(ULONG_PTR Parameter);

typedef struct _STARTUPINFOA {
  DWORD cb;
  LPSTR lpReserved;
  LPSTR lpDesktop;
  LPSTR lpTitle;
  DWORD dwX;
  DWORD dwY;
  DWORD dwXSize;
  DWORD dwYSize;
  DWORD dwXCountChars;
  DWORD dwYCountChars;
  DWORD dwFillAttribute;
  DWORD dwFlags;
  WORD wShowWindow;
  WORD cbReserved2;
  LPBYTE lpReserved2;
  HANDLE hStdInput;
  HANDLE hStdOutput;
  HANDLE hStdError;
} STARTUPINFOA, *LPSTARTUPINFOA;

typedef struct _STARTUPINFOW {
  DWORD cb;
  LPWSTR lpReserved;
  LPWSTR lpDesktop;
  LPWSTR lpTitle;
  DWORD dwX;
  DWORD dwY;
  DWORD dwXSize;
  DWORD dwYSize;
  DWORD dwXCountChars;
  DWORD dwYCountChars;
  DWORD dwFillAttribute;
  DWORD dwFlags;
  WORD wShowWindow;
  WORD cbReserved2;
  LPBYTE lpReserved2;
  HANDLE hStdInput;
  HANDLE hStdOutput;
  HANDLE hStdError;
} STARTUPINFOW, *LPSTARTUPINFOW;

typedef struct _PROCESS_INFORMATION {
  HANDLE hProcess;
  HANDLE hThread;
  DWORD dwProcessId;
  DWORD dwThreadId;
} PROCESS_INFORMATION, *PPROCESS_INFORMATION, *LPPROCESS_INFORMATION;

SLUICE_EXTERN_C_BEGIN

/* ---- errors --------------------------------------------------------------------------------- */
/// The calling thread's last error (thread-local; starts at 0).
DWORD WINAPI GetLastError(void);
VOID WINAPI SetLastError(DWORD dwErrCode);

/* ---- handles (handleapi.h) ------------------------------------------------------------------ */
/// Closes one handle; an object (pipe end, file, event, ...) goes away with its last handle.
/// FALSE + ERROR_INVALID_HANDLE for a closed, unknown or pseudo handle.
BOOL WINAPI CloseHandle(HANDLE hObject);
/// The source process must be this one (GetCurrentProcess(); another: ERROR_NOT_SUPPORTED). The
/// target is this process or a child's process handle from CreateProcess: the object then goes
/// to that process's handle inbox, which must belong to a sluice program of the same user
/// (ERROR_NOT_SUPPORTED when it has none after 5 s, ERROR_ACCESS_DENIED when the inbox is not
/// that process's or it has exited); named-pipe ends, anonymous pipe ends, files and events can
/// travel, other objects give ERROR_NOT_SUPPORTED. dwDesiredAccess is ignored (every duplicate
/// gets the source's access).
BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
                            HANDLE hTargetProcessHandle, LPHANDLE lpTargetHandle,
                            DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions);
BOOL WINAPI GetHandleInformation(HANDLE hObject, LPDWORD lpdwFlags);
BOOL WINAPI SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags);
/// FILE_TYPE_PIPE for pipe ends (named and anonymous) and for standard handles that are pipes;
/// FILE_TYPE_DISK for files, FILE_TYPE_CHAR for terminals; FILE_TYPE_UNKNOWN + last error
/// otherwise.
DWORD WINAPI GetFileType(HANDLE hFile);
/// The pseudo handle (HANDLE)-1 (equal to INVALID_HANDLE_VALUE, as on Windows).
HANDLE WINAPI GetCurrentProcess(void);
DWORD WINAPI GetCurrentProcessId(void);
/// The pseudo handle (HANDLE)-2.
HANDLE WINAPI GetCurrentThread(void);
DWORD WINAPI GetCurrentThreadId(void);
/// Standard handles are real: at start they are handles on fds 0, 1 and 2 (ReadFile on the
/// input handle reads fd 0). SetStdHandle replaces the process's standard handle (and what a
/// child started with bInheritHandles but without STARTF_USESTDHANDLES receives); it does not
/// redirect this process's fds 0/1/2.
HANDLE WINAPI GetStdHandle(DWORD nStdHandle);
BOOL WINAPI SetStdHandle(DWORD nStdHandle, HANDLE hHandle);

/* ---- pipes (namedpipeapi.h, winbase.h) ------------------------------------------------------ */
BOOL WINAPI CreatePipe(PHANDLE hReadPipe, PHANDLE hWritePipe,
                       LPSECURITY_ATTRIBUTES lpPipeAttributes, DWORD nSize);
/// lpSecurityAttributes: lpSecurityDescriptor (absolute or self-relative; see the security
/// section below for how SIDs apply to Linux processes) is the pipe's descriptor when this call
/// creates the name; NULL attributes or a NULL descriptor give Windows' default (full control to
/// the owner, LocalSystem and Administrators, read to Everyone). nLength is not checked, as on
/// Windows. An invalid descriptor fails: ERROR_UNKNOWN_REVISION (Revision not 1),
/// ERROR_INVALID_ACL, ERROR_INVALID_SID, ERROR_INVALID_OWNER (an owner that is not this user,
/// unless root), ERROR_INVALID_PRIMARY_GROUP (a group SID without a gid). An inheritable handle
/// reaches a child made by CreateProcess with bInheritHandles as the same end, at the same HANDLE
/// value, when the end is connected and has no overlapped operation pending; otherwise it stays
/// behind (TODO(compat): Windows also passes listening server ends).
HANDLE WINAPI CreateNamedPipeA(LPCSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode,
                               DWORD nMaxInstances, DWORD nOutBufferSize, DWORD nInBufferSize,
                               DWORD nDefaultTimeOut, LPSECURITY_ATTRIBUTES lpSecurityAttributes);
HANDLE WINAPI CreateNamedPipeW(LPCWSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode,
                               DWORD nMaxInstances, DWORD nOutBufferSize, DWORD nInBufferSize,
                               DWORD nDefaultTimeOut, LPSECURITY_ATTRIBUTES lpSecurityAttributes);
BOOL WINAPI ConnectNamedPipe(HANDLE hNamedPipe, LPOVERLAPPED lpOverlapped);
BOOL WINAPI DisconnectNamedPipe(HANDLE hNamedPipe);
BOOL WINAPI WaitNamedPipeA(LPCSTR lpNamedPipeName, DWORD nTimeOut);
BOOL WINAPI WaitNamedPipeW(LPCWSTR lpNamedPipeName, DWORD nTimeOut);
BOOL WINAPI CallNamedPipeA(LPCSTR lpNamedPipeName, LPVOID lpInBuffer, DWORD nInBufferSize,
                           LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesRead,
                           DWORD nTimeOut);
BOOL WINAPI CallNamedPipeW(LPCWSTR lpNamedPipeName, LPVOID lpInBuffer, DWORD nInBufferSize,
                           LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesRead,
                           DWORD nTimeOut);
BOOL WINAPI TransactNamedPipe(HANDLE hNamedPipe, LPVOID lpInBuffer, DWORD nInBufferSize,
                              LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesRead,
                              LPOVERLAPPED lpOverlapped);
BOOL WINAPI PeekNamedPipe(HANDLE hNamedPipe, LPVOID lpBuffer, DWORD nBufferSize,
                          LPDWORD lpBytesRead, LPDWORD lpTotalBytesAvail,
                          LPDWORD lpBytesLeftThisMessage);
BOOL WINAPI SetNamedPipeHandleState(HANDLE hNamedPipe, LPDWORD lpMode, LPDWORD lpMaxCollectionCount,
                                    LPDWORD lpCollectDataTimeout);
/// lpUserName (server end only) receives the client's Linux user name.
BOOL WINAPI GetNamedPipeHandleStateA(HANDLE hNamedPipe, LPDWORD lpState, LPDWORD lpCurInstances,
                                     LPDWORD lpMaxCollectionCount, LPDWORD lpCollectDataTimeout,
                                     LPSTR lpUserName, DWORD nMaxUserNameSize);
BOOL WINAPI GetNamedPipeHandleStateW(HANDLE hNamedPipe, LPDWORD lpState, LPDWORD lpCurInstances,
                                     LPDWORD lpMaxCollectionCount, LPDWORD lpCollectDataTimeout,
                                     LPWSTR lpUserName, DWORD nMaxUserNameSize);
BOOL WINAPI GetNamedPipeInfo(HANDLE hNamedPipe, LPDWORD lpFlags, LPDWORD lpOutBufferSize,
                             LPDWORD lpInBufferSize, LPDWORD lpMaxInstances);
BOOL WINAPI GetNamedPipeClientProcessId(HANDLE Pipe, PULONG ClientProcessId);
BOOL WINAPI GetNamedPipeServerProcessId(HANDLE Pipe, PULONG ServerProcessId);
BOOL WINAPI GetNamedPipeClientSessionId(HANDLE Pipe, PULONG ClientSessionId);
BOOL WINAPI GetNamedPipeServerSessionId(HANDLE Pipe, PULONG ServerSessionId);
/// A connected server end whose client came as Windows' remote clients do, through this
/// computer's name (`\\MYHOST\pipe\x`, `\\localhost\pipe\x`, `\\127.0.0.1\pipe\x`): the
/// computer's NetBIOS name (GetComputerName's), NUL-terminated; ClientComputerNameLength counts
/// bytes, too small: ERROR_INSUFFICIENT_BUFFER. A client that named the pipe with `.`: FALSE +
/// ERROR_PIPE_LOCAL. No client: ERROR_NOT_FOUND.
BOOL WINAPI GetNamedPipeClientComputerNameA(HANDLE Pipe, LPSTR ClientComputerName,
                                            ULONG ClientComputerNameLength);
BOOL WINAPI GetNamedPipeClientComputerNameW(HANDLE Pipe, LPWSTR ClientComputerName,
                                            ULONG ClientComputerNameLength);
/// The calling thread alone takes the client's uid, gid and supplementary groups, as the client
/// had them when it connected, at the level the client's SQOS allows (CreateFile's
/// SECURITY_SQOS_PRESENT flags; impersonation level without them). Identification and
/// anonymous level mark the thread without switching; CreateFile then fails with
/// ERROR_BAD_IMPERSONATION_LEVEL. A process without CAP_SETUID and CAP_SETGID impersonating
/// another user gets identification level (Windows: no SeImpersonatePrivilege). Threads made by
/// CreateThread and children made by CreateProcess meanwhile run as the process; a thread that
/// exits while impersonating is switched back. A second call replaces the first.
/// ERROR_CANNOT_IMPERSONATE before the first read. Difference from Windows: the identity is the
/// connect-time one whatever the tracking mode (no per-message credentials exist on shared
/// memory; TODO(compat)).
BOOL WINAPI ImpersonateNamedPipeClient(HANDLE hNamedPipe);
/// Ends the calling thread's impersonation (nothing to do if there is none).
BOOL WINAPI RevertToSelf(void);
/// The user the calling thread runs as: the client while it impersonates (at any level; "nobody"
/// for an anonymous client), else the process's effective user. The name from the user
/// database, or the uid in decimal when it has none. *pcbBuffer: characters including the
/// terminator, in and out; ERROR_INSUFFICIENT_BUFFER with the size needed.
BOOL WINAPI GetUserNameA(LPSTR lpBuffer, LPDWORD pcbBuffer);
BOOL WINAPI GetUserNameW(LPWSTR lpBuffer, LPDWORD pcbBuffer);

/* ---- access tokens (processthreadsapi.h, securitybaseapi.h) -------------------------------- */
#define TOKEN_ASSIGN_PRIMARY 0x0001
#define TOKEN_DUPLICATE 0x0002
#define TOKEN_IMPERSONATE 0x0004
#define TOKEN_QUERY 0x0008
#define TOKEN_QUERY_SOURCE 0x0010
#define TOKEN_ADJUST_PRIVILEGES 0x0020
#define TOKEN_ADJUST_GROUPS 0x0040
#define TOKEN_ADJUST_DEFAULT 0x0080
#define TOKEN_ADJUST_SESSIONID 0x0100
#define TOKEN_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | 0x01FF)
#define TOKEN_READ (STANDARD_RIGHTS_READ | TOKEN_QUERY)
/// A snapshot of the process's identity: its effective uid (user SID S-1-22-1-uid), effective
/// gid and supplementary groups (S-1-22-2-gid), as when no thread impersonates. Only the calling
/// process (GetCurrentProcess()); another process's handle: ERROR_NOT_SUPPORTED. A token is a
/// snapshot: it does not follow later changes (Windows' tokens do not either).
BOOL WINAPI OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, PHANDLE TokenHandle);
/// The impersonation token of the calling thread: the client it impersonates, at the level it
/// got. ERROR_NO_TOKEN when the thread does not impersonate, ERROR_CANT_OPEN_ANONYMOUS at
/// anonymous level. Only the calling thread (GetCurrentThread() or a handle to it); another
/// thread's handle: ERROR_NOT_SUPPORTED. OpenAsSelf is accepted and has no effect.
BOOL WINAPI OpenThreadToken(HANDLE ThreadHandle, DWORD DesiredAccess, BOOL OpenAsSelf,
                            PHANDLE TokenHandle);
/// TokenUser, TokenGroups (the primary and supplementary groups, then Everyone), TokenOwner and
/// TokenPrimaryGroup write the structure followed by its SIDs; TokenType and
/// TokenImpersonationLevel (impersonation tokens only, else ERROR_INVALID_PARAMETER) one value.
/// *ReturnLength: the bytes written or needed; a short buffer fails with
/// ERROR_INSUFFICIENT_BUFFER (ERROR_BAD_LENGTH for the fixed-size classes). Needs TOKEN_QUERY.
/// Other classes: ERROR_NOT_SUPPORTED.
BOOL WINAPI GetTokenInformation(HANDLE TokenHandle, TOKEN_INFORMATION_CLASS TokenInformationClass,
                                LPVOID TokenInformation, DWORD TokenInformationLength,
                                PDWORD ReturnLength);

/* ---- files (fileapi.h) ---------------------------------------------------------------------- */
/// `\\.\pipe\NAME` and `\\?\pipe\NAME` open a pipe client end; other names open ordinary files
/// with open(2) (dwShareMode and file attributes are ignored).
HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile);
HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile);
BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped);
BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped);
BOOL WINAPI FlushFileBuffers(HANDLE hFile);
BOOL WINAPI DeleteFileA(LPCSTR lpFileName);
BOOL WINAPI DeleteFileW(LPCWSTR lpFileName);

/* ---- listing pipes (fileapi.h, minwinbase.h) ------------------------------------------------ */
typedef struct _FILETIME {
  DWORD dwLowDateTime;
  DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _WIN32_FIND_DATAA {
  DWORD dwFileAttributes;
  FILETIME ftCreationTime;
  FILETIME ftLastAccessTime;
  FILETIME ftLastWriteTime;
  DWORD nFileSizeHigh;
  DWORD nFileSizeLow;
  DWORD dwReserved0;
  DWORD dwReserved1;
  CHAR cFileName[MAX_PATH];
  CHAR cAlternateFileName[14];
} WIN32_FIND_DATAA, *PWIN32_FIND_DATAA, *LPWIN32_FIND_DATAA;

typedef struct _WIN32_FIND_DATAW {
  DWORD dwFileAttributes;
  FILETIME ftCreationTime;
  FILETIME ftLastAccessTime;
  FILETIME ftLastWriteTime;
  DWORD nFileSizeHigh;
  DWORD nFileSizeLow;
  DWORD dwReserved0;
  DWORD dwReserved1;
  WCHAR cFileName[MAX_PATH];
  WCHAR cAlternateFileName[14];
} WIN32_FIND_DATAW, *PWIN32_FIND_DATAW, *LPWIN32_FIND_DATAW;

/// Lists the pipes of the default registry's namespace, as Windows lists its named-pipe file
/// system: `lpFileName` is `\\.\pipe\` (or `\\?\pipe\`, `/` for `\`) followed by a name or a
/// pattern with `*` and `?`, matched without regard to case and with Windows' DOS rules (`?`
/// before a dot or at the end matches nothing too; `*.` matches up to the last dot; `*.*` is
/// everything). Each pipe the caller may see, whatever its descriptor grants (Windows shows
/// every name), fills lpFindFileData as Windows' named-pipe file system does: cFileName is the
/// name without the `\\.\pipe\` prefix, nFileSizeLow the number of instances that exist now
/// (nFileSizeHigh 0), dwFileAttributes FILE_ATTRIBUTE_NORMAL, the times and cAlternateFileName
/// zero. The maximum number of instances, which Windows reports only to NtQueryDirectoryFile, is
/// not in WIN32_FIND_DATA. The list is taken at FindFirstFile, sorted by name (Windows lists in
/// its own order). Errors: no pipe matches, a trailing `\`, or a path below `\\.\pipe\` that is
/// no pipe directory: ERROR_FILE_NOT_FOUND; any other path: ERROR_NOT_SUPPORTED (ordinary
/// files are not listed yet); NULL arguments: ERROR_INVALID_PARAMETER. Close the handle with
/// FindClose, not CloseHandle (which refuses it, ERROR_INVALID_HANDLE). Thread safety: one
/// find handle serves one thread at a time, as on Windows.
HANDLE WINAPI FindFirstFileA(LPCSTR lpFileName, LPWIN32_FIND_DATAA lpFindFileData);
HANDLE WINAPI FindFirstFileW(LPCWSTR lpFileName, LPWIN32_FIND_DATAW lpFindFileData);
/// The next pipe of the list; at its end FALSE with ERROR_NO_MORE_FILES. A handle that is not a
/// find handle: ERROR_INVALID_HANDLE.
BOOL WINAPI FindNextFileA(HANDLE hFindFile, LPWIN32_FIND_DATAA lpFindFileData);
BOOL WINAPI FindNextFileW(HANDLE hFindFile, LPWIN32_FIND_DATAW lpFindFileData);
/// Closes a find handle; any other handle: ERROR_INVALID_HANDLE.
BOOL WINAPI FindClose(HANDLE hFindFile);

/* ---- asynchronous I/O (ioapiset.h) -------------------------------------------------------------
 * A completion stores Internal (an NT status) and InternalHigh first, then signals the event (or
 * the pipe handle when hEvent is NULL), queues the completion-port packet (none when hEvent has
 * its low bit set) and the completion routine. Completion routines and user APCs run only on the
 * issuing thread, inside SleepEx, WaitForSingleObjectEx, WaitForMultipleObjectsEx,
 * GetOverlappedResultEx and GetQueuedCompletionStatusEx with bAlertable TRUE; an operation's
 * routine that has not run when its thread exits is discarded, and the thread's pending I/O on
 * handles without a completion port is cancelled. ReadFileEx/WriteFileEx on a synchronous handle
 * perform the I/O synchronously and still queue the routine, as Windows does (its documentation,
 * "Anonymous Pipe Operations", says they cannot be used with anonymous pipes). */
BOOL WINAPI ReadFileEx(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                       LPOVERLAPPED lpOverlapped,
                       LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
BOOL WINAPI WriteFileEx(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                        LPOVERLAPPED lpOverlapped,
                        LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                LPDWORD lpNumberOfBytesTransferred, BOOL bWait);
BOOL WINAPI GetOverlappedResultEx(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                  LPDWORD lpNumberOfBytesTransferred, DWORD dwMilliseconds,
                                  BOOL bAlertable);
BOOL WINAPI CancelIo(HANDLE hFile);
BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);
BOOL WINAPI CancelSynchronousIo(HANDLE hThread);
/// Creates a completion port and/or associates an overlapped handle with one.
/// NumberOfConcurrentThreads (0: the number of processors) limits how many threads that called
/// GetQueuedCompletionStatus(Ex) on the port are released to run at once; waiting threads are
/// released last-in-first-out. A thread runs for the port from taking a packet until it calls
/// GetQueuedCompletionStatus(Ex) again (on any port) or exits; it does not count while it is
/// blocked in a sluice wait or a synchronous pipe call, so another waiter is released meanwhile,
/// as on Windows. Difference from Windows, which stops counting a thread blocked in any wait: a
/// thread blocked outside sluice (read(2), a pthread wait) still counts.
HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
                                     ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads);
BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD lpNumberOfBytesTransferred,
                                      PULONG_PTR lpCompletionKey, LPOVERLAPPED* lpOverlapped,
                                      DWORD dwMilliseconds);
BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort,
                                        LPOVERLAPPED_ENTRY lpCompletionPortEntries, ULONG ulCount,
                                        PULONG ulNumEntriesRemoved, DWORD dwMilliseconds,
                                        BOOL fAlertable);
BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
                                       ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped);
BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle, UCHAR Flags);
#define FILE_SKIP_COMPLETION_PORT_ON_SUCCESS 0x1
#define FILE_SKIP_SET_EVENT_ON_HANDLE 0x2
/// Sleeps; alertable: returns WAIT_IO_COMPLETION once queued APCs ran, else 0.
DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable);
/// Waits like WaitForSingleObject / WaitForMultipleObjects; alertable: runs the thread's queued
/// APCs (first, even if an object is signalled) and returns WAIT_IO_COMPLETION.
DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable);
DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                      DWORD dwMilliseconds, BOOL bAlertable);
DWORD WINAPI QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread, ULONG_PTR dwData);

/* ---- synchronisation (synchapi.h) ----------------------------------------------------------- */
/// lpName NULL (or "") makes an unnamed event. A name is one event machine-wide (per pipe
/// namespace, $SLUICE_PIPE_DIR): when it exists, CreateEvent returns a handle to it and sets
/// ERROR_ALREADY_EXISTS (bManualReset and bInitialState are then ignored), else it creates it and
/// sets ERROR_SUCCESS. Names are case-sensitive; "Global\" names are machine-wide, "Local\" and
/// unprefixed ones per login session (audit session; a process without one shares the global
/// names, like session 0). Another backslash gives ERROR_PATH_NOT_FOUND, as on Windows; a name
/// longer than MAX_PATH ERROR_FILENAME_EXCED_RANGE; a name held by another user
/// ERROR_ACCESS_DENIED. The event goes away with its last handle in any process. An inheritable
/// handle (named or not) reaches a child made with bInheritHandles as the same event. Difference:
/// security attributes other than bInheritHandle are ignored (events are owner-only).
HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCSTR lpName);
HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCWSTR lpName);
/// Opens an existing named event: ERROR_FILE_NOT_FOUND when no handle holds the name,
/// ERROR_INVALID_PARAMETER for a NULL name. dwDesiredAccess is kept: SetEvent and ResetEvent
/// need EVENT_MODIFY_STATE, waits SYNCHRONIZE (else ERROR_ACCESS_DENIED).
HANDLE WINAPI OpenEventA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName);
HANDLE WINAPI OpenEventW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName);
BOOL WINAPI SetEvent(HANDLE hEvent);
BOOL WINAPI ResetEvent(HANDLE hEvent);
/// Waits for an event, a thread, a process or a pipe handle (signalled while no overlapped
/// operation is outstanding on the end). Other handles give WAIT_FAILED + ERROR_INVALID_HANDLE.
DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds);
VOID WINAPI Sleep(DWORD dwMilliseconds);
DWORD WINAPI GetTickCount(void);
ULONGLONG WINAPI GetTickCount64(void);
BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER* lpPerformanceCount);
BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER* lpFrequency);

/* ---- threads and processes (processthreadsapi.h) -------------------------------------------- */
/// dwStackSize 0 means the default; CREATE_SUSPENDED is not supported (ERROR_NOT_SUPPORTED).
HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId);
BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode);
DECLSPEC_NORETURN VOID WINAPI ExitThread(DWORD dwExitCode);
/// Runs any Linux program. The command line is split with Windows' rules (CommandLineToArgvW).
/// A program name without a slash is looked up in the directory of this executable, the current
/// directory and PATH, each also with ".exe" appended. With STARTF_USESTDHANDLES the three
/// handles (anonymous pipe ends, files, standard handles) become the child's fds 0/1/2; without
/// it, a child started with bInheritHandles gets this process's current standard handles.
/// With bInheritHandles, inheritable named-pipe, anonymous-pipe, file and event handles reach the
/// child with the same HANDLE values when the child uses sluice (a named-pipe end is then the
/// same end, shared); anonymous-pipe and file handles also reach any program as open
/// descriptors. Thread and process handles are not inherited (TODO(compat)).
/// lpEnvironment, lpCurrentDirectory, process/thread attributes and most creation flags are
/// ignored; pi.hThread is a handle that is signalled when the process ends.
BOOL WINAPI CreateProcessA(LPCSTR lpApplicationName, LPSTR lpCommandLine,
                           LPSECURITY_ATTRIBUTES lpProcessAttributes,
                           LPSECURITY_ATTRIBUTES lpThreadAttributes, BOOL bInheritHandles,
                           DWORD dwCreationFlags, LPVOID lpEnvironment, LPCSTR lpCurrentDirectory,
                           LPSTARTUPINFOA lpStartupInfo,
                           LPPROCESS_INFORMATION lpProcessInformation);
BOOL WINAPI CreateProcessW(LPCWSTR lpApplicationName, LPWSTR lpCommandLine,
                           LPSECURITY_ATTRIBUTES lpProcessAttributes,
                           LPSECURITY_ATTRIBUTES lpThreadAttributes, BOOL bInheritHandles,
                           DWORD dwCreationFlags, LPVOID lpEnvironment, LPCWSTR lpCurrentDirectory,
                           LPSTARTUPINFOW lpStartupInfo,
                           LPPROCESS_INFORMATION lpProcessInformation);
/// STILL_ACTIVE (259) while running; a Linux exit status is 8 bits, so `return -1` reads 255,
/// and a child killed by a signal reads 128 + the signal number.
BOOL WINAPI GetExitCodeProcess(HANDLE hProcess, LPDWORD lpExitCode);
BOOL WINAPI TerminateProcess(HANDLE hProcess, UINT uExitCode);
DECLSPEC_NORETURN VOID WINAPI ExitProcess(UINT uExitCode);
DWORD WINAPI GetProcessId(HANDLE Process);

/* ---- memory (heapapi.h, winbase.h) ---------------------------------------------------------- */
HANDLE WINAPI GetProcessHeap(void);
LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
LPVOID WINAPI HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes);
BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);
SIZE_T WINAPI HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem);
/// GMEM_MOVEABLE/LMEM_MOVEABLE memory is fixed too (the handle is the pointer).
HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes);
HGLOBAL WINAPI GlobalFree(HGLOBAL hMem);
LPVOID WINAPI GlobalLock(HGLOBAL hMem);
BOOL WINAPI GlobalUnlock(HGLOBAL hMem);
SIZE_T WINAPI GlobalSize(HGLOBAL hMem);
HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes);
HLOCAL WINAPI LocalFree(HLOCAL hMem);
SIZE_T WINAPI LocalSize(HLOCAL hMem);
LPVOID WINAPI LocalLock(HLOCAL hMem);
BOOL WINAPI LocalUnlock(HLOCAL hMem);

/* ---- strings (winbase.h) -------------------------------------------------------------------- */
int WINAPI lstrlenA(LPCSTR lpString);
int WINAPI lstrlenW(LPCWSTR lpString);
LPSTR WINAPI lstrcpyA(LPSTR lpString1, LPCSTR lpString2);
LPWSTR WINAPI lstrcpyW(LPWSTR lpString1, LPCWSTR lpString2);
LPSTR WINAPI lstrcatA(LPSTR lpString1, LPCSTR lpString2);
LPWSTR WINAPI lstrcatW(LPWSTR lpString1, LPCWSTR lpString2);
int WINAPI lstrcmpA(LPCSTR lpString1, LPCSTR lpString2);
int WINAPI lstrcmpW(LPCWSTR lpString1, LPCWSTR lpString2);
int WINAPI lstrcmpiA(LPCSTR lpString1, LPCSTR lpString2);
int WINAPI lstrcmpiW(LPCWSTR lpString1, LPCWSTR lpString2);

/* ---- messages and modules ------------------------------------------------------------------- */
/// Formats a message definition as Windows does: FORMAT_MESSAGE_FROM_STRING (lpSource is the
/// definition) or FORMAT_MESSAGE_FROM_SYSTEM (the texts of the errors listed above, ending in
/// "\r\n"; an unknown code gives ERROR_MR_MID_NOT_FOUND). No module has a message table:
/// FORMAT_MESSAGE_FROM_HMODULE alone gives ERROR_RESOURCE_TYPE_NOT_FOUND, no source flag
/// ERROR_INVALID_PARAMETER. dwLanguageId is ignored (every text is English).
///
/// Inserts %1..%99, optionally with a printf format in Microsoft's conventions (%1!4.2u!,
/// %2!*s!, %3!I64x!, !s! is the entry point's own width, !S! the other one, !ls!/!hs! force it),
/// take their arguments from a va_list* (in insert order, as their formats say) or, with
/// FORMAT_MESSAGE_ARGUMENT_ARRAY, from an array of DWORD_PTR; a '*' takes the insert's own
/// argument and the following ones. An insert without arguments, a lone trailing % or a bad
/// format gives ERROR_INVALID_PARAMETER. Escapes: %0 ends the text, %n is a line break ("\r\n"),
/// %r a "\r", %t a tab, and %% %space %. %! (any other character) give that character.
/// FORMAT_MESSAGE_IGNORE_INSERTS keeps inserts and those escapes as written (%0 %n %r %t still
/// apply). Line breaks in the definition become "\r\n"; with a width in the low byte they become
/// spaces and lines break at their last space before reaching the width
/// (FORMAT_MESSAGE_MAX_WIDTH_MASK: never). An empty result gives 0 and ERROR_NO_WORK_DONE; a
/// buffer too small ERROR_INSUFFICIENT_BUFFER (FormatMessageW fills it with what fits).
/// Differences from Windows: formatting counts characters (the A entry point's UTF-8 result may
/// have more bytes), e/f/g/a conversions are supported, and no length limit applies.
DWORD WINAPI FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                            LPSTR lpBuffer, DWORD nSize, va_list* Arguments);
DWORD WINAPI FormatMessageW(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                            LPWSTR lpBuffer, DWORD nSize, va_list* Arguments);
/// There is no GUI: prints "caption: text" to stderr and returns IDOK.
int WINAPI MessageBoxA(HWND hWnd, LPCSTR lpText, LPCSTR lpCaption, UINT uType);
int WINAPI MessageBoxW(HWND hWnd, LPCWSTR lpText, LPCWSTR lpCaption, UINT uType);
/// hModule must be NULL (this executable, from /proc/self/exe).
DWORD WINAPI GetModuleFileNameA(HMODULE hModule, LPSTR lpFilename, DWORD nSize);
DWORD WINAPI GetModuleFileNameW(HMODULE hModule, LPWSTR lpFilename, DWORD nSize);

/* ---- security descriptors, ACLs and SIDs (securitybaseapi.h, winbase.h) ---------------------
 * Pipe programs build descriptors with these and pass them to CreateNamedPipe. How a
 * descriptor applies to Linux processes: a user SID is S-1-22-1-<uid>, a group SID
 * S-1-22-2-<gid> (Samba's convention); Everyone, Authenticated Users, BUILTIN\Users and
 * INTERACTIVE match every local process; LocalSystem and BUILTIN\Administrators match uid 0;
 * ANONYMOUS LOGON and NETWORK match no local process; CREATOR OWNER and OWNER RIGHTS match the
 * pipe's owner; other SIDs match nobody. Inherit-only ACEs and ACE types other than allow and
 * deny do not take part in access checks.
 *
 * Invalid arguments give Windows' codes: a descriptor whose Revision is not 1
 * ERROR_UNKNOWN_REVISION, a self-relative descriptor given to a Set function
 * ERROR_INVALID_SECURITY_DESCR, a malformed ACL ERROR_INVALID_ACL, a malformed SID
 * ERROR_INVALID_SID. Difference from Windows: a NULL pointer where one is required gives
 * ERROR_INVALID_PARAMETER (Windows faults), and other bad pointers are not caught. */
BOOL WINAPI InitializeSecurityDescriptor(PSECURITY_DESCRIPTOR pSecurityDescriptor,
                                         DWORD dwRevision);
BOOL WINAPI IsValidSecurityDescriptor(PSECURITY_DESCRIPTOR pSecurityDescriptor);
/// The bytes the descriptor takes in self-relative form (what MakeSelfRelativeSD would need).
DWORD WINAPI GetSecurityDescriptorLength(PSECURITY_DESCRIPTOR pSecurityDescriptor);
BOOL WINAPI GetSecurityDescriptorControl(PSECURITY_DESCRIPTOR pSecurityDescriptor,
                                         PSECURITY_DESCRIPTOR_CONTROL pControl,
                                         LPDWORD lpdwRevision);
/// bDaclPresent TRUE with pDacl NULL is a NULL DACL: every process gets every right.
BOOL WINAPI SetSecurityDescriptorDacl(PSECURITY_DESCRIPTOR pSecurityDescriptor, BOOL bDaclPresent,
                                      PACL pDacl, BOOL bDaclDefaulted);
BOOL WINAPI GetSecurityDescriptorDacl(PSECURITY_DESCRIPTOR pSecurityDescriptor,
                                      LPBOOL lpbDaclPresent, PACL* pDacl, LPBOOL lpbDaclDefaulted);
BOOL WINAPI SetSecurityDescriptorOwner(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID pOwner,
                                       BOOL bOwnerDefaulted);
BOOL WINAPI GetSecurityDescriptorOwner(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID* pOwner,
                                       LPBOOL lpbOwnerDefaulted);
BOOL WINAPI SetSecurityDescriptorGroup(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID pGroup,
                                       BOOL bGroupDefaulted);
BOOL WINAPI GetSecurityDescriptorGroup(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID* pGroup,
                                       LPBOOL lpbGroupDefaulted);
/// nAclLength: the buffer's size, at least sizeof(ACL) (else ERROR_INSUFFICIENT_BUFFER), at most
/// 65535; dwAclRevision ACL_REVISION or ACL_REVISION_DS (else ERROR_INVALID_PARAMETER).
BOOL WINAPI InitializeAcl(PACL pAcl, DWORD nAclLength, DWORD dwAclRevision);
BOOL WINAPI IsValidAcl(PACL pAcl);
BOOL WINAPI GetAclInformation(PACL pAcl, LPVOID pAclInformation, DWORD nAclInformationLength,
                              ACL_INFORMATION_CLASS dwAclInformationClass);
/// Appends an ACE. ERROR_ALLOTTED_SPACE_EXCEEDED when it does not fit in the ACL's AclSize,
/// ERROR_REVISION_MISMATCH when dwAceRevision is not ACL_REVISION..ACL_REVISION_DS (a higher
/// revision than the ACL's raises the ACL's), ERROR_INVALID_FLAGS for AceFlags outside
/// VALID_INHERIT_FLAGS.
BOOL WINAPI AddAccessAllowedAce(PACL pAcl, DWORD dwAceRevision, DWORD AccessMask, PSID pSid);
BOOL WINAPI AddAccessAllowedAceEx(PACL pAcl, DWORD dwAceRevision, DWORD AceFlags, DWORD AccessMask,
                                  PSID pSid);
BOOL WINAPI AddAccessDeniedAce(PACL pAcl, DWORD dwAceRevision, DWORD AccessMask, PSID pSid);
BOOL WINAPI AddAccessDeniedAceEx(PACL pAcl, DWORD dwAceRevision, DWORD AceFlags, DWORD AccessMask,
                                 PSID pSid);
/// A pointer to ACE number dwAceIndex inside the ACL (ERROR_INVALID_PARAMETER past the end).
BOOL WINAPI GetAce(PACL pAcl, DWORD dwAceIndex, LPVOID* pAce);

/// The SID is freed with FreeSid. More than 8 sub-authorities: ERROR_INVALID_SID.
BOOL WINAPI AllocateAndInitializeSid(PSID_IDENTIFIER_AUTHORITY pIdentifierAuthority,
                                     BYTE nSubAuthorityCount, DWORD nSubAuthority0,
                                     DWORD nSubAuthority1, DWORD nSubAuthority2,
                                     DWORD nSubAuthority3, DWORD nSubAuthority4,
                                     DWORD nSubAuthority5, DWORD nSubAuthority6,
                                     DWORD nSubAuthority7, PSID* pSid);
/// Returns NULL.
PVOID WINAPI FreeSid(PSID pSid);
/// The well-known SIDs of the WELL_KNOWN_SID_TYPE list above that need no domain; others give
/// ERROR_INVALID_PARAMETER. *cbSid too small: ERROR_INSUFFICIENT_BUFFER, *cbSid set to the size.
BOOL WINAPI CreateWellKnownSid(WELL_KNOWN_SID_TYPE WellKnownSidType, PSID DomainSid, PSID pSid,
                               DWORD* cbSid);
BOOL WINAPI IsWellKnownSid(PSID pSid, WELL_KNOWN_SID_TYPE WellKnownSidType);
/// FALSE with last error ERROR_SUCCESS when the SIDs differ; ERROR_INVALID_SID for an invalid one.
BOOL WINAPI EqualSid(PSID pSid1, PSID pSid2);
DWORD WINAPI GetLengthSid(PSID pSid);
BOOL WINAPI IsValidSid(PSID pSid);
BOOL WINAPI CopySid(DWORD nDestinationSidLength, PSID pDestinationSid, PSID pSourceSid);
DWORD WINAPI GetSidLengthRequired(UCHAR nSubAuthorityCount);
PSID_IDENTIFIER_AUTHORITY WINAPI GetSidIdentifierAuthority(PSID pSid);
PDWORD WINAPI GetSidSubAuthority(PSID pSid, DWORD nSubAuthority);
PUCHAR WINAPI GetSidSubAuthorityCount(PSID pSid);

/// Names from the passwd and group databases: a user is "Unix User\<name>" (SidTypeUser), a
/// group "Unix Group\<name>" (SidTypeGroup); the domain may be left out (users are looked up
/// first). Well-known SIDs have Windows' names ("Everyone", "NT AUTHORITY\SYSTEM",
/// "BUILTIN\Administrators", ...). An unknown name, or a SID of a uid or gid without an entry,
/// gives ERROR_NONE_MAPPED; buffers too small ERROR_INSUFFICIENT_BUFFER with the sizes needed
/// (characters including the terminating NUL; bytes for the SID). lpSystemName must be NULL or
/// empty (this machine); another gives ERROR_BAD_NETPATH (there are no remote machines).
BOOL WINAPI LookupAccountNameA(LPCSTR lpSystemName, LPCSTR lpAccountName, PSID Sid, LPDWORD cbSid,
                               LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                               PSID_NAME_USE peUse);
BOOL WINAPI LookupAccountNameW(LPCWSTR lpSystemName, LPCWSTR lpAccountName, PSID Sid, LPDWORD cbSid,
                               LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                               PSID_NAME_USE peUse);
BOOL WINAPI LookupAccountSidA(LPCSTR lpSystemName, PSID Sid, LPSTR Name, LPDWORD cchName,
                              LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                              PSID_NAME_USE peUse);
BOOL WINAPI LookupAccountSidW(LPCWSTR lpSystemName, PSID Sid, LPWSTR Name, LPDWORD cchName,
                              LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                              PSID_NAME_USE peUse);

/// The audit session of the process (/proc/<pid>/sessionid; 0 when it has none, as services
/// are in session 0 on Windows). A process that does not exist: ERROR_INVALID_PARAMETER.
BOOL WINAPI ProcessIdToSessionId(DWORD dwProcessId, DWORD* pSessionId);

SLUICE_EXTERN_C_END

/* ---- A/W mapping ---------------------------------------------------------------------------- */
#ifdef UNICODE
#define CreateNamedPipe CreateNamedPipeW
#define WaitNamedPipe WaitNamedPipeW
#define CallNamedPipe CallNamedPipeW
#define GetNamedPipeHandleState GetNamedPipeHandleStateW
#define GetUserName GetUserNameW
#define GetNamedPipeClientComputerName GetNamedPipeClientComputerNameW
#define CreateFile CreateFileW
#define DeleteFile DeleteFileW
#define FindFirstFile FindFirstFileW
#define FindNextFile FindNextFileW
typedef WIN32_FIND_DATAW WIN32_FIND_DATA;
typedef PWIN32_FIND_DATAW PWIN32_FIND_DATA;
typedef LPWIN32_FIND_DATAW LPWIN32_FIND_DATA;
#define CreateEvent CreateEventW
#define OpenEvent OpenEventW
#define CreateProcess CreateProcessW
#define LookupAccountName LookupAccountNameW
#define LookupAccountSid LookupAccountSidW
typedef STARTUPINFOW STARTUPINFO;
typedef LPSTARTUPINFOW LPSTARTUPINFO;
#define FormatMessage FormatMessageW
#define MessageBox MessageBoxW
#define GetModuleFileName GetModuleFileNameW
#define lstrlen lstrlenW
#define lstrcpy lstrcpyW
#define lstrcat lstrcatW
#define lstrcmp lstrcmpW
#define lstrcmpi lstrcmpiW
#else
#define CreateNamedPipe CreateNamedPipeA
#define WaitNamedPipe WaitNamedPipeA
#define CallNamedPipe CallNamedPipeA
#define GetNamedPipeHandleState GetNamedPipeHandleStateA
#define GetUserName GetUserNameA
#define GetNamedPipeClientComputerName GetNamedPipeClientComputerNameA
#define CreateFile CreateFileA
#define DeleteFile DeleteFileA
#define FindFirstFile FindFirstFileA
#define FindNextFile FindNextFileA
typedef WIN32_FIND_DATAA WIN32_FIND_DATA;
typedef PWIN32_FIND_DATAA PWIN32_FIND_DATA;
typedef LPWIN32_FIND_DATAA LPWIN32_FIND_DATA;
#define CreateEvent CreateEventA
#define OpenEvent OpenEventA
#define CreateProcess CreateProcessA
#define LookupAccountName LookupAccountNameA
#define LookupAccountSid LookupAccountSidA
typedef STARTUPINFOA STARTUPINFO;
typedef LPSTARTUPINFOA LPSTARTUPINFO;
#define FormatMessage FormatMessageA
#define MessageBox MessageBoxA
#define GetModuleFileName GetModuleFileNameA
#define lstrlen lstrlenA
#define lstrcpy lstrcpyA
#define lstrcat lstrcatA
#define lstrcmp lstrcmpA
#define lstrcmpi lstrcmpiA
#endif

/* Parts of the Windows SDK that have headers of their own, which windows.h includes. */
#include <consoleapi.h>
#include <crtdefs.h>
#include <interlockedapi.h>
#include <sysinfoapi.h>
#include <winerror.h>
#include <winnls.h>

#endif /* SLUICE_WIN32_WINDOWS_H_ */
