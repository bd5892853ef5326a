// Security descriptors (securitybaseapi.h): the absolute form programs fill in with the Set*
// functions, the self-relative form this layer hands out (ConvertStringSecurityDescriptor...,
// GetSecurityInfo), and the translation of either into the descriptor the engine checks
// clients against (Microsoft's "Absolute and Self-Relative Security Descriptors" page).
#include <windows.h>

#include <cstring>

#include "sluice/accounts.hpp"
#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

const BYTE* base_of(const void* descriptor) { return static_cast<const BYTE*>(descriptor); }

template <class T>
const T* at_offset(const void* descriptor, DWORD offset) {
  return offset ? reinterpret_cast<const T*>(base_of(descriptor) + offset) : nullptr;
}

// The checks every Set function makes first (RtlSet*SecurityDescriptor's order).
BOOL check_settable(PSECURITY_DESCRIPTOR sd) {
  if (!sd) return fail(ERROR_INVALID_PARAMETER);
  auto* abs = static_cast<SECURITY_DESCRIPTOR*>(sd);
  if (abs->Revision != SECURITY_DESCRIPTOR_REVISION) return fail(ERROR_UNKNOWN_REVISION);
  if (abs->Control & SE_SELF_RELATIVE) return fail(ERROR_INVALID_SECURITY_DESCR);
  return TRUE;
}

BOOL check_readable(PSECURITY_DESCRIPTOR sd) {
  if (!sd) return fail(ERROR_INVALID_PARAMETER);
  if (static_cast<SECURITY_DESCRIPTOR*>(sd)->Revision != SECURITY_DESCRIPTOR_REVISION)
    return fail(ERROR_UNKNOWN_REVISION);
  return TRUE;
}

DWORD acl_size(const ACL* acl) { return acl ? acl->AclSize : 0; }

// Sets a SID field of an absolute descriptor and its "defaulted" bit.
BOOL set_sid_field(PSECURITY_DESCRIPTOR sd, PSID* field, PSID sid, BOOL defaulted, WORD bit) {
  if (!check_settable(sd)) return FALSE;
  auto* abs = static_cast<SECURITY_DESCRIPTOR*>(sd);
  *field = sid;
  abs->Control = static_cast<WORD>(defaulted ? abs->Control | bit : abs->Control & ~bit);
  return TRUE;
}

BOOL get_sid_field(PSECURITY_DESCRIPTOR sd, const void* sid, PSID* out, LPBOOL defaulted,
                   WORD bit) {
  if (!out || !defaulted) return fail(ERROR_INVALID_PARAMETER);
  *out = const_cast<void*>(sid);
  *defaulted = (static_cast<SECURITY_DESCRIPTOR*>(sd)->Control & bit) != 0;
  return TRUE;
}

}  // namespace

DescriptorView view_of(const void* descriptor) noexcept {
  DescriptorView v;
  const auto* abs = static_cast<const SECURITY_DESCRIPTOR*>(descriptor);
  v.revision = abs->Revision;
  v.control = abs->Control;
  if (v.control & SE_SELF_RELATIVE) {
    const auto* rel = static_cast<const SECURITY_DESCRIPTOR_RELATIVE*>(descriptor);
    v.owner = at_offset<BYTE>(descriptor, rel->Owner);
    v.group = at_offset<BYTE>(descriptor, rel->Group);
    if (v.control & SE_DACL_PRESENT) v.dacl = at_offset<ACL>(descriptor, rel->Dacl);
  } else {
    v.owner = abs->Owner;
    v.group = abs->Group;
    if (v.control & SE_DACL_PRESENT) v.dacl = abs->Dacl;
  }
  return v;
}

void* make_self_relative(const DescriptorParts& parts, DWORD* size) {
  const DWORD header = sizeof(SECURITY_DESCRIPTOR_RELATIVE);
  const bool has_dacl = parts.dacl_present && !parts.dacl.empty();
  *size = header + static_cast<DWORD>(parts.owner.size() + parts.group.size() +
                                      (has_dacl ? parts.dacl.size() : 0));
  auto* out = static_cast<BYTE*>(LocalAlloc(LMEM_ZEROINIT, *size));
  if (!out) return nullptr;
  SECURITY_DESCRIPTOR_RELATIVE rel{};
  rel.Revision = SECURITY_DESCRIPTOR_REVISION;
  rel.Control = static_cast<WORD>(SE_SELF_RELATIVE | parts.extra_control |
                                  (parts.dacl_present ? SE_DACL_PRESENT : 0));
  DWORD at = header;
  auto place = [&](const Bytes& part, DWORD* offset) {
    if (part.empty()) return;
    std::memcpy(out + at, part.data(), part.size());
    *offset = at;
    at += static_cast<DWORD>(part.size());
  };
  place(parts.owner, &rel.Owner);
  place(parts.group, &rel.Group);
  if (has_dacl) place(parts.dacl, &rel.Dacl);
  std::memcpy(out, &rel, sizeof rel);
  return out;
}

