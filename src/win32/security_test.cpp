// SIDs, ACLs and security descriptors: call → return → last error, and the binary layouts
// programs written for Windows rely on.
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

struct Case {
  const char* call;
  BOOL result;
  DWORD error;
};

// Runs each call with the sentinel set first, then checks its result and last error.
#define SLUICE_CALL(expr) \
  (SetLastError(kSentinel), Case{#expr, static_cast<BOOL>(expr), GetLastError()})

// A SID from its string form (test input; freed with the vector).
std::vector<BYTE> sid(const char* text) {
  PSID p = nullptr;
  EXPECT_TRUE(ConvertStringSidToSidA(text, &p)) << text << " " << GetLastError();
  std::vector<BYTE> out(static_cast<BYTE*>(p), static_cast<BYTE*>(p) + GetLengthSid(p));
  LocalFree(p);
  return out;
}

std::string text_of(PSID p) {
  LPSTR s = nullptr;
  if (!ConvertSidToStringSidA(p, &s)) return "error " + std::to_string(GetLastError());
  std::string out = s;
  LocalFree(s);
  return out;
}

// ---- layouts -----------------------------------------------------------------------------------

TEST(Win32SecurityLayout, StructuresHaveTheSdkSizesAndOffsets) {
  EXPECT_EQ(sizeof(SID), 12u);
  EXPECT_EQ(offsetof(SID, IdentifierAuthority), 2u);
  EXPECT_EQ(offsetof(SID, SubAuthority), 8u);
  EXPECT_EQ(sizeof(ACL), 8u);
  EXPECT_EQ(sizeof(ACE_HEADER), 4u);
  EXPECT_EQ(offsetof(ACCESS_ALLOWED_ACE, SidStart), 8u);
  EXPECT_EQ(sizeof(SECURITY_DESCRIPTOR), 40u);
  EXPECT_EQ(offsetof(SECURITY_DESCRIPTOR, Owner), 8u);
  EXPECT_EQ(offsetof(SECURITY_DESCRIPTOR, Dacl), 32u);
  EXPECT_EQ(sizeof(SECURITY_DESCRIPTOR_RELATIVE), 20u);
  EXPECT_EQ(SECURITY_DESCRIPTOR_MIN_LENGTH, 40u);
  EXPECT_EQ(SECURITY_MAX_SID_SIZE, 68u);
  EXPECT_EQ(sizeof(TOKEN_USER), 16u);
  EXPECT_EQ(sizeof(SID_AND_ATTRIBUTES), 16u);
}

TEST(Win32SecurityErrors, SecurityErrorCodesHaveWindowsTexts) {
  struct {
    DWORD code;
    const char* text;
  } cases[] = {
      {ERROR_INVALID_FLAGS, "Invalid flags."},
      {ERROR_UNKNOWN_REVISION, "The revision level is unknown."},
      {ERROR_REVISION_MISMATCH, "Indicates two revision levels are incompatible."},
      {ERROR_INVALID_OWNER, "This security ID may not be assigned as the owner of this object."},
      {ERROR_INVALID_PRIMARY_GROUP,
       "This security ID may not be assigned as the primary group of an object."},
      {ERROR_NONE_MAPPED, "No mapping between account names and security IDs was done."},
      {ERROR_INVALID_ACL, "The access control list (ACL) structure is invalid."},
      {ERROR_INVALID_SID, "The security ID structure is invalid."},
      {ERROR_INVALID_SECURITY_DESCR, "The security descriptor structure is invalid."},
      {ERROR_ALLOTTED_SPACE_EXCEEDED,
       "No more memory is available for security information updates."},
      {ERROR_BAD_DESCRIPTOR_FORMAT,
       "A security descriptor is not in the right format (absolute or self-relative)."},
  };
  for (const auto& c : cases) {
    char buffer[256];
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                             c.code, 0, buffer, sizeof buffer, nullptr);
    EXPECT_EQ(std::string(buffer, n), std::string(c.text) + "\r\n") << c.code;
  }
}

// ---- SIDs --------------------------------------------------------------------------------------

TEST(Win32Sid, AllocateAndInitializeSidBuildsTheSidWindowsDocuments) {
  SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
  PSID admins = nullptr;
  ASSERT_TRUE(AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
                                       0, 0, 0, 0, 0, 0, &admins));
  const BYTE expected[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
  ASSERT_EQ(GetLengthSid(admins), sizeof expected);
  EXPECT_EQ(std::memcmp(admins, expected, sizeof expected), 0);
  EXPECT_TRUE(IsValidSid(admins));
  EXPECT_EQ(text_of(admins), "S-1-5-32-544");
  EXPECT_EQ(*GetSidSubAuthorityCount(admins), 2);
  EXPECT_EQ(*GetSidSubAuthority(admins, 1), 544u);
  EXPECT_EQ(GetSidIdentifierAuthority(admins)->Value[5], 5);
  EXPECT_TRUE(IsWellKnownSid(admins, WinBuiltinAdministratorsSid));
  EXPECT_EQ(FreeSid(admins), nullptr);
}

TEST(Win32Sid, InvalidArgumentsGiveWindowsErrors) {
  SID_IDENTIFIER_AUTHORITY world = SECURITY_WORLD_SID_AUTHORITY;
  PSID out = nullptr;
  LPSTR text = nullptr;
  BYTE bad_revision[12] = {2, 1, 0, 0, 0, 0, 0, 1};
  BYTE too_many[12] = {1, 16, 0, 0, 0, 0, 0, 1};
  auto everyone = sid("S-1-1-0");
  BYTE small[8];
  DWORD size = sizeof small;
  DWORD unsupported_size = sizeof small;
  struct {
    Case c;
    DWORD error;
  } cases[] = {
      {SLUICE_CALL(AllocateAndInitializeSid(&world, 9, 0, 0, 0, 0, 0, 0, 0, 0, &out)),
       ERROR_INVALID_SID},
      // IsValidSid has no extended error (Microsoft's page says so): the last error stays.
      {SLUICE_CALL(IsValidSid(bad_revision)), kSentinel},
      {SLUICE_CALL(IsValidSid(too_many)), kSentinel},
      {SLUICE_CALL(IsValidSid(nullptr)), kSentinel},
      {SLUICE_CALL(EqualSid(bad_revision, everyone.data())), ERROR_INVALID_SID},
      {SLUICE_CALL(CopySid(sizeof small, small, everyone.data())), ERROR_INSUFFICIENT_BUFFER},
      {SLUICE_CALL(CopySid(sizeof small, small, bad_revision)), ERROR_INVALID_SID},
      {SLUICE_CALL(ConvertSidToStringSidA(too_many, &text)), ERROR_INVALID_SID},
      {SLUICE_CALL(CreateWellKnownSid(WinWorldSid, nullptr, small, &size)),
       ERROR_INSUFFICIENT_BUFFER},
      {SLUICE_CALL(CreateWellKnownSid(static_cast<WELL_KNOWN_SID_TYPE>(60), nullptr, small,
                                      &unsupported_size)),
       ERROR_INVALID_PARAMETER},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.c.result) << c.c.call;
    EXPECT_EQ(c.c.error, c.error) << c.c.call;
  }
  EXPECT_EQ(size, 12u) << "CreateWellKnownSid reports the size it needs";
  EXPECT_EQ(GetLengthSid(bad_revision), 0u);
}

