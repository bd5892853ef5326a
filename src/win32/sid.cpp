// SIDs (securitybaseapi.h, sddl.h): making, checking, comparing and writing them, and what a
// SID means for a Linux process. Linux users and groups use Samba's SIDs, S-1-22-1-<uid> and
// S-1-22-2-<gid>, so they survive ConvertSidToStringSid and back; the well-known SIDs and their
// names are those of Microsoft's "Well-known SIDs" page.
#include <windows.h>
#include <sddl.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

constexpr std::uint64_t kUnixAuthority = 22;  // Samba: S-1-22-1 users, S-1-22-2 groups
constexpr DWORD kUnixUsers = 1;
constexpr DWORD kUnixGroups = 2;
constexpr BYTE kMaxAllocateSubAuthorities = 8;  // AllocateAndInitializeSid's argument count

struct WellKnown {
  const char* alias;  // SDDL's two letters, or ""
  std::uint64_t authority;
  DWORD sub[2];
  BYTE count;
  WELL_KNOWN_SID_TYPE type;
  Trustee::Kind kind;
};

// The well-known SIDs with a Linux meaning (see windows.h, "security descriptors") or an SDDL
// alias pipe programs use.
constexpr WellKnown kWellKnown[] = {
    {"", 0, {0, 0}, 1, WinNullSid, Trustee::Kind::kNobody},
    {"WD", 1, {0, 0}, 1, WinWorldSid, Trustee::Kind::kEveryone},
    {"", 2, {0, 0}, 1, WinLocalSid, Trustee::Kind::kEveryone},
    {"CO", 3, {0, 0}, 1, WinCreatorOwnerSid, Trustee::Kind::kOwner},
    {"CG", 3, {1, 0}, 1, WinCreatorGroupSid, Trustee::Kind::kNobody},
    {"OW", 3, {4, 0}, 1, WinCreatorOwnerRightsSid, Trustee::Kind::kOwner},
    {"NU", 5, {2, 0}, 1, WinNetworkSid, Trustee::Kind::kNobody},
    {"IU", 5, {4, 0}, 1, WinInteractiveSid, Trustee::Kind::kEveryone},
    {"AN", 5, {7, 0}, 1, WinAnonymousSid, Trustee::Kind::kNobody},
    {"AU", 5, {11, 0}, 1, WinAuthenticatedUserSid, Trustee::Kind::kEveryone},
    {"SY", 5, {18, 0}, 1, WinLocalSystemSid, Trustee::Kind::kAdministrators},
    {"LS", 5, {19, 0}, 1, WinLocalServiceSid, Trustee::Kind::kNobody},
    {"NS", 5, {20, 0}, 1, WinNetworkServiceSid, Trustee::Kind::kNobody},
    {"BA", 5, {32, 544}, 2, WinBuiltinAdministratorsSid, Trustee::Kind::kAdministrators},
    {"BU", 5, {32, 545}, 2, WinBuiltinUsersSid, Trustee::Kind::kEveryone},
    {"BG", 5, {32, 546}, 2, WinBuiltinGuestsSid, Trustee::Kind::kNobody},
};

const SID* as_sid(const void* p) { return static_cast<const SID*>(p); }

std::uint64_t authority_of(const SID* sid) {
  std::uint64_t value = 0;
  for (BYTE b : sid->IdentifierAuthority.Value) value = (value << 8) | b;  // big-endian
  return value;
}

DWORD sub_authority(const SID* sid, int i) {
  DWORD v;  // SIDs inside ACEs need not be aligned for DWORD reads
  std::memcpy(&v, reinterpret_cast<const BYTE*>(sid) + 8 + 4 * i, 4);
  return v;
}

Bytes bytes_of(const WellKnown& w) {
  Bytes sid = make_sid(w.authority, {w.sub[0]});
  if (w.count == 2) sid = make_sid(w.authority, {w.sub[0], w.sub[1]});
  return sid;
}

const WellKnown* well_known_of(const void* p) {
  if (!sid_valid(p)) return nullptr;
  const SID* sid = as_sid(p);
  for (const auto& w : kWellKnown) {
    if (authority_of(sid) == w.authority && sid->SubAuthorityCount == w.count &&
        sub_authority(sid, 0) == w.sub[0] && (w.count < 2 || sub_authority(sid, 1) == w.sub[1]))
      return &w;
  }
  return nullptr;
}