DescriptorParts parts_of(const SecurityDescriptor& sd) {
  DescriptorParts parts;
  if (sd.owner) parts.owner = user_sid(*sd.owner);
  if (sd.group) parts.group = group_sid(*sd.group);
  parts.dacl_present = true;
  if (!sd.has_rules) return parts;  // a NULL DACL
  std::vector<AceSpec> aces;
  for (const auto& rule : sd.rules) {
    AceSpec ace;
    ace.type =
        rule.type == AccessRule::Type::kAllow ? ACCESS_ALLOWED_ACE_TYPE : ACCESS_DENIED_ACE_TYPE;
    ace.mask = rule.rights;
    ace.sid = sid_of_trustee(rule.who, sd.owner);
    aces.push_back(std::move(ace));
  }
  parts.dacl = make_acl(aces);
  return parts;
}

DWORD engine_rules(const ACL* dacl, SecurityDescriptor* out) {
  out->rules.clear();
  if (!dacl) {
    out->has_rules = false;
    return ERROR_SUCCESS;
  }
  if (!acl_valid(dacl)) return ERROR_INVALID_ACL;
  out->has_rules = true;
  for (const auto& ace : aces_of(dacl)) {
    // An inherit-only ACE is for objects created inside this one; a pipe has none.
    if (ace.flags & INHERIT_ONLY_ACE) continue;
    AccessRule rule;
    rule.type =
        ace.type == ACCESS_ALLOWED_ACE_TYPE ? AccessRule::Type::kAllow : AccessRule::Type::kDeny;
    rule.who = trustee_of_sid(ace.sid.data());
    rule.rights = ace.mask;
    out->rules.push_back(rule);
  }
  return ERROR_SUCCESS;
}

DWORD engine_owner(const void* sid, SecurityDescriptor* out) {
  if (!sid_valid(sid)) return ERROR_INVALID_SID;
  auto uid = uid_of_sid(sid);
  // Windows lets a caller make only itself (or a group it owns) the owner, unless it holds
  // SeRestorePrivilege; root stands for that privilege here.
  const std::uint32_t self = current_user_id();
  if (!uid || (self != 0 && *uid != self)) return ERROR_INVALID_OWNER;
  out->owner = *uid;
  return ERROR_SUCCESS;
}

DWORD engine_group(const void* sid, SecurityDescriptor* out) {
  if (!sid_valid(sid)) return ERROR_INVALID_SID;
  auto gid = gid_of_sid(sid);
  if (!gid) return ERROR_INVALID_PRIMARY_GROUP;
  out->group = *gid;
  return ERROR_SUCCESS;
}

DWORD engine_descriptor(const void* descriptor, SecurityDescriptor* out) {
  *out = SecurityDescriptor::windows_default();
  if (!descriptor) return ERROR_SUCCESS;
  DescriptorView v = view_of(descriptor);
  // The kernel's capture of a descriptor checks the revision before anything else.
  if (v.revision != SECURITY_DESCRIPTOR_REVISION) return ERROR_UNKNOWN_REVISION;
  if (v.owner) {
    if (DWORD e = engine_owner(v.owner, out)) return e;
  }
  if (v.group) {
    if (DWORD e = engine_group(v.group, out)) return e;
  }
  // No DACL at all: the object gets the default (Microsoft: "Creating a DACL").
  if (!(v.control & SE_DACL_PRESENT)) return ERROR_SUCCESS;
  return engine_rules(v.dacl, out);
}

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI InitializeSecurityDescriptor(PSECURITY_DESCRIPTOR pSecurityDescriptor,
                                         DWORD dwRevision) {
  if (!pSecurityDescriptor) return fail(ERROR_INVALID_PARAMETER);
  if (dwRevision != SECURITY_DESCRIPTOR_REVISION) return fail(ERROR_UNKNOWN_REVISION);
  std::memset(pSecurityDescriptor, 0, sizeof(SECURITY_DESCRIPTOR));
  static_cast<SECURITY_DESCRIPTOR*>(pSecurityDescriptor)->Revision = SECURITY_DESCRIPTOR_REVISION;
  return TRUE;
}

BOOL WINAPI IsValidSecurityDescriptor(PSECURITY_DESCRIPTOR pSecurityDescriptor) {
  if (!pSecurityDescriptor) return fail(ERROR_INVALID_PARAMETER);
  DescriptorView v = view_of(pSecurityDescriptor);
  if (v.revision != SECURITY_DESCRIPTOR_REVISION) return fail(ERROR_INVALID_SECURITY_DESCR);
  if ((v.owner && !sid_valid(v.owner)) || (v.group && !sid_valid(v.group)) ||
      (v.dacl && !acl_valid(v.dacl)))
    return fail(ERROR_INVALID_SECURITY_DESCR);
  return TRUE;
}