TEST(Win32Sid, EqualSidComparesAndReportsSuccessWhenTheyDiffer) {
  auto a = sid("S-1-22-1-1001");
  auto b = sid("S-1-22-1-1001");
  auto c = sid("S-1-22-2-1001");
  EXPECT_TRUE(EqualSid(a.data(), b.data()));
  SetLastError(kSentinel);
  EXPECT_FALSE(EqualSid(a.data(), c.data()));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SUCCESS));
}

TEST(Win32Sid, CreateWellKnownSidMakesTheSidsPipeDescriptorsName) {
  struct {
    WELL_KNOWN_SID_TYPE type;
    const char* text;
  } cases[] = {
      {WinWorldSid, "S-1-1-0"},
      {WinCreatorOwnerSid, "S-1-3-0"},
      {WinCreatorOwnerRightsSid, "S-1-3-4"},
      {WinNetworkSid, "S-1-5-2"},
      {WinInteractiveSid, "S-1-5-4"},
      {WinAnonymousSid, "S-1-5-7"},
      {WinAuthenticatedUserSid, "S-1-5-11"},
      {WinLocalSystemSid, "S-1-5-18"},
      {WinBuiltinAdministratorsSid, "S-1-5-32-544"},
      {WinBuiltinUsersSid, "S-1-5-32-545"},
  };
  for (const auto& c : cases) {
    BYTE buffer[SECURITY_MAX_SID_SIZE];
    DWORD size = sizeof buffer;
    ASSERT_TRUE(CreateWellKnownSid(c.type, nullptr, buffer, &size)) << c.text;
    EXPECT_EQ(size, GetLengthSid(buffer)) << c.text;
    EXPECT_EQ(text_of(buffer), c.text);
    EXPECT_TRUE(IsWellKnownSid(buffer, c.type)) << c.text;
  }
}

