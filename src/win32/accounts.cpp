// LookupAccountName and LookupAccountSid (winbase.h): Linux users and groups by their passwd and
// group entries, under Samba's domain names "Unix User" and "Unix Group"; well-known SIDs by the
// names Microsoft's "Well-known SIDs" page gives them.
#include <windows.h>
#include <strings.h>

#include <cstring>

#include "sluice/accounts.hpp"
#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

constexpr const char* kUserDomain = "Unix User";
constexpr const char* kGroupDomain = "Unix Group";

struct Account {
  Bytes sid;
  std::string name;
  std::string domain;
  SID_NAME_USE use = SidTypeUnknown;
};

struct WellKnownName {
  const char* sid;
  const char* domain;
  const char* name;
  SID_NAME_USE use;
};

constexpr WellKnownName kNames[] = {
    {"S-1-0-0", "", "NULL SID", SidTypeWellKnownGroup},
    {"S-1-1-0", "", "Everyone", SidTypeWellKnownGroup},
    {"S-1-2-0", "", "LOCAL", SidTypeWellKnownGroup},
    {"S-1-3-0", "", "CREATOR OWNER", SidTypeWellKnownGroup},
    {"S-1-3-1", "", "CREATOR GROUP", SidTypeWellKnownGroup},
    {"S-1-3-4", "", "OWNER RIGHTS", SidTypeWellKnownGroup},
    {"S-1-5-2", "NT AUTHORITY", "NETWORK", SidTypeWellKnownGroup},
    {"S-1-5-4", "NT AUTHORITY", "INTERACTIVE", SidTypeWellKnownGroup},
    {"S-1-5-7", "NT AUTHORITY", "ANONYMOUS LOGON", SidTypeWellKnownGroup},
    {"S-1-5-11", "NT AUTHORITY", "Authenticated Users", SidTypeWellKnownGroup},
    {"S-1-5-18", "NT AUTHORITY", "SYSTEM", SidTypeWellKnownGroup},
    {"S-1-5-19", "NT AUTHORITY", "LOCAL SERVICE", SidTypeWellKnownGroup},
    {"S-1-5-20", "NT AUTHORITY", "NETWORK SERVICE", SidTypeWellKnownGroup},
    {"S-1-5-32-544", "BUILTIN", "Administrators", SidTypeAlias},
    {"S-1-5-32-545", "BUILTIN", "Users", SidTypeAlias},
    {"S-1-5-32-546", "BUILTIN", "Guests", SidTypeAlias},
};

bool same(const std::string& a, const char* b) { return ::strcasecmp(a.c_str(), b) == 0; }

bool local_system(const std::string& system) { return system.empty(); }

// The account a SID names; ERROR_NONE_MAPPED when none.
DWORD account_of_sid(const void* sid, Account* out) {
  out->sid = sid_bytes(sid);
  std::string text = sid_to_string(sid);
  for (const auto& n : kNames) {
    if (text == n.sid) {
      *out = {out->sid, n.name, n.domain, n.use};
      return ERROR_SUCCESS;
    }
  }
  Trustee who = trustee_of_sid(sid);
  if (who.kind == Trustee::Kind::kUser) {
    auto name = sluice::user_name_of(who.id);
    if (!name) return ERROR_NONE_MAPPED;
    *out = {out->sid, *name, kUserDomain, SidTypeUser};
    return ERROR_SUCCESS;
  }
  if (who.kind == Trustee::Kind::kGroup) {
    auto name = sluice::group_name_of(who.id);
    if (!name) return ERROR_NONE_MAPPED;
    *out = {out->sid, *name, kGroupDomain, SidTypeGroup};
    return ERROR_SUCCESS;
  }
  return ERROR_NONE_MAPPED;
}

// The account called `full` ("name" or "domain\name"); ERROR_NONE_MAPPED when none.
DWORD account_of_name(const std::string& full, Account* out) {
  std::size_t slash = full.rfind('\\');
  bool has_domain = slash != std::string::npos;
  std::string domain = has_domain ? full.substr(0, slash) : "";
  std::string name = has_domain ? full.substr(slash + 1) : full;
  for (const auto& n : kNames) {
    if (same(name, n.name) && (!has_domain || same(domain, n.domain))) {
      *out = {*sid_from_string(n.sid), n.name, n.domain, n.use};
      return ERROR_SUCCESS;
    }
  }
  if (!has_domain || same(domain, kUserDomain)) {
    if (auto uid = sluice::user_id_of(name)) {
      *out = {user_sid(*uid), name, kUserDomain, SidTypeUser};
      return ERROR_SUCCESS;
    }
  }
  if (!has_domain || same(domain, kGroupDomain)) {
    if (auto gid = sluice::group_id_of(name)) {
      *out = {group_sid(*gid), name, kGroupDomain, SidTypeGroup};
      return ERROR_SUCCESS;
    }
  }
  return ERROR_NONE_MAPPED;
}