// The id of S-1-22-<kind>-<id>.
std::optional<std::uint32_t> unix_id(const void* p, DWORD kind) {
  if (!sid_valid(p)) return std::nullopt;
  const SID* sid = as_sid(p);
  if (authority_of(sid) != kUnixAuthority || sid->SubAuthorityCount != 2 ||
      sub_authority(sid, 0) != kind)
    return std::nullopt;
  return sub_authority(sid, 1);
}

bool parse_number(std::string_view text, std::uint64_t max, std::uint64_t* out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty() && *out <= max;
}

// Copies `text` into LocalAlloc memory, as the string-SID functions return it.
template <class Char>
Char* local_copy(const std::basic_string<Char>& text) {
  auto* out = static_cast<Char*>(LocalAlloc(LMEM_FIXED, (text.size() + 1) * sizeof(Char)));
  if (out) std::memcpy(out, text.c_str(), (text.size() + 1) * sizeof(Char));
  return out;
}

BOOL string_to_sid(std::string_view text, PSID* out) {
  if (!out) return fail(ERROR_INVALID_PARAMETER);
  auto sid = sid_from_string(text);
  if (!sid) return fail(ERROR_INVALID_SID);
  void* copy = LocalAlloc(LMEM_FIXED, sid->size());
  if (!copy) return FALSE;
  std::memcpy(copy, sid->data(), sid->size());
  *out = copy;
  return TRUE;
}

}  // namespace

bool sid_valid(const void* p) noexcept {
  return p && as_sid(p)->Revision == SID_REVISION &&
         as_sid(p)->SubAuthorityCount <= SID_MAX_SUB_AUTHORITIES;
}

DWORD sid_length(const void* p) noexcept { return 8 + 4 * DWORD{as_sid(p)->SubAuthorityCount}; }

Bytes make_sid(std::uint64_t authority, std::initializer_list<DWORD> sub_authorities) {
  Bytes sid(8 + 4 * sub_authorities.size());
  sid[0] = SID_REVISION;
  sid[1] = static_cast<BYTE>(sub_authorities.size());
  for (int i = 0; i < 6; ++i) sid[2 + i] = static_cast<BYTE>(authority >> (8 * (5 - i)));
  std::size_t at = 8;
  for (DWORD sub : sub_authorities) {
    std::memcpy(&sid[at], &sub, 4);
    at += 4;
  }
  return sid;
}

Bytes sid_bytes(const void* sid) {
  const auto* p = static_cast<const BYTE*>(sid);
  return Bytes(p, p + sid_length(sid));
}

Bytes user_sid(std::uint32_t uid) { return make_sid(kUnixAuthority, {kUnixUsers, uid}); }
Bytes group_sid(std::uint32_t gid) { return make_sid(kUnixAuthority, {kUnixGroups, gid}); }

std::string sid_to_string(const void* p) {
  const SID* sid = as_sid(p);
  std::uint64_t authority = authority_of(sid);
  std::string text = "S-1-";
  if (authority >> 32) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%012llX", static_cast<unsigned long long>(authority));
    text += hex;
  } else {
    text += std::to_string(authority);
  }
  for (int i = 0; i < sid->SubAuthorityCount; ++i)
    text += "-" + std::to_string(sub_authority(sid, i));
  return text;
}

std::optional<Bytes> sid_from_string(std::string_view text) {
  if (text.size() == 2) {
    for (const auto& w : kWellKnown) {
      if (w.alias[0] && std::toupper(static_cast<unsigned char>(text[0])) == w.alias[0] &&
          std::toupper(static_cast<unsigned char>(text[1])) == w.alias[1])
        return bytes_of(w);
    }
    return std::nullopt;
  }
  if (text.size() < 4 || (text[0] != 'S' && text[0] != 's') || text[1] != '-') return std::nullopt;
  text.remove_prefix(2);
  std::vector<std::uint64_t> fields;
  for (;;) {
    std::size_t dash = text.find('-');
    std::uint64_t value = 0;
    // Field 0 is the revision, 1 the 48-bit authority, the rest 32-bit sub-authorities.
    std::uint64_t max = fields.size() == 1 ? 0xFFFFFFFFFFFFull : 0xFFFFFFFFull;
    if (!parse_number(text.substr(0, dash), max, &value)) return std::nullopt;
    fields.push_back(value);
    if (dash == std::string_view::npos) break;
    text.remove_prefix(dash + 1);
  }
  if (fields.size() < 2 || fields[0] != SID_REVISION || fields.size() - 2 > SID_MAX_SUB_AUTHORITIES)
    return std::nullopt;
  Bytes sid = make_sid(fields[1], {});
  sid[1] = static_cast<BYTE>(fields.size() - 2);
  for (std::size_t i = 2; i < fields.size(); ++i) {
    auto sub = static_cast<DWORD>(fields[i]);
    const auto* b = reinterpret_cast<const BYTE*>(&sub);
    sid.insert(sid.end(), b, b + 4);
  }
  return sid;
}