TEST(Win32Sid, StringSidsRoundTripAndBadOnesGiveInvalidSid) {
  for (const char* text : {"S-1-0-0", "S-1-5-32-544", "S-1-22-1-1001", "S-1-22-2-1500",
                           "S-1-5-21-1-2-3-1000", "S-1-5", "S-1-0x123456789ABC-7"}) {
    auto bytes = sid(text);
    std::string back = text_of(bytes.data());
    EXPECT_EQ(back, std::string(text) == "S-1-0x123456789ABC-7" ? "S-1-0x123456789ABC-7" : text);
  }
  // The SDDL aliases are SIDs too.
  EXPECT_EQ(text_of(sid("WD").data()), "S-1-1-0");
  EXPECT_EQ(text_of(sid("BA").data()), "S-1-5-32-544");
  EXPECT_EQ(text_of(sid("AU").data()), "S-1-5-11");
  PSID out = nullptr;
  for (const char* bad :
       {"", "S", "S-1", "S-2-5-18", "X-1-5-18", "S-1-5-18-", "S-1--5", "S-1-5-4294967296",
        "S-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", "ZZ", "S-1-5-18 "}) {
    SetLastError(kSentinel);
    EXPECT_FALSE(ConvertStringSidToSidA(bad, &out)) << '"' << bad << '"';
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_SID)) << '"' << bad << '"';
  }
  SetLastError(kSentinel);
  EXPECT_FALSE(ConvertStringSidToSidA(nullptr, &out));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(Win32Sid, WideStringSidFunctionsMatchTheAnsiOnes) {
  PSID p = nullptr;
  ASSERT_TRUE(ConvertStringSidToSidW(L"S-1-22-2-1500", &p));
  LPWSTR text = nullptr;
  ASSERT_TRUE(ConvertSidToStringSidW(p, &text));
  EXPECT_EQ(std::wstring(text), L"S-1-22-2-1500");
  LocalFree(text);
  LocalFree(p);
}

// ---- ACLs --------------------------------------------------------------------------------------

TEST(Win32Acl, AcesAreAppendedInTheDocumentedLayout) {
  alignas(4) BYTE buffer[64];
  auto* acl = reinterpret_cast<PACL>(buffer);
  auto everyone = sid("S-1-1-0");
  auto alice = sid("S-1-22-1-1001");
  ASSERT_TRUE(InitializeAcl(acl, sizeof buffer, ACL_REVISION));
  EXPECT_EQ(acl->AclRevision, ACL_REVISION);
  EXPECT_EQ(acl->AclSize, sizeof buffer);
  EXPECT_EQ(acl->AceCount, 0);
  ASSERT_TRUE(AddAccessDeniedAce(acl, ACL_REVISION, FILE_WRITE_DATA, alice.data()));
  ASSERT_TRUE(AddAccessAllowedAceEx(acl, ACL_REVISION, CONTAINER_INHERIT_ACE, GENERIC_READ,
                                    everyone.data()));
  EXPECT_EQ(acl->AceCount, 2);
  EXPECT_TRUE(IsValidAcl(acl));
  void* ace = nullptr;
  ASSERT_TRUE(GetAce(acl, 0, &ace));
  auto* denied = static_cast<ACCESS_DENIED_ACE*>(ace);
  EXPECT_EQ(ace, buffer + sizeof(ACL));
  EXPECT_EQ(denied->Header.AceType, ACCESS_DENIED_ACE_TYPE);
  EXPECT_EQ(denied->Header.AceSize, 8 + alice.size());
  EXPECT_EQ(denied->Mask, static_cast<DWORD>(FILE_WRITE_DATA));
  EXPECT_TRUE(EqualSid(&denied->SidStart, alice.data()));
  ASSERT_TRUE(GetAce(acl, 1, &ace));
  auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
  EXPECT_EQ(allowed->Header.AceType, ACCESS_ALLOWED_ACE_TYPE);
  EXPECT_EQ(allowed->Header.AceFlags, CONTAINER_INHERIT_ACE);
  EXPECT_EQ(allowed->Mask, static_cast<DWORD>(GENERIC_READ));
  ACL_SIZE_INFORMATION info{};
  ASSERT_TRUE(GetAclInformation(acl, &info, sizeof info, AclSizeInformation));
  EXPECT_EQ(info.AceCount, 2u);
  EXPECT_EQ(info.AclBytesInUse, sizeof(ACL) + 8 + alice.size() + 8 + everyone.size());
  EXPECT_EQ(info.AclBytesFree, sizeof buffer - info.AclBytesInUse);
}