std::basic_string<char> in_width(const std::string& s, char) { return s; }
std::wstring in_width(const std::string& s, wchar_t) { return from_utf8(s); }

// Whether `text` and its NUL fit a buffer of *count characters.
template <class Char>
bool fits(const std::basic_string<Char>& text, Char* buffer, LPDWORD count) {
  return buffer && *count >= text.size() + 1;
}

template <class Char>
BOOL lookup_sid(const std::string& system, const void* sid, Char* name, LPDWORD name_count,
                Char* domain, LPDWORD domain_count, PSID_NAME_USE use) {
  if (!name_count || !domain_count || !use) return fail(ERROR_INVALID_PARAMETER);
  if (!local_system(system)) return fail(ERROR_BAD_NETPATH);
  if (!sid_valid(sid)) return fail(ERROR_INVALID_SID);
  Account account;
  if (DWORD e = account_of_sid(sid, &account)) return fail(e);
  auto n = in_width(account.name, Char{});
  auto d = in_width(account.domain, Char{});
  if (!fits(n, name, name_count) || !fits(d, domain, domain_count)) {
    *name_count = static_cast<DWORD>(n.size() + 1);
    *domain_count = static_cast<DWORD>(d.size() + 1);
    return fail(ERROR_INSUFFICIENT_BUFFER);
  }
  std::memcpy(name, n.c_str(), (n.size() + 1) * sizeof(Char));
  std::memcpy(domain, d.c_str(), (d.size() + 1) * sizeof(Char));
  *name_count = static_cast<DWORD>(n.size());
  *domain_count = static_cast<DWORD>(d.size());
  *use = account.use;
  return TRUE;
}

template <class Char>
BOOL lookup_name(const std::string& system, const std::string& full, PSID sid, LPDWORD sid_size,
                 Char* domain, LPDWORD domain_count, PSID_NAME_USE use) {
  if (!sid_size || !domain_count || !use) return fail(ERROR_INVALID_PARAMETER);
  if (!local_system(system)) return fail(ERROR_BAD_NETPATH);
  Account account;
  if (DWORD e = account_of_name(full, &account)) return fail(e);
  auto d = in_width(account.domain, Char{});
  if (!sid || *sid_size < account.sid.size() || !fits(d, domain, domain_count)) {
    *sid_size = static_cast<DWORD>(account.sid.size());
    *domain_count = static_cast<DWORD>(d.size() + 1);
    return fail(ERROR_INSUFFICIENT_BUFFER);
  }
  std::memcpy(sid, account.sid.data(), account.sid.size());
  std::memcpy(domain, d.c_str(), (d.size() + 1) * sizeof(Char));
  *sid_size = static_cast<DWORD>(account.sid.size());
  *domain_count = static_cast<DWORD>(d.size());
  *use = account.use;
  return TRUE;
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI LookupAccountNameA(LPCSTR lpSystemName, LPCSTR lpAccountName, PSID Sid, LPDWORD cbSid,
                               LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                               PSID_NAME_USE peUse) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpAccountName) return fail(ERROR_INVALID_PARAMETER);
    return lookup_name<char>(lpSystemName ? lpSystemName : "", lpAccountName, Sid, cbSid,
                             ReferencedDomainName, cchReferencedDomainName, peUse);
  });
}

BOOL WINAPI LookupAccountNameW(LPCWSTR lpSystemName, LPCWSTR lpAccountName, PSID Sid, LPDWORD cbSid,
                               LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                               PSID_NAME_USE peUse) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!lpAccountName) return fail(ERROR_INVALID_PARAMETER);
    return lookup_name<wchar_t>(lpSystemName ? to_utf8(lpSystemName) : "", to_utf8(lpAccountName),
                                Sid, cbSid, ReferencedDomainName, cchReferencedDomainName, peUse);
  });
}

BOOL WINAPI LookupAccountSidA(LPCSTR lpSystemName, PSID Sid, LPSTR Name, LPDWORD cchName,
                              LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                              PSID_NAME_USE peUse) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    return lookup_sid<char>(lpSystemName ? lpSystemName : "", Sid, Name, cchName,
                            ReferencedDomainName, cchReferencedDomainName, peUse);
  });
}

BOOL WINAPI LookupAccountSidW(LPCWSTR lpSystemName, PSID Sid, LPWSTR Name, LPDWORD cchName,
                              LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                              PSID_NAME_USE peUse) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    return lookup_sid<wchar_t>(lpSystemName ? to_utf8(lpSystemName) : "", Sid, Name, cchName,
                               ReferencedDomainName, cchReferencedDomainName, peUse);
  });
}

}  // extern "C"
