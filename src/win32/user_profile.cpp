// userenv.h: a token's profile directory, and clean failures for the rest.
#include <userenv.h>

#include <cstdlib>
#include <string>

#include "sluice/accounts.hpp"
#include "win32/objects.hpp"
#include "win32/text_out.hpp"

namespace sluice::win32 {
namespace {

template <class Char>
BOOL profile_directory(HANDLE token, Char* buffer, LPDWORD size) {
  if (size == nullptr) return fail(ERROR_INVALID_PARAMETER);
  auto object = globals().handles.get(token);
  if (!object || object->kind() != Kind::kToken) return fail(ERROR_INVALID_HANDLE);
  const char* home = std::getenv("HOME");
  if (static_cast<TokenObject&>(*object).identity.uid != current_user_id() || home == nullptr ||
      *home == '\0')
    return fail(ERROR_CALL_NOT_IMPLEMENTED);
  const auto text = in_chars<Char>(home);
  DWORD room = *size;
  *size = static_cast<DWORD>(text.size() + 1);
  if (!copy_out(text, buffer, room)) return fail(ERROR_INSUFFICIENT_BUFFER);
  return TRUE;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI GetUserProfileDirectoryA(HANDLE hToken, LPSTR lpProfileDir, LPDWORD lpcchSize) {
  return guarded<BOOL>(FALSE, [&] { return profile_directory(hToken, lpProfileDir, lpcchSize); });
}
BOOL WINAPI GetUserProfileDirectoryW(HANDLE hToken, LPWSTR lpProfileDir, LPDWORD lpcchSize) {
  return guarded<BOOL>(FALSE, [&] { return profile_directory(hToken, lpProfileDir, lpcchSize); });
}
BOOL WINAPI CreateEnvironmentBlock(LPVOID* lpEnvironment, HANDLE, BOOL) {
  if (lpEnvironment) *lpEnvironment = nullptr;
  return fail(ERROR_CALL_NOT_IMPLEMENTED);
}
BOOL WINAPI DestroyEnvironmentBlock(LPVOID) { return fail(ERROR_CALL_NOT_IMPLEMENTED); }
BOOL WINAPI LoadUserProfileA(HANDLE, LPPROFILEINFOA) { return fail(ERROR_CALL_NOT_IMPLEMENTED); }
BOOL WINAPI LoadUserProfileW(HANDLE, LPPROFILEINFOW) { return fail(ERROR_CALL_NOT_IMPLEMENTED); }
BOOL WINAPI UnloadUserProfile(HANDLE, HANDLE) { return fail(ERROR_CALL_NOT_IMPLEMENTED); }

}  // extern "C"