TEST(Win32Acl, InvalidAclsAcesAndSidsGiveWindowsErrors) {
  alignas(4) BYTE buffer[48];
  auto* acl = reinterpret_cast<PACL>(buffer);
  alignas(4) BYTE corrupt[32];
  auto* broken = reinterpret_cast<PACL>(corrupt);
  ASSERT_TRUE(InitializeAcl(broken, sizeof corrupt, ACL_REVISION));
  broken->AceCount = 1;  // an ACE that is not there: AceSize 0
  // ACEs of a type without a SID that run past AclSize, or have no size.
  alignas(4) BYTE overflowing[16] = {2, 0, 16, 0, 1, 0, 0, 0, SYSTEM_AUDIT_ACE_TYPE, 0, 64, 0};
  alignas(4) BYTE zero_size[16] = {2, 0, 16, 0, 1, 0, 0, 0, SYSTEM_AUDIT_ACE_TYPE, 0, 0, 0};
  auto everyone = sid("S-1-1-0");
  BYTE bad_sid[12] = {3, 1, 0, 0, 0, 0, 0, 1};
  LPVOID ace = nullptr;
  ASSERT_TRUE(InitializeAcl(acl, sizeof buffer, ACL_REVISION));
  struct {
    Case c;
    DWORD error;
  } cases[] = {
      {SLUICE_CALL(InitializeAcl(acl, 7, ACL_REVISION)), ERROR_INSUFFICIENT_BUFFER},
      {SLUICE_CALL(InitializeAcl(acl, sizeof buffer, 1)), ERROR_INVALID_PARAMETER},
      {SLUICE_CALL(InitializeAcl(acl, sizeof buffer, 5)), ERROR_INVALID_PARAMETER},
      {SLUICE_CALL(InitializeAcl(acl, 0x10000, ACL_REVISION)), ERROR_INVALID_PARAMETER},
      {SLUICE_CALL(AddAccessAllowedAce(broken, ACL_REVISION, GENERIC_ALL, everyone.data())),
       ERROR_INVALID_ACL},
      {SLUICE_CALL(AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, bad_sid)),
       ERROR_INVALID_SID},
      {SLUICE_CALL(AddAccessAllowedAce(acl, 7, GENERIC_ALL, everyone.data())),
       ERROR_REVISION_MISMATCH},
      {SLUICE_CALL(AddAccessDeniedAceEx(acl, ACL_REVISION, 0x20, GENERIC_ALL, everyone.data())),
       ERROR_INVALID_FLAGS},
      {SLUICE_CALL(IsValidAcl(broken)), kSentinel},
      {SLUICE_CALL(IsValidAcl(reinterpret_cast<PACL>(overflowing))), kSentinel},
      {SLUICE_CALL(IsValidAcl(reinterpret_cast<PACL>(zero_size))), kSentinel},
      {SLUICE_CALL(GetAce(acl, 0, &ace)), ERROR_INVALID_PARAMETER},
      {SLUICE_CALL(GetAce(broken, 0, &ace)), ERROR_INVALID_ACL},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.c.result) << c.c.call;
    EXPECT_EQ(c.c.error, c.error) << c.c.call;
  }
  // 8 + 20 + 20 = 48: two ACEs for a 12-byte SID fit exactly, a third does not.
  ASSERT_TRUE(InitializeAcl(acl, sizeof buffer, ACL_REVISION));
  ASSERT_TRUE(AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, everyone.data()));
  ASSERT_TRUE(AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, everyone.data()));
  SetLastError(kSentinel);
  EXPECT_FALSE(AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, everyone.data()));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ALLOTTED_SPACE_EXCEEDED));
  EXPECT_EQ(acl->AceCount, 2);
  // A DS-revision ACE raises the ACL's revision.
  ASSERT_TRUE(InitializeAcl(acl, sizeof buffer, ACL_REVISION));
  ASSERT_TRUE(AddAccessAllowedAce(acl, ACL_REVISION_DS, GENERIC_ALL, everyone.data()));
  EXPECT_EQ(acl->AclRevision, ACL_REVISION_DS);
}