std::string sid_alias(const void* sid) {
  const WellKnown* w = well_known_of(sid);
  return w ? w->alias : "";
}

Trustee trustee_of_sid(const void* sid) {
  if (auto uid = unix_id(sid, kUnixUsers)) return Trustee::user(*uid);
  if (auto gid = unix_id(sid, kUnixGroups)) return Trustee::group(*gid);
  const WellKnown* w = well_known_of(sid);
  return w ? Trustee{w->kind, 0} : Trustee::nobody();
}

Bytes sid_of_trustee(const Trustee& who, std::optional<std::uint32_t> owner_uid) {
  switch (who.kind) {
    case Trustee::Kind::kUser:
      return user_sid(who.id);
    case Trustee::Kind::kGroup:
      return group_sid(who.id);
    case Trustee::Kind::kEveryone:
      return *sid_from_string("WD");
    case Trustee::Kind::kAdministrators:
      return *sid_from_string("BA");
    case Trustee::Kind::kNobody:
      return *sid_from_string("AN");
    case Trustee::Kind::kOwner:
      return owner_uid ? user_sid(*owner_uid) : *sid_from_string("OW");
  }
  return *sid_from_string("AN");
}

std::optional<std::uint32_t> uid_of_sid(const void* sid) {
  if (auto uid = unix_id(sid, kUnixUsers)) return uid;
  const WellKnown* w = well_known_of(sid);
  if (w && w->kind == Trustee::Kind::kAdministrators) return 0;
  return std::nullopt;
}

std::optional<std::uint32_t> gid_of_sid(const void* sid) {
  if (auto gid = unix_id(sid, kUnixGroups)) return gid;
  // "G:SY" and "G:BA" are what Windows services write: root's group.
  const WellKnown* w = well_known_of(sid);
  if (w && w->kind == Trustee::Kind::kAdministrators) return 0;
  return std::nullopt;
}

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI AllocateAndInitializeSid(PSID_IDENTIFIER_AUTHORITY pIdentifierAuthority,
                                     BYTE nSubAuthorityCount, DWORD nSubAuthority0,
                                     DWORD nSubAuthority1, DWORD nSubAuthority2,
                                     DWORD nSubAuthority3, DWORD nSubAuthority4,
                                     DWORD nSubAuthority5, DWORD nSubAuthority6,
                                     DWORD nSubAuthority7, PSID* pSid) {
  if (!pIdentifierAuthority || !pSid) return fail(ERROR_INVALID_PARAMETER);
  if (nSubAuthorityCount > kMaxAllocateSubAuthorities) return fail(ERROR_INVALID_SID);
  const DWORD subs[] = {nSubAuthority0, nSubAuthority1, nSubAuthority2, nSubAuthority3,
                        nSubAuthority4, nSubAuthority5, nSubAuthority6, nSubAuthority7};
  DWORD size = GetSidLengthRequired(nSubAuthorityCount);
  auto* sid = static_cast<SID*>(LocalAlloc(LMEM_FIXED, size));
  if (!sid) return FALSE;
  sid->Revision = SID_REVISION;
  sid->SubAuthorityCount = nSubAuthorityCount;
  sid->IdentifierAuthority = *pIdentifierAuthority;
  std::memcpy(sid->SubAuthority, subs, 4 * nSubAuthorityCount);
  *pSid = sid;
  return TRUE;
}

PVOID WINAPI FreeSid(PSID pSid) { return LocalFree(pSid); }

