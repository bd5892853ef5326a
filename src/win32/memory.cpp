// Memory, strings, message boxes and modules (heapapi.h, winbase.h, winuser.h); FormatMessage
// is in format_message.cpp.
#include <windows.h>

#include <strings.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sluice/process.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

// Every Heap/Global/Local block carries its size in front (LocalSize and HeapSize report the
// size asked for, as on Windows); 16 bytes keep the block 16-byte aligned.
constexpr std::size_t kHeader = 16;

void* block_alloc(std::size_t size, bool zero) {
  if (size > SIZE_MAX - kHeader) return nullptr;
  void* raw = zero ? std::calloc(1, size + kHeader) : std::malloc(size + kHeader);
  if (!raw) return nullptr;
  *static_cast<std::size_t*>(raw) = size;
  return static_cast<char*>(raw) + kHeader;
}

void* block_raw(void* p) { return static_cast<char*>(p) - kHeader; }
std::size_t block_size(const void* p) {
  return *reinterpret_cast<const std::size_t*>(static_cast<const char*>(p) - kHeader);
}

int sign(int v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

DWORD module_file_name(HMODULE module, std::string* out) {
  if (module != nullptr) {
    set_last_error(ERROR_MOD_NOT_FOUND);
    return 0;
  }
  auto path = executable_path();
  if (!path) {
    set_last_error(ERROR_GEN_FAILURE);
    return 0;
  }
  *out = std::move(*path);
  return 1;
}

// Copies with GetModuleFileName's truncation rule: nSize - 1 characters, a NUL, returns nSize
// and ERROR_INSUFFICIENT_BUFFER.
template <class Char>
DWORD copy_truncated(const std::basic_string<Char>& s, Char* out, DWORD size) {
  if (size == 0) {
    set_last_error(ERROR_INSUFFICIENT_BUFFER);
    return 0;
  }
  if (s.size() + 1 > size) {
    std::memcpy(out, s.data(), (size - 1) * sizeof(Char));
    out[size - 1] = 0;
    set_last_error(ERROR_INSUFFICIENT_BUFFER);
    return size;
  }
  std::memcpy(out, s.c_str(), (s.size() + 1) * sizeof(Char));
  return static_cast<DWORD>(s.size());
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

HANDLE WINAPI GetProcessHeap(void) {
  // Not a table handle: heaps are not kernel objects. Any non-null value works for HeapAlloc.
  static int heap;
  return &heap;
}

LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes) {
  (void)hHeap;
  void* p = block_alloc(dwBytes, (dwFlags & HEAP_ZERO_MEMORY) != 0);
  if (!p) set_last_error(ERROR_NOT_ENOUGH_MEMORY);
  return p;
}

LPVOID WINAPI HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes) {
  if (!lpMem) return HeapAlloc(hHeap, dwFlags, dwBytes);
  void* p = block_alloc(dwBytes, (dwFlags & HEAP_ZERO_MEMORY) != 0);
  if (!p) {
    set_last_error(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  std::size_t old = block_size(lpMem);
  std::memcpy(p, lpMem, old < dwBytes ? old : dwBytes);
  std::free(block_raw(lpMem));
  return p;
}

BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem) {
  (void)hHeap, (void)dwFlags;
  if (lpMem) std::free(block_raw(lpMem));
  return TRUE;
}

SIZE_T WINAPI HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem) {
  (void)hHeap, (void)dwFlags;
  if (!lpMem) return static_cast<SIZE_T>(-1);
  return block_size(lpMem);
}

HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes) {
  void* p = block_alloc(dwBytes, (uFlags & GMEM_ZEROINIT) != 0);
  if (!p) set_last_error(ERROR_NOT_ENOUGH_MEMORY);
  return p;
}

HGLOBAL WINAPI GlobalFree(HGLOBAL hMem) {
  if (hMem) std::free(block_raw(hMem));
  return nullptr;
}

LPVOID WINAPI GlobalLock(HGLOBAL hMem) { return hMem; }
BOOL WINAPI GlobalUnlock(HGLOBAL hMem) {
  (void)hMem;
  return FALSE;  // not locked any more (Windows' return for a fixed block)
}
SIZE_T WINAPI GlobalSize(HGLOBAL hMem) { return hMem ? block_size(hMem) : 0; }

HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes) {
  void* p = block_alloc(uBytes, (uFlags & LMEM_ZEROINIT) != 0);
  if (!p) set_last_error(ERROR_NOT_ENOUGH_MEMORY);
  return p;
}

