/* sluice — strsafe.h: bounded string copies and formatting that return HRESULT.
 *
 * StringCchPrintfW follows Windows' wide printf conventions (%s is a wide string, %S a narrow
 * one); StringCchPrintfA uses the narrow ones (%s narrow, %S wide), as on Windows.
 */
#ifndef SLUICE_WIN32_STRSAFE_H_
#define SLUICE_WIN32_STRSAFE_H_

#include <stdarg.h>
#include <stddef.h>
#include <wchar.h>

#include <windows.h>

#define STRSAFE_MAX_CCH 2147483647
#define STRSAFE_E_INSUFFICIENT_BUFFER ((HRESULT)0x8007007AL)
#define STRSAFE_E_INVALID_PARAMETER ((HRESULT)0x80070057L)
#define STRSAFE_E_END_OF_FILE ((HRESULT)0x80070026L)

#ifdef __cplusplus
extern "C" {
#endif

HRESULT StringCchVPrintfA(LPSTR pszDest, size_t cchDest, LPCSTR pszFormat, va_list argList);
HRESULT StringCchVPrintfW(LPWSTR pszDest, size_t cchDest, LPCWSTR pszFormat, va_list argList);
HRESULT StringCchPrintfA(LPSTR pszDest, size_t cchDest, LPCSTR pszFormat, ...);
HRESULT StringCchPrintfW(LPWSTR pszDest, size_t cchDest, LPCWSTR pszFormat, ...);

static inline HRESULT StringCchCopyA(LPSTR pszDest, size_t cchDest, LPCSTR pszSrc) {
  size_t i = 0;
  if (cchDest == 0 || cchDest > STRSAFE_MAX_CCH) return STRSAFE_E_INVALID_PARAMETER;
  while (i < cchDest - 1 && pszSrc[i] != '\0') {
    pszDest[i] = pszSrc[i];
    ++i;
  }
  pszDest[i] = '\0';
  return pszSrc[i] == '\0' ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
}

static inline HRESULT StringCchCopyW(LPWSTR pszDest, size_t cchDest, LPCWSTR pszSrc) {
  size_t i = 0;
  if (cchDest == 0 || cchDest > STRSAFE_MAX_CCH) return STRSAFE_E_INVALID_PARAMETER;
  while (i < cchDest - 1 && pszSrc[i] != L'\0') {
    pszDest[i] = pszSrc[i];
    ++i;
  }
  pszDest[i] = L'\0';
  return pszSrc[i] == L'\0' ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
}

static inline HRESULT StringCchCatA(LPSTR pszDest, size_t cchDest, LPCSTR pszSrc) {
  size_t n = 0;
  if (cchDest == 0 || cchDest > STRSAFE_MAX_CCH) return STRSAFE_E_INVALID_PARAMETER;
  while (n < cchDest && pszDest[n] != '\0') ++n;
  if (n == cchDest) return STRSAFE_E_INVALID_PARAMETER;
  return StringCchCopyA(pszDest + n, cchDest - n, pszSrc);
}

static inline HRESULT StringCchCatW(LPWSTR pszDest, size_t cchDest, LPCWSTR pszSrc) {
  size_t n = 0;
  if (cchDest == 0 || cchDest > STRSAFE_MAX_CCH) return STRSAFE_E_INVALID_PARAMETER;
  while (n < cchDest && pszDest[n] != L'\0') ++n;
  if (n == cchDest) return STRSAFE_E_INVALID_PARAMETER;
  return StringCchCopyW(pszDest + n, cchDest - n, pszSrc);
}

/* Length in characters, not counting the NUL; STRSAFE_E_INVALID_PARAMETER when no NUL within
 * cchMax (or cchMax 0 / too large, or psz NULL). pcchLength may be NULL. */
static inline HRESULT StringCchLengthA(LPCSTR psz, size_t cchMax, size_t* pcchLength) {
  size_t n = 0;
  if (psz == NULL || cchMax == 0 || cchMax > STRSAFE_MAX_CCH) {
    if (pcchLength) *pcchLength = 0;
    return STRSAFE_E_INVALID_PARAMETER;
  }
  while (n < cchMax && psz[n] != '\0') ++n;
  if (n == cchMax) {
    if (pcchLength) *pcchLength = 0;
    return STRSAFE_E_INVALID_PARAMETER;
  }
  if (pcchLength) *pcchLength = n;
  return S_OK;
}

static inline HRESULT StringCchLengthW(LPCWSTR psz, size_t cchMax, size_t* pcchLength) {
  size_t n = 0;
  if (psz == NULL || cchMax == 0 || cchMax > STRSAFE_MAX_CCH) {
    if (pcchLength) *pcchLength = 0;
    return STRSAFE_E_INVALID_PARAMETER;
  }
  while (n < cchMax && psz[n] != L'\0') ++n;
  if (n == cchMax) {
    if (pcchLength) *pcchLength = 0;
    return STRSAFE_E_INVALID_PARAMETER;
  }
  if (pcchLength) *pcchLength = n;
  return S_OK;
}

#ifdef __cplusplus
}
#endif

#ifdef UNICODE
#define StringCchCopy StringCchCopyW
#define StringCchCat StringCchCatW
#define StringCchLength StringCchLengthW
#define StringCchPrintf StringCchPrintfW
#define StringCchVPrintf StringCchVPrintfW
#else
#define StringCchCopy StringCchCopyA
#define StringCchCat StringCchCatA
#define StringCchLength StringCchLengthA
#define StringCchPrintf StringCchPrintfA
#define StringCchVPrintf StringCchVPrintfA
#endif

#endif /* SLUICE_WIN32_STRSAFE_H_ */