// ---- descriptors -------------------------------------------------------------------------------

TEST(Win32SecurityDescriptor, TheNullDaclIdiomBuildsAnAbsoluteDescriptor) {
  SECURITY_DESCRIPTOR sd;
  std::memset(&sd, 0xAB, sizeof sd);
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  EXPECT_EQ(sd.Revision, 1);
  EXPECT_EQ(sd.Control, 0);
  EXPECT_EQ(sd.Owner, nullptr);
  EXPECT_EQ(sd.Dacl, nullptr);
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, nullptr, FALSE));
  EXPECT_EQ(sd.Control, SE_DACL_PRESENT);
  EXPECT_TRUE(IsValidSecurityDescriptor(&sd));
  BOOL present = FALSE, defaulted = TRUE;
  PACL dacl = reinterpret_cast<PACL>(&sd);
  ASSERT_TRUE(GetSecurityDescriptorDacl(&sd, &present, &dacl, &defaulted));
  EXPECT_TRUE(present);
  EXPECT_EQ(dacl, nullptr);
  EXPECT_FALSE(defaulted);
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  ASSERT_TRUE(GetSecurityDescriptorControl(&sd, &control, &revision));
  EXPECT_EQ(control, SE_DACL_PRESENT);
  EXPECT_EQ(revision, 1u);
  EXPECT_EQ(GetSecurityDescriptorLength(&sd), sizeof(SECURITY_DESCRIPTOR_RELATIVE));
}

TEST(Win32SecurityDescriptor, OwnerGroupAndDaclAreSetAndReadBack) {
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  auto owner = sid("S-1-22-1-0");
  auto group = sid("S-1-22-2-1500");
  alignas(4) BYTE buffer[64];
  auto* acl = reinterpret_cast<PACL>(buffer);
  ASSERT_TRUE(InitializeAcl(acl, sizeof buffer, ACL_REVISION));
  ASSERT_TRUE(SetSecurityDescriptorOwner(&sd, owner.data(), TRUE));
  ASSERT_TRUE(SetSecurityDescriptorGroup(&sd, group.data(), FALSE));
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, acl, TRUE));
  EXPECT_EQ(sd.Control, SE_OWNER_DEFAULTED | SE_DACL_PRESENT | SE_DACL_DEFAULTED);
  PSID got = nullptr;
  BOOL defaulted = FALSE;
  ASSERT_TRUE(GetSecurityDescriptorOwner(&sd, &got, &defaulted));
  EXPECT_EQ(got, owner.data());
  EXPECT_TRUE(defaulted);
  ASSERT_TRUE(GetSecurityDescriptorGroup(&sd, &got, &defaulted));
  EXPECT_EQ(got, group.data());
  EXPECT_FALSE(defaulted);
  EXPECT_EQ(GetSecurityDescriptorLength(&sd), 20 + owner.size() + group.size() + sizeof buffer);
  // Taking the DACL away clears SE_DACL_PRESENT; a DACL-less descriptor reports "not present".
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, FALSE, nullptr, FALSE));
  BOOL present = TRUE;
  PACL dacl = nullptr;
  ASSERT_TRUE(GetSecurityDescriptorDacl(&sd, &present, &dacl, &defaulted));
  EXPECT_FALSE(present);
}

