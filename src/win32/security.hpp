// The Win32 security structures (SIDs, ACLs, security descriptors) as the Win32 layer reads and
// writes them, and their translation to and from the engine's sluice::SecurityDescriptor.
//
// Layouts are Microsoft's (winnt.h): a SID is 8 bytes and 4 per sub-authority; an ACL an 8-byte
// header and its ACEs, each starting with an ACE_HEADER whose AceSize is a multiple of 4; a
// descriptor is absolute (pointers) or self-relative (offsets, SE_SELF_RELATIVE).
#pragma once

#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/security.hpp"

namespace sluice::win32 {

using Bytes = std::vector<BYTE>;

// ---- SIDs (sid.cpp) -----------------------------------------------------------------------------

/// Whether `sid` points at a well-formed SID (revision 1, at most 15 sub-authorities).
bool sid_valid(const void* sid) noexcept;
/// Its size in bytes (the SID must be valid).
DWORD sid_length(const void* sid) noexcept;
/// A SID of 48-bit authority `authority` and the given sub-authorities.
Bytes make_sid(std::uint64_t authority, std::initializer_list<DWORD> sub_authorities);
Bytes sid_bytes(const void* sid);
/// "S-1-5-32-544"; the authority in hexadecimal ("0x...") when it needs more than 32 bits, as
/// Windows writes it.
std::string sid_to_string(const void* sid);
/// From "S-1-..." or an SDDL alias ("WD", "BA", ...); nullopt when it is neither.
std::optional<Bytes> sid_from_string(std::string_view text);
/// The SDDL alias of a SID ("WD"), or "" when it has none.
std::string sid_alias(const void* sid);

/// Whom a SID means for an access check (nobody for SIDs without a Linux meaning).
Trustee trustee_of_sid(const void* sid);
/// The SID that stands for `who`; the owner rule of a pipe owned by `owner_uid` becomes that
/// user's SID (Windows shows CREATOR OWNER replaced by the owner once the object exists).
Bytes sid_of_trustee(const Trustee& who, std::optional<std::uint32_t> owner_uid);
/// The uid of a user SID (S-1-22-1-uid; LocalSystem and Administrators are uid 0) / the gid of a
/// group SID (S-1-22-2-gid).
std::optional<std::uint32_t> uid_of_sid(const void* sid);
std::optional<std::uint32_t> gid_of_sid(const void* sid);
Bytes user_sid(std::uint32_t uid);
Bytes group_sid(std::uint32_t gid);

// ---- ACLs (acl.cpp) -----------------------------------------------------------------------------

/// Whether `acl` is well formed: revision 2..4, the ACEs inside AclSize, allow and deny ACEs
/// with a valid SID.
bool acl_valid(const ACL* acl) noexcept;
/// One ACE to write into an ACL.
struct AceSpec {
  BYTE type = ACCESS_ALLOWED_ACE_TYPE;
  BYTE flags = 0;
  DWORD mask = 0;
  Bytes sid;
};
/// A whole ACL (revision 2) holding `aces`.
Bytes make_acl(const std::vector<AceSpec>& aces);
/// The allow and deny ACEs of a valid ACL, in order (other ACE types are left out).
std::vector<AceSpec> aces_of(const ACL* acl);

// ---- descriptors (security_descriptor.cpp) ------------------------------------------------------

/// A descriptor of either form, read.
struct DescriptorView {
  BYTE revision = 0;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  const void* owner = nullptr;
  const void* group = nullptr;
  const ACL* dacl = nullptr;  ///< null with SE_DACL_PRESENT: a NULL DACL
};
DescriptorView view_of(const void* descriptor) noexcept;

/// The parts of a self-relative descriptor to make.
struct DescriptorParts {
  Bytes owner;  ///< empty: none
  Bytes group;
  bool dacl_present = false;
  Bytes dacl;                                     ///< empty with dacl_present: a NULL DACL
  SECURITY_DESCRIPTOR_CONTROL extra_control = 0;  ///< SE_DACL_PROTECTED and the like
};
/// A self-relative descriptor in LocalAlloc memory (freed with LocalFree); null when out of
/// memory (last error set).
void* make_self_relative(const DescriptorParts& parts, DWORD* size);
/// The parts of the engine's descriptor, as GetSecurityInfo reports them.
DescriptorParts parts_of(const SecurityDescriptor& sd);

/// The descriptor a pipe gets from a Win32 one (CreateNamedPipe's lpSecurityDescriptor): NULL
/// gives Windows' default. Returns ERROR_SUCCESS or the Win32 error for an invalid one.
DWORD engine_descriptor(const void* descriptor, SecurityDescriptor* out);
/// The rule list of a DACL (NULL: a NULL DACL) for the engine (ERROR_INVALID_ACL when invalid).
DWORD engine_rules(const ACL* dacl, SecurityDescriptor* out);
/// Owner and group from SIDs (ERROR_INVALID_OWNER / ERROR_INVALID_PRIMARY_GROUP when the SID has
/// no Linux id, or names another user while this process is not root).
DWORD engine_owner(const void* sid, SecurityDescriptor* out);
DWORD engine_group(const void* sid, SecurityDescriptor* out);

}  // namespace sluice::win32