HLOCAL WINAPI LocalFree(HLOCAL hMem) {
  if (hMem) std::free(block_raw(hMem));
  return nullptr;
}

SIZE_T WINAPI LocalSize(HLOCAL hMem) { return hMem ? block_size(hMem) : 0; }
LPVOID WINAPI LocalLock(HLOCAL hMem) { return hMem; }
BOOL WINAPI LocalUnlock(HLOCAL hMem) {
  (void)hMem;
  return FALSE;
}

int WINAPI lstrlenA(LPCSTR lpString) {
  return lpString ? static_cast<int>(std::strlen(lpString)) : 0;
}
int WINAPI lstrlenW(LPCWSTR lpString) {
  return lpString ? static_cast<int>(std::wcslen(lpString)) : 0;
}
LPSTR WINAPI lstrcpyA(LPSTR lpString1, LPCSTR lpString2) {
  if (!lpString1 || !lpString2) return nullptr;
  return std::strcpy(lpString1, lpString2);
}
LPWSTR WINAPI lstrcpyW(LPWSTR lpString1, LPCWSTR lpString2) {
  if (!lpString1 || !lpString2) return nullptr;
  return std::wcscpy(lpString1, lpString2);
}
LPSTR WINAPI lstrcatA(LPSTR lpString1, LPCSTR lpString2) {
  if (!lpString1 || !lpString2) return nullptr;
  return std::strcat(lpString1, lpString2);
}
LPWSTR WINAPI lstrcatW(LPWSTR lpString1, LPCWSTR lpString2) {
  if (!lpString1 || !lpString2) return nullptr;
  return std::wcscat(lpString1, lpString2);
}
// NULL sorts before every string (Windows).
int WINAPI lstrcmpA(LPCSTR lpString1, LPCSTR lpString2) {
  if (!lpString1 || !lpString2) return lpString1 ? 1 : lpString2 ? -1 : 0;
  return sign(std::strcmp(lpString1, lpString2));
}
int WINAPI lstrcmpW(LPCWSTR lpString1, LPCWSTR lpString2) {
  if (!lpString1 || !lpString2) return lpString1 ? 1 : lpString2 ? -1 : 0;
  return sign(std::wcscmp(lpString1, lpString2));
}
int WINAPI lstrcmpiA(LPCSTR lpString1, LPCSTR lpString2) {
  if (!lpString1 || !lpString2) return lpString1 ? 1 : lpString2 ? -1 : 0;
  return sign(::strcasecmp(lpString1, lpString2));
}
int WINAPI lstrcmpiW(LPCWSTR lpString1, LPCWSTR lpString2) {
  if (!lpString1 || !lpString2) return lpString1 ? 1 : lpString2 ? -1 : 0;
  return sign(::wcscasecmp(lpString1, lpString2));
}

int WINAPI MessageBoxA(HWND hWnd, LPCSTR lpText, LPCSTR lpCaption, UINT uType) {
  (void)hWnd, (void)uType;
  std::fprintf(stderr, "%s: %s\n", lpCaption ? lpCaption : "Error", lpText ? lpText : "");
  std::fflush(stderr);
  return IDOK;
}

int WINAPI MessageBoxW(HWND hWnd, LPCWSTR lpText, LPCWSTR lpCaption, UINT uType) {
  return guarded<int>(IDOK, [&] {
    std::string text = lpText ? to_utf8(lpText) : "";
    std::string caption = lpCaption ? to_utf8(lpCaption) : "Error";
    return MessageBoxA(hWnd, text.c_str(), caption.c_str(), uType);
  });
}

DWORD WINAPI GetModuleFileNameA(HMODULE hModule, LPSTR lpFilename, DWORD nSize) {
  return guarded<DWORD>(0, [&]() -> DWORD {
    std::string path;
    if (!module_file_name(hModule, &path)) return 0;
    return copy_truncated<char>(path, lpFilename, nSize);
  });
}

DWORD WINAPI GetModuleFileNameW(HMODULE hModule, LPWSTR lpFilename, DWORD nSize) {
  return guarded<DWORD>(0, [&]() -> DWORD {
    std::string path;
    if (!module_file_name(hModule, &path)) return 0;
    return copy_truncated<wchar_t>(from_utf8(path), lpFilename, nSize);
  });
}

}  // extern "C"