TEST(Win32SecurityDescriptor, InvalidDescriptorsGiveWindowsErrors) {
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  SECURITY_DESCRIPTOR bad_revision = sd;
  bad_revision.Revision = 2;
  PSECURITY_DESCRIPTOR self_relative = nullptr;
  ASSERT_TRUE(ConvertStringSecurityDescriptorToSecurityDescriptorA(
      "D:(A;;GA;;;WD)", SDDL_REVISION_1, &self_relative, nullptr));
  BYTE bad_sid[12] = {5, 1, 0, 0, 0, 0, 0, 1};
  SECURITY_DESCRIPTOR with_bad_owner = sd;
  with_bad_owner.Owner = bad_sid;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = nullptr;
  struct {
    Case c;
    DWORD error;
  } cases[] = {
      {SLUICE_CALL(InitializeSecurityDescriptor(&sd, 2)), ERROR_UNKNOWN_REVISION},
      {SLUICE_CALL(SetSecurityDescriptorDacl(&bad_revision, TRUE, nullptr, FALSE)),
       ERROR_UNKNOWN_REVISION},
      {SLUICE_CALL(SetSecurityDescriptorDacl(self_relative, TRUE, nullptr, FALSE)),
       ERROR_INVALID_SECURITY_DESCR},
      {SLUICE_CALL(SetSecurityDescriptorOwner(self_relative, nullptr, FALSE)),
       ERROR_INVALID_SECURITY_DESCR},
      {SLUICE_CALL(GetSecurityDescriptorDacl(&bad_revision, &present, &dacl, &defaulted)),
       ERROR_UNKNOWN_REVISION},
      {SLUICE_CALL(IsValidSecurityDescriptor(&bad_revision)), ERROR_INVALID_SECURITY_DESCR},
      {SLUICE_CALL(IsValidSecurityDescriptor(&with_bad_owner)), ERROR_INVALID_SECURITY_DESCR},
      {SLUICE_CALL(InitializeSecurityDescriptor(nullptr, 1)), ERROR_INVALID_PARAMETER},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.c.result) << c.c.call;
    EXPECT_EQ(c.c.error, c.error) << c.c.call;
  }
  // A self-relative descriptor is read through its offsets.
  ASSERT_TRUE(GetSecurityDescriptorDacl(self_relative, &present, &dacl, &defaulted));
  EXPECT_TRUE(present);
  ASSERT_NE(dacl, nullptr);
  EXPECT_EQ(dacl->AceCount, 1);
  EXPECT_TRUE(IsValidSecurityDescriptor(self_relative));
  LocalFree(self_relative);
}

// ---- accounts ----------------------------------------------------------------------------------

TEST(Win32Accounts, WellKnownSidsHaveWindowsNames) {
  struct {
    const char* sid;
    const char* domain;
    const char* name;
    SID_NAME_USE use;
  } cases[] = {
      {"S-1-1-0", "", "Everyone", SidTypeWellKnownGroup},
      {"S-1-5-18", "NT AUTHORITY", "SYSTEM", SidTypeWellKnownGroup},
      {"S-1-5-11", "NT AUTHORITY", "Authenticated Users", SidTypeWellKnownGroup},
      {"S-1-5-7", "NT AUTHORITY", "ANONYMOUS LOGON", SidTypeWellKnownGroup},
      {"S-1-3-0", "", "CREATOR OWNER", SidTypeWellKnownGroup},
      {"S-1-5-32-544", "BUILTIN", "Administrators", SidTypeAlias},
      {"S-1-5-32-545", "BUILTIN", "Users", SidTypeAlias},
      {"S-1-22-1-0", "Unix User", "root", SidTypeUser},
      {"S-1-22-2-0", "Unix Group", "root", SidTypeGroup},
  };
  for (const auto& c : cases) {
    auto s = sid(c.sid);
    char name[64], domain[64];
    DWORD name_size = sizeof name, domain_size = sizeof domain;
    SID_NAME_USE use = SidTypeInvalid;
    ASSERT_TRUE(LookupAccountSidA(nullptr, s.data(), name, &name_size, domain, &domain_size, &use))
        << c.sid << " " << GetLastError();
    EXPECT_STREQ(name, c.name) << c.sid;
    EXPECT_STREQ(domain, c.domain) << c.sid;
    EXPECT_EQ(name_size, std::strlen(c.name)) << c.sid;
    EXPECT_EQ(domain_size, std::strlen(c.domain)) << c.sid;
    EXPECT_EQ(use, c.use) << c.sid;
    // And back, with and without the domain.
    for (std::string full : {std::string(c.name), std::string(c.domain) + "\\" + c.name}) {
      // A name alone finds the user before the group of the same name (documented).
      if (full[0] == '\\' || (c.use == SidTypeGroup && full.find('\\') == std::string::npos))
        continue;
      BYTE back[SECURITY_MAX_SID_SIZE];
      DWORD sid_size = sizeof back;
      domain_size = sizeof domain;
      ASSERT_TRUE(
          LookupAccountNameA(nullptr, full.c_str(), back, &sid_size, domain, &domain_size, &use))
          << full << " " << GetLastError();
      EXPECT_EQ(text_of(back), c.sid) << full;
      EXPECT_EQ(sid_size, s.size()) << full;
    }
  }
}

