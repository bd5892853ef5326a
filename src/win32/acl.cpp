// ACLs (securitybaseapi.h): an 8-byte ACL header followed by AceCount ACEs, each an ACE_HEADER
// whose AceSize (a multiple of 4) covers the whole ACE; allow and deny ACEs hold an access mask
// and a SID (Microsoft's "ACL" and "ACCESS_ALLOWED_ACE" pages).
#include <windows.h>

#include <cstring>

#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

constexpr DWORD kAceFixed = 8;  // ACE_HEADER and Mask, before the SID
constexpr DWORD kMaxAclSize = 0xFFFF;

const BYTE* bytes_of(const ACL* acl) { return reinterpret_cast<const BYTE*>(acl); }

ACE_HEADER header_at(const ACL* acl, DWORD offset) {
  ACE_HEADER h;
  std::memcpy(&h, bytes_of(acl) + offset, sizeof h);
  return h;
}

bool is_allow_or_deny(BYTE type) {
  return type == ACCESS_ALLOWED_ACE_TYPE || type == ACCESS_DENIED_ACE_TYPE;
}

// The offset just past the last ACE of a valid ACL.
DWORD used_bytes(const ACL* acl) {
  DWORD offset = sizeof(ACL);
  for (DWORD i = 0; i < acl->AceCount; ++i) offset += header_at(acl, offset).AceSize;
  return offset;
}

BOOL add_ace(PACL acl, DWORD revision, DWORD flags, DWORD mask, PSID sid, BYTE type) {
  if (!acl_valid(acl)) return fail(ERROR_INVALID_ACL);
  if (!sid_valid(sid)) return fail(ERROR_INVALID_SID);
  if (revision < MIN_ACL_REVISION || revision > MAX_ACL_REVISION)
    return fail(ERROR_REVISION_MISMATCH);
  if (flags & ~DWORD{VALID_INHERIT_FLAGS}) return fail(ERROR_INVALID_FLAGS);
  DWORD at = used_bytes(acl);
  DWORD size = kAceFixed + sid_length(sid);
  if (at + size > acl->AclSize) return fail(ERROR_ALLOTTED_SPACE_EXCEEDED);
  BYTE* out = reinterpret_cast<BYTE*>(acl) + at;
  ACE_HEADER h{type, static_cast<BYTE>(flags), static_cast<WORD>(size)};
  std::memcpy(out, &h, sizeof h);
  std::memcpy(out + 4, &mask, 4);
  std::memcpy(out + kAceFixed, sid, sid_length(sid));
  acl->AceCount++;
  if (revision > acl->AclRevision) acl->AclRevision = static_cast<BYTE>(revision);
  return TRUE;
}

}  // namespace

bool acl_valid(const ACL* acl) noexcept {
  if (!acl || acl->AclRevision < MIN_ACL_REVISION || acl->AclRevision > MAX_ACL_REVISION ||
      acl->AclSize < sizeof(ACL))
    return false;
  DWORD offset = sizeof(ACL);
  for (DWORD i = 0; i < acl->AceCount; ++i) {
    if (offset + sizeof(ACE_HEADER) > acl->AclSize) return false;
    ACE_HEADER h = header_at(acl, offset);
    if (h.AceSize < sizeof(ACE_HEADER) || h.AceSize % 4 != 0 || offset + h.AceSize > acl->AclSize)
      return false;
    if (is_allow_or_deny(h.AceType)) {
      const BYTE* sid = bytes_of(acl) + offset + kAceFixed;
      if (h.AceSize < kAceFixed + 8 || !sid_valid(sid) || kAceFixed + sid_length(sid) > h.AceSize)
        return false;
    }
    offset += h.AceSize;
  }
  return true;
}

Bytes make_acl(const std::vector<AceSpec>& aces) {
  DWORD size = sizeof(ACL);
  for (const auto& ace : aces) size += kAceFixed + static_cast<DWORD>(ace.sid.size());
  Bytes acl(size);
  auto* header = reinterpret_cast<ACL*>(acl.data());
  InitializeAcl(header, size, ACL_REVISION);
  for (const auto& ace : aces) {
    // Fits by construction; the SIDs come from this layer.
    (void)add_ace(header, ACL_REVISION, ace.flags, ace.mask, const_cast<BYTE*>(ace.sid.data()),
                  ace.type);
  }
  return acl;
}

