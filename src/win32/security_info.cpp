// GetSecurityInfo and SetSecurityInfo (aclapi.h) on named-pipe handles: the pipe's descriptor
// through the C++ API (PipeEnd::security), in Windows' self-relative form.
#include <windows.h>
#include <aclapi.h>

#include "win32/objects.hpp"
#include "win32/security.hpp"

namespace sluice::win32 {
namespace {

constexpr SECURITY_INFORMATION kOwnerGroupDacl =
    OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;

// The pipe end behind a handle, or the error GetSecurityInfo/SetSecurityInfo return.
DWORD pipe_of(HANDLE handle, SE_OBJECT_TYPE type, std::shared_ptr<NamedPipeObject>* out) {
  if (type != SE_KERNEL_OBJECT && type != SE_FILE_OBJECT) return ERROR_INVALID_PARAMETER;
  auto object = globals().handles.get(handle);
  if (!object || object->kind() != Kind::kNamedPipe) return ERROR_INVALID_HANDLE;
  *out = std::static_pointer_cast<NamedPipeObject>(object);
  return ERROR_SUCCESS;
}

DWORD get_info(HANDLE handle, SE_OBJECT_TYPE type, SECURITY_INFORMATION what, PSID* owner,
               PSID* group, PACL* dacl, PACL* sacl, PSECURITY_DESCRIPTOR* descriptor) {
  if ((owner || group || dacl || sacl) && !descriptor) return ERROR_INVALID_PARAMETER;
  std::shared_ptr<NamedPipeObject> pipe;
  if (DWORD e = pipe_of(handle, type, &pipe)) return e;
  // Reading the SACL needs ACCESS_SYSTEM_SECURITY, which needs SeSecurityPrivilege; no process
  // holds it here.
  if (what & SACL_SECURITY_INFORMATION) return ERROR_PRIVILEGE_NOT_HELD;
  auto sd = pipe->end().security();
  if (!sd) return win32_code(sd.error());
  DescriptorParts all = parts_of(*sd);
  DescriptorParts parts;
  if (what & OWNER_SECURITY_INFORMATION) parts.owner = all.owner;
  if (what & GROUP_SECURITY_INFORMATION) parts.group = all.group;
  if (what & DACL_SECURITY_INFORMATION) {
    parts.dacl_present = true;
    parts.dacl = all.dacl;
  }
  DWORD size = 0;
  void* out = make_self_relative(parts, &size);
  if (!out) return ERROR_NOT_ENOUGH_MEMORY;
  DescriptorView v = view_of(out);
  if (owner) *owner = const_cast<void*>(v.owner);
  if (group) *group = const_cast<void*>(v.group);
  if (dacl) *dacl = const_cast<ACL*>(v.dacl);
  if (sacl) *sacl = nullptr;
  if (descriptor) {
    *descriptor = out;
  } else {
    LocalFree(out);
  }
  return ERROR_SUCCESS;
}

DWORD set_info(HANDLE handle, SE_OBJECT_TYPE type, SECURITY_INFORMATION what, PSID owner,
               PSID group, PACL dacl) {
  std::shared_ptr<NamedPipeObject> pipe;
  if (DWORD e = pipe_of(handle, type, &pipe)) return e;
  if (what & SACL_SECURITY_INFORMATION) return ERROR_PRIVILEGE_NOT_HELD;
  if (!pipe->is_server()) return ERROR_NOT_SUPPORTED;  // TODO(compat): client ends
  if (((what & DACL_SECURITY_INFORMATION) && !(pipe->security_access & WRITE_DAC)) ||
      ((what & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION)) &&
       !(pipe->security_access & WRITE_OWNER)))
    return ERROR_ACCESS_DENIED;
  auto now = pipe->end().security();
  if (!now) return win32_code(now.error());
  SecurityDescriptor next = *now;
  if (what & OWNER_SECURITY_INFORMATION) {
    if (DWORD e = engine_owner(owner, &next)) return e;
  }
  if (what & GROUP_SECURITY_INFORMATION) {
    if (DWORD e = engine_group(group, &next)) return e;
  }
  if (what & DACL_SECURITY_INFORMATION) {
    if (DWORD e = engine_rules(dacl, &next)) return e;
  }
  // TODO(compat): Windows changes the descriptor of the name, for every instance in every
  // process; this changes what the clients of this server end are checked against.
  auto r = pipe->end().set_security(next);
  return r ? ERROR_SUCCESS : win32_code(r.error());
}

}  // namespace
}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

DWORD WINAPI GetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType,
                             SECURITY_INFORMATION SecurityInfo, PSID* ppsidOwner, PSID* ppsidGroup,
                             PACL* ppDacl, PACL* ppSacl,
                             PSECURITY_DESCRIPTOR* ppSecurityDescriptor) {
  return guarded<DWORD>(ERROR_NOT_ENOUGH_MEMORY, [&] {
    return get_info(handle, ObjectType,
                    SecurityInfo & (kOwnerGroupDacl | SACL_SECURITY_INFORMATION), ppsidOwner,
                    ppsidGroup, ppDacl, ppSacl, ppSecurityDescriptor);
  });
}

DWORD WINAPI SetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType,
                             SECURITY_INFORMATION SecurityInfo, PSID psidOwner, PSID psidGroup,
                             PACL pDacl, PACL pSacl) {
  (void)pSacl;
  return guarded<DWORD>(ERROR_NOT_ENOUGH_MEMORY, [&] {
    return set_info(handle, ObjectType, SecurityInfo, psidOwner, psidGroup, pDacl);
  });
}

}  // extern "C"