BOOL WINAPI CreateWellKnownSid(WELL_KNOWN_SID_TYPE WellKnownSidType, PSID DomainSid, PSID pSid,
                               DWORD* cbSid) {
  (void)DomainSid;  // none of the SIDs offered needs a domain
  if (!cbSid) return fail(ERROR_INVALID_PARAMETER);
  for (const auto& w : kWellKnown) {
    if (w.type != WellKnownSidType) continue;
    Bytes sid = bytes_of(w);
    if (!pSid || *cbSid < sid.size()) {
      *cbSid = static_cast<DWORD>(sid.size());
      return fail(ERROR_INSUFFICIENT_BUFFER);
    }
    std::memcpy(pSid, sid.data(), sid.size());
    *cbSid = static_cast<DWORD>(sid.size());
    return TRUE;
  }
  return fail(ERROR_INVALID_PARAMETER);
}

BOOL WINAPI IsWellKnownSid(PSID pSid, WELL_KNOWN_SID_TYPE WellKnownSidType) {
  const WellKnown* w = well_known_of(pSid);
  return w && w->type == WellKnownSidType;
}

BOOL WINAPI EqualSid(PSID pSid1, PSID pSid2) {
  if (!sid_valid(pSid1) || !sid_valid(pSid2)) return fail(ERROR_INVALID_SID);
  set_last_error(ERROR_SUCCESS);  // Windows reports "not equal" with ERROR_SUCCESS
  return sid_length(pSid1) == sid_length(pSid2) &&
         std::memcmp(pSid1, pSid2, sid_length(pSid1)) == 0;
}

DWORD WINAPI GetLengthSid(PSID pSid) { return sid_valid(pSid) ? sid_length(pSid) : 0; }

BOOL WINAPI IsValidSid(PSID pSid) { return sid_valid(pSid); }

BOOL WINAPI CopySid(DWORD nDestinationSidLength, PSID pDestinationSid, PSID pSourceSid) {
  if (!sid_valid(pSourceSid)) return fail(ERROR_INVALID_SID);
  if (!pDestinationSid || nDestinationSidLength < sid_length(pSourceSid))
    return fail(ERROR_INSUFFICIENT_BUFFER);
  std::memmove(pDestinationSid, pSourceSid, sid_length(pSourceSid));
  return TRUE;
}

DWORD WINAPI GetSidLengthRequired(UCHAR nSubAuthorityCount) {
  return 8 + 4 * DWORD{nSubAuthorityCount};
}

PSID_IDENTIFIER_AUTHORITY WINAPI GetSidIdentifierAuthority(PSID pSid) {
  return pSid ? &static_cast<SID*>(pSid)->IdentifierAuthority : nullptr;
}

// Like Windows, no check of the index against the count (the caller has GetSidSubAuthorityCount).
PDWORD WINAPI GetSidSubAuthority(PSID pSid, DWORD nSubAuthority) {
  return pSid ? &static_cast<SID*>(pSid)->SubAuthority[0] + nSubAuthority : nullptr;
}

PUCHAR WINAPI GetSidSubAuthorityCount(PSID pSid) {
  return pSid ? &static_cast<SID*>(pSid)->SubAuthorityCount : nullptr;
}

BOOL WINAPI ConvertSidToStringSidA(PSID Sid, LPSTR* StringSid) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!StringSid) return fail(ERROR_INVALID_PARAMETER);
    if (!sid_valid(Sid)) return fail(ERROR_INVALID_SID);
    *StringSid = local_copy(sid_to_string(Sid));
    return *StringSid != nullptr;
  });
}

BOOL WINAPI ConvertSidToStringSidW(PSID Sid, LPWSTR* StringSid) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!StringSid) return fail(ERROR_INVALID_PARAMETER);
    if (!sid_valid(Sid)) return fail(ERROR_INVALID_SID);
    *StringSid = local_copy(from_utf8(sid_to_string(Sid)));
    return *StringSid != nullptr;
  });
}

BOOL WINAPI ConvertStringSidToSidA(LPCSTR StringSid, PSID* Sid) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!StringSid) return fail(ERROR_INVALID_PARAMETER);
    return string_to_sid(StringSid, Sid);
  });
}

BOOL WINAPI ConvertStringSidToSidW(LPCWSTR StringSid, PSID* Sid) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (!StringSid) return fail(ERROR_INVALID_PARAMETER);
    return string_to_sid(to_utf8(StringSid), Sid);
  });
}

}  // extern "C"