std::vector<AceSpec> aces_of(const ACL* acl) {
  std::vector<AceSpec> aces;
  DWORD offset = sizeof(ACL);
  for (DWORD i = 0; i < acl->AceCount; ++i) {
    ACE_HEADER h = header_at(acl, offset);
    if (is_allow_or_deny(h.AceType)) {
      AceSpec ace;
      ace.type = h.AceType;
      ace.flags = h.AceFlags;
      std::memcpy(&ace.mask, bytes_of(acl) + offset + 4, 4);
      ace.sid = sid_bytes(bytes_of(acl) + offset + kAceFixed);
      aces.push_back(std::move(ace));
    }
    offset += h.AceSize;
  }
  return aces;
}

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI InitializeAcl(PACL pAcl, DWORD nAclLength, DWORD dwAclRevision) {
  if (!pAcl) return fail(ERROR_INVALID_PARAMETER);
  if (nAclLength < sizeof(ACL)) return fail(ERROR_INSUFFICIENT_BUFFER);
  if (nAclLength > kMaxAclSize || dwAclRevision < MIN_ACL_REVISION ||
      dwAclRevision > MAX_ACL_REVISION)
    return fail(ERROR_INVALID_PARAMETER);
  pAcl->AclRevision = static_cast<BYTE>(dwAclRevision);
  pAcl->Sbz1 = 0;
  // ACEs are DWORD-aligned: a length that is not leaves its last bytes unused.
  pAcl->AclSize = static_cast<WORD>(nAclLength & ~3u);
  pAcl->AceCount = 0;
  pAcl->Sbz2 = 0;
  return TRUE;
}

BOOL WINAPI IsValidAcl(PACL pAcl) { return acl_valid(pAcl); }

BOOL WINAPI GetAclInformation(PACL pAcl, LPVOID pAclInformation, DWORD nAclInformationLength,
                              ACL_INFORMATION_CLASS dwAclInformationClass) {
  if (!acl_valid(pAcl)) return fail(ERROR_INVALID_ACL);
  if (!pAclInformation) return fail(ERROR_INVALID_PARAMETER);
  if (dwAclInformationClass == AclRevisionInformation) {
    if (nAclInformationLength < sizeof(ACL_REVISION_INFORMATION))
      return fail(ERROR_INSUFFICIENT_BUFFER);
    static_cast<ACL_REVISION_INFORMATION*>(pAclInformation)->AclRevision = pAcl->AclRevision;
    return TRUE;
  }
  if (dwAclInformationClass == AclSizeInformation) {
    if (nAclInformationLength < sizeof(ACL_SIZE_INFORMATION))
      return fail(ERROR_INSUFFICIENT_BUFFER);
    auto* info = static_cast<ACL_SIZE_INFORMATION*>(pAclInformation);
    info->AceCount = pAcl->AceCount;
    info->AclBytesInUse = used_bytes(pAcl);
    info->AclBytesFree = pAcl->AclSize - info->AclBytesInUse;
    return TRUE;
  }
  return fail(ERROR_INVALID_PARAMETER);
}

BOOL WINAPI AddAccessAllowedAce(PACL pAcl, DWORD dwAceRevision, DWORD AccessMask, PSID pSid) {
  return add_ace(pAcl, dwAceRevision, 0, AccessMask, pSid, ACCESS_ALLOWED_ACE_TYPE);
}

BOOL WINAPI AddAccessAllowedAceEx(PACL pAcl, DWORD dwAceRevision, DWORD AceFlags, DWORD AccessMask,
                                  PSID pSid) {
  return add_ace(pAcl, dwAceRevision, AceFlags, AccessMask, pSid, ACCESS_ALLOWED_ACE_TYPE);
}

BOOL WINAPI AddAccessDeniedAce(PACL pAcl, DWORD dwAceRevision, DWORD AccessMask, PSID pSid) {
  return add_ace(pAcl, dwAceRevision, 0, AccessMask, pSid, ACCESS_DENIED_ACE_TYPE);
}

BOOL WINAPI AddAccessDeniedAceEx(PACL pAcl, DWORD dwAceRevision, DWORD AceFlags, DWORD AccessMask,
                                 PSID pSid) {
  return add_ace(pAcl, dwAceRevision, AceFlags, AccessMask, pSid, ACCESS_DENIED_ACE_TYPE);
}

BOOL WINAPI GetAce(PACL pAcl, DWORD dwAceIndex, LPVOID* pAce) {
  if (!acl_valid(pAcl)) return fail(ERROR_INVALID_ACL);
  if (!pAce || dwAceIndex >= pAcl->AceCount) return fail(ERROR_INVALID_PARAMETER);
  DWORD offset = sizeof(ACL);
  for (DWORD i = 0; i < dwAceIndex; ++i) offset += header_at(pAcl, offset).AceSize;
  *pAce = reinterpret_cast<BYTE*>(pAcl) + offset;
  return TRUE;
}

}  // extern "C"