DWORD WINAPI GetSecurityDescriptorLength(PSECURITY_DESCRIPTOR pSecurityDescriptor) {
  if (!pSecurityDescriptor) return 0;
  DescriptorView v = view_of(pSecurityDescriptor);
  DWORD size = sizeof(SECURITY_DESCRIPTOR_RELATIVE);
  if (sid_valid(v.owner)) size += sid_length(v.owner);
  if (sid_valid(v.group)) size += sid_length(v.group);
  return size + acl_size(v.dacl);
}

BOOL WINAPI GetSecurityDescriptorControl(PSECURITY_DESCRIPTOR pSecurityDescriptor,
                                         PSECURITY_DESCRIPTOR_CONTROL pControl,
                                         LPDWORD lpdwRevision) {
  if (!pControl || !lpdwRevision || !pSecurityDescriptor) return fail(ERROR_INVALID_PARAMETER);
  auto* abs = static_cast<SECURITY_DESCRIPTOR*>(pSecurityDescriptor);
  *lpdwRevision = abs->Revision;
  *pControl = abs->Control;
  if (abs->Revision != SECURITY_DESCRIPTOR_REVISION) return fail(ERROR_UNKNOWN_REVISION);
  return TRUE;
}

BOOL WINAPI SetSecurityDescriptorDacl(PSECURITY_DESCRIPTOR pSecurityDescriptor, BOOL bDaclPresent,
                                      PACL pDacl, BOOL bDaclDefaulted) {
  if (!check_settable(pSecurityDescriptor)) return FALSE;
  auto* abs = static_cast<SECURITY_DESCRIPTOR*>(pSecurityDescriptor);
  if (!bDaclPresent) {
    abs->Control &= static_cast<WORD>(~SE_DACL_PRESENT);
    return TRUE;
  }
  abs->Dacl = pDacl;
  abs->Control |= SE_DACL_PRESENT;
  abs->Control = static_cast<WORD>(bDaclDefaulted ? abs->Control | SE_DACL_DEFAULTED
                                                  : abs->Control & ~SE_DACL_DEFAULTED);
  return TRUE;
}

BOOL WINAPI GetSecurityDescriptorDacl(PSECURITY_DESCRIPTOR pSecurityDescriptor,
                                      LPBOOL lpbDaclPresent, PACL* pDacl, LPBOOL lpbDaclDefaulted) {
  if (!check_readable(pSecurityDescriptor)) return FALSE;
  if (!lpbDaclPresent || !pDacl || !lpbDaclDefaulted) return fail(ERROR_INVALID_PARAMETER);
  DescriptorView v = view_of(pSecurityDescriptor);
  *lpbDaclPresent = (v.control & SE_DACL_PRESENT) != 0;
  // Windows leaves *pDacl and *lpbDaclDefaulted alone when no DACL is present.
  if (*lpbDaclPresent) {
    *pDacl = const_cast<ACL*>(v.dacl);
    *lpbDaclDefaulted = (v.control & SE_DACL_DEFAULTED) != 0;
  }
  return TRUE;
}

BOOL WINAPI SetSecurityDescriptorOwner(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID pOwner,
                                       BOOL bOwnerDefaulted) {
  auto* abs = static_cast<SECURITY_DESCRIPTOR*>(pSecurityDescriptor);
  return set_sid_field(pSecurityDescriptor, abs ? &abs->Owner : nullptr, pOwner, bOwnerDefaulted,
                       SE_OWNER_DEFAULTED);
}

BOOL WINAPI GetSecurityDescriptorOwner(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID* pOwner,
                                       LPBOOL lpbOwnerDefaulted) {
  if (!check_readable(pSecurityDescriptor)) return FALSE;
  return get_sid_field(pSecurityDescriptor, view_of(pSecurityDescriptor).owner, pOwner,
                       lpbOwnerDefaulted, SE_OWNER_DEFAULTED);
}

BOOL WINAPI SetSecurityDescriptorGroup(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID pGroup,
                                       BOOL bGroupDefaulted) {
  auto* abs = static_cast<SECURITY_DESCRIPTOR*>(pSecurityDescriptor);
  return set_sid_field(pSecurityDescriptor, abs ? &abs->Group : nullptr, pGroup, bGroupDefaulted,
                       SE_GROUP_DEFAULTED);
}

BOOL WINAPI GetSecurityDescriptorGroup(PSECURITY_DESCRIPTOR pSecurityDescriptor, PSID* pGroup,
                                       LPBOOL lpbGroupDefaulted) {
  if (!check_readable(pSecurityDescriptor)) return FALSE;
  return get_sid_field(pSecurityDescriptor, view_of(pSecurityDescriptor).group, pGroup,
                       lpbGroupDefaulted, SE_GROUP_DEFAULTED);
}

}  // extern "C"
