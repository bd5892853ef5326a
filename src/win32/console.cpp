// Console and formatting helpers behind conio.h, tchar.h and strsafe.h.
#include <windows.h>
#include <conio.h>
#include <strsafe.h>
#include <tchar.h>

#include <cstdio>
#include <string>

#include "os/linux/file.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

// Windows' wide printf reads %s and %c as wide and %S and %C as narrow (glibc: %s is always
// narrow, %ls wide); an explicit h or l size wins.
std::wstring wide_format(const wchar_t* format) {
  std::wstring out;
  for (const wchar_t* p = format; *p; ++p) {
    out.push_back(*p);
    if (*p != L'%') continue;
    ++p;
    if (*p == L'%') {
      out.push_back(*p);
      continue;
    }
    // Flags, width, precision.
    while (*p && std::wcschr(L"-+ #0123456789.*'", *p)) out.push_back(*p++);
    bool narrow = false, wide = false;
    if (*p == L'h' && (p[1] == L's' || p[1] == L'c' || p[1] == L'S' || p[1] == L'C')) {
      narrow = true;
      ++p;
    } else if ((*p == L'l' || *p == L'w') &&
               (p[1] == L's' || p[1] == L'c' || p[1] == L'S' || p[1] == L'C')) {
      wide = true;
      ++p;
    }
    if (!*p) break;
    wchar_t conv = *p;
    if (conv == L's' || conv == L'S' || conv == L'c' || conv == L'C') {
      bool upper = conv == L'S' || conv == L'C';
      bool as_wide = wide || (!narrow && !upper);
      if (as_wide) out.push_back(L'l');
      out.push_back(conv == L'S' ? L's' : conv == L'C' ? L'c' : conv);
    } else {
      out.push_back(conv);
    }
  }
  return out;
}

bool vformat_wide(std::wstring* out, const wchar_t* format, va_list args) {
  std::wstring fmt = wide_format(format);
  std::size_t size = 256;
  for (int attempt = 0; attempt < 20; ++attempt) {
    out->assign(size, L'\0');
    va_list copy;
    va_copy(copy, args);
    int n = std::vswprintf(out->data(), size, fmt.c_str(), copy);
    va_end(copy);
    if (n >= 0 && static_cast<std::size_t>(n) < size) {
      out->resize(static_cast<std::size_t>(n));
      return true;
    }
    size *= 2;
  }
  return false;
}

int read_key(bool echo) {
  std::fflush(stdout);
  auto c = os::read_key(0);
  if (!c) return EOF;
  if (echo) {
    std::fputc(*c, stdout);
    std::fflush(stdout);
  }
  return *c;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

int _getch(void) { return read_key(false); }
int _getche(void) { return read_key(true); }

int sluice_wprintf(const wchar_t* format, ...) {
  va_list args;
  va_start(args, format);
  int n = guarded<int>(-1, [&]() -> int {
    std::wstring text;
    if (!vformat_wide(&text, format, args)) return -1;
    // UTF-8 through the narrow stream, so _tprintf mixes with printf (a glibc stream takes one
    // orientation for good).
    std::string bytes = to_utf8(text.c_str(), text.size());
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return static_cast<int>(text.size());
  });
  va_end(args);
  return n;
}

HRESULT StringCchVPrintfA(LPSTR pszDest, size_t cchDest, LPCSTR pszFormat, va_list argList) {
  if (cchDest == 0 || cchDest > STRSAFE_MAX_CCH || !pszDest) return STRSAFE_E_INVALID_PARAMETER;
  if (!pszFormat) {
    pszDest[0] = '\0';
    return STRSAFE_E_INVALID_PARAMETER;
  }
  // glibc's narrow printf already reads %S and %C as wide, like Windows'.
  int n = std::vsnprintf(pszDest, cchDest, pszFormat, argList);
  if (n < 0) {
    pszDest[0] = '\0';
    return STRSAFE_E_INVALID_PARAMETER;
  }
  return static_cast<size_t>(n) < cchDest ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
}

HRESULT StringCchVPrintfW(LPWSTR pszDest, size_t cchDest, LPCWSTR pszFormat, va_list argList) {
  if (cchDest == 0 || cchDest > STRSAFE_MAX_CCH || !pszDest) return STRSAFE_E_INVALID_PARAMETER;
  if (!pszFormat) {
    pszDest[0] = L'\0';
    return STRSAFE_E_INVALID_PARAMETER;
  }
  return guarded<HRESULT>(STRSAFE_E_INVALID_PARAMETER, [&]() -> HRESULT {
    std::wstring text;
    if (!vformat_wide(&text, pszFormat, argList)) {
      pszDest[0] = L'\0';
      return STRSAFE_E_INVALID_PARAMETER;
    }
    std::size_t n = text.size() < cchDest ? text.size() : cchDest - 1;
    std::wmemcpy(pszDest, text.data(), n);
    pszDest[n] = L'\0';
    return text.size() < cchDest ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
  });
}

HRESULT StringCchPrintfA(LPSTR pszDest, size_t cchDest, LPCSTR pszFormat, ...) {
  va_list args;
  va_start(args, pszFormat);
  HRESULT hr = StringCchVPrintfA(pszDest, cchDest, pszFormat, args);
  va_end(args);
  return hr;
}

HRESULT StringCchPrintfW(LPWSTR pszDest, size_t cchDest, LPCWSTR pszFormat, ...) {
  va_list args;
  va_start(args, pszFormat);
  HRESULT hr = StringCchVPrintfW(pszDest, cchDest, pszFormat, args);
  va_end(args);
  return hr;
}

}  // extern "C"