TEST(Win32Accounts, UnknownAccountsAndSmallBuffersGiveWindowsErrors) {
  auto nobody_uid = sid("S-1-22-1-3999999");  // no passwd entry
  auto unknown = sid("S-1-5-21-1-2-3-500");
  char name[4], domain[4];
  DWORD name_size = sizeof name, domain_size = sizeof domain;
  SID_NAME_USE use;
  SetLastError(kSentinel);
  EXPECT_FALSE(
      LookupAccountSidA(nullptr, nobody_uid.data(), name, &name_size, domain, &domain_size, &use));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NONE_MAPPED));
  SetLastError(kSentinel);
  EXPECT_FALSE(
      LookupAccountSidA(nullptr, unknown.data(), name, &name_size, domain, &domain_size, &use));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NONE_MAPPED));
  // Too small: the sizes needed, with the NUL.
  auto system = sid("S-1-5-18");
  SetLastError(kSentinel);
  EXPECT_FALSE(
      LookupAccountSidA(nullptr, system.data(), name, &name_size, domain, &domain_size, &use));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(name_size, 7u);     // "SYSTEM"
  EXPECT_EQ(domain_size, 13u);  // "NT AUTHORITY"
  DWORD sid_size = 0;
  domain_size = 0;
  SetLastError(kSentinel);
  EXPECT_FALSE(
      LookupAccountNameA(nullptr, "Everyone", nullptr, &sid_size, nullptr, &domain_size, &use));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  EXPECT_EQ(sid_size, 12u);
  EXPECT_EQ(domain_size, 1u);
  BYTE buffer[SECURITY_MAX_SID_SIZE];
  char big_domain[64];
  sid_size = sizeof buffer;
  domain_size = sizeof big_domain;
  for (const char* bad :
       {"no-such-user-sluice", "Unix Group\\no-such-group-sluice", "BUILTIN\\Everyone"}) {
    SetLastError(kSentinel);
    EXPECT_FALSE(
        LookupAccountNameA(nullptr, bad, buffer, &sid_size, big_domain, &domain_size, &use))
        << bad;
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NONE_MAPPED)) << bad;
  }
  SetLastError(kSentinel);
  EXPECT_FALSE(
      LookupAccountNameA("otherhost", "root", buffer, &sid_size, big_domain, &domain_size, &use));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BAD_NETPATH));
}

TEST(Win32Accounts, WideLookupsReturnWideNames) {
  auto s = sid("S-1-5-32-544");
  wchar_t name[64], domain[64];
  DWORD name_size = 64, domain_size = 64;
  SID_NAME_USE use;
  ASSERT_TRUE(LookupAccountSidW(nullptr, s.data(), name, &name_size, domain, &domain_size, &use));
  EXPECT_EQ(std::wstring(name), L"Administrators");
  EXPECT_EQ(std::wstring(domain), L"BUILTIN");
  BYTE back[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof back;
  domain_size = 64;
  ASSERT_TRUE(LookupAccountNameW(nullptr, L"NT AUTHORITY\\SYSTEM", back, &sid_size, domain,
                                 &domain_size, &use));
  EXPECT_EQ(text_of(back), "S-1-5-18");
}

// ---- sessions ----------------------------------------------------------------------------------

TEST(Win32Session, ProcessIdToSessionIdReadsTheAuditSession) {
  DWORD session = 12345;
  ASSERT_TRUE(ProcessIdToSessionId(GetCurrentProcessId(), &session));
  // The same number the pipe session queries give (/proc/self/sessionid, unset = 0).
  {
    sluice::win32::testing::ConnectedPipe pipe;
    ULONG from_pipe = 777;
    ASSERT_TRUE(GetNamedPipeServerSessionId(pipe.server, &from_pipe));
    EXPECT_EQ(session, from_pipe);
  }
  SetLastError(kSentinel);
  EXPECT_FALSE(ProcessIdToSessionId(0x7FFFFFF0, &session));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  SetLastError(kSentinel);
  EXPECT_FALSE(ProcessIdToSessionId(GetCurrentProcessId(), nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

}  // namespace
