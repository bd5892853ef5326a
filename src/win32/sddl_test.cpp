// SDDL strings to descriptors and back: the subset pipe programs write, round trips, and the
// errors of strings this layer cannot read.
#include <windows.h>
#include <sddl.h>

#include <gtest/gtest.h>

#include <string>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;

constexpr SECURITY_INFORMATION kAll =
    OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;

std::string to_string(PSECURITY_DESCRIPTOR sd, SECURITY_INFORMATION what = kAll) {
  LPSTR text = nullptr;
  ULONG length = 0;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, what, &text,
                                                            &length))
    return "error " + std::to_string(GetLastError());
  std::string out = text;
  EXPECT_EQ(length, out.size() + 1);
  LocalFree(text);
  return out;
}

// Converts and converts back.
std::string round_trip(const char* sddl, SECURITY_INFORMATION what = kAll) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  ULONG size = 0;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, &size))
    return "error " + std::to_string(GetLastError());
  EXPECT_EQ(size, GetSecurityDescriptorLength(sd)) << sddl;
  EXPECT_EQ(size, LocalSize(sd)) << sddl;
  EXPECT_TRUE(IsValidSecurityDescriptor(sd)) << sddl;
  std::string out = to_string(sd, what);
  LocalFree(sd);
  return out;
}

TEST(Win32Sddl, DescriptorsPipeProgramsWriteRoundTrip) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"D:(A;;GA;;;WD)", "D:(A;;GA;;;WD)"},
      {"D:(A;;GRGW;;;AU)(A;;GA;;;SY)(A;;GA;;;BA)", "D:(A;;GRGW;;;AU)(A;;GA;;;SY)(A;;GA;;;BA)"},
      {"D:(D;;FW;;;NU)(A;;FA;;;CO)(A;;FR;;;WD)", "D:(D;;FW;;;NU)(A;;FA;;;CO)(A;;FR;;;WD)"},
      {"O:BAG:SYD:(A;;FA;;;OW)(A;;FR;;;IU)(A;;FR;;;BU)(A;;FR;;;AN)",
       "O:BAG:SYD:(A;;FA;;;OW)(A;;FR;;;IU)(A;;FR;;;BU)(A;;FR;;;AN)"},
      {"O:S-1-22-1-1001G:S-1-22-2-1500D:(A;;0x12019b;;;S-1-22-2-1500)",
       "O:S-1-22-1-1001G:S-1-22-2-1500D:(A;;0x12019b;;;S-1-22-2-1500)"},
      {"D:P(A;OICI;FX;;;S-1-5-21-1-2-3-1000)", "D:P(A;OICI;FX;;;S-1-5-21-1-2-3-1000)"},
      // Single rights come back as codes, a mask without codes as hexadecimal.
      {"D:(A;;0x3;;;WD)(A;;0x80000000;;;WD)(A;;0x200;;;WD)",
       "D:(A;;CCDC;;;WD)(A;;GR;;;WD)(A;;0x200;;;WD)"},
      {"D:(A;;RCWDWO;;;WD)", "D:(A;;RCWDWO;;;WD)"},
      // Spaces around parts and fields, and lower-case SIDs, are read.
      {" D: ( A ; ; GA ; ; ; wd ) ", "D:(A;;GA;;;WD)"},
      {"D:NO_ACCESS_CONTROL", "D:NO_ACCESS_CONTROL"},
      {"D:", "D:"},
      {"", ""},
      {"O:SY", "O:SY"},
      // The SACL part is accepted and left out.
      {"D:(A;;GA;;;WD)S:(ML;;NW;;;LW)", "D:(A;;GA;;;WD)"},
  };
  for (const auto& c : cases) EXPECT_EQ(round_trip(c.in), c.out) << c.in;
}

TEST(Win32Sddl, OnlyThePartsAskedForAreWritten) {
  const char* sddl = "O:BAG:SYD:(A;;GA;;;WD)";
  EXPECT_EQ(round_trip(sddl, OWNER_SECURITY_INFORMATION), "O:BA");
  EXPECT_EQ(round_trip(sddl, GROUP_SECURITY_INFORMATION), "G:SY");
  EXPECT_EQ(round_trip(sddl, DACL_SECURITY_INFORMATION), "D:(A;;GA;;;WD)");
  EXPECT_EQ(round_trip(sddl, 0), "");
}

TEST(Win32Sddl, TheSelfRelativeDescriptorHasTheDocumentedLayout) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_TRUE(ConvertStringSecurityDescriptorToSecurityDescriptorA(
      "O:S-1-22-1-1001D:(D;;FW;;;S-1-22-1-1002)(A;;GA;;;WD)", SDDL_REVISION_1, &sd, nullptr));
  auto* rel = static_cast<SECURITY_DESCRIPTOR_RELATIVE*>(sd);
  EXPECT_EQ(rel->Revision, SECURITY_DESCRIPTOR_REVISION);
  EXPECT_EQ(rel->Control, SE_SELF_RELATIVE | SE_DACL_PRESENT);
  EXPECT_EQ(rel->Group, 0u);
  ASSERT_NE(rel->Owner, 0u);
  ASSERT_NE(rel->Dacl, 0u);
  auto* base = static_cast<BYTE*>(sd);
  LPSTR owner = nullptr;
  ASSERT_TRUE(ConvertSidToStringSidA(base + rel->Owner, &owner));
  EXPECT_STREQ(owner, "S-1-22-1-1001");
  LocalFree(owner);
  auto* dacl = reinterpret_cast<ACL*>(base + rel->Dacl);
  EXPECT_EQ(dacl->AclRevision, ACL_REVISION);
  EXPECT_EQ(dacl->AceCount, 2);
  void* ace = nullptr;
  ASSERT_TRUE(GetAce(dacl, 0, &ace));
  EXPECT_EQ(static_cast<ACE_HEADER*>(ace)->AceType, ACCESS_DENIED_ACE_TYPE);
  EXPECT_EQ(static_cast<ACCESS_DENIED_ACE*>(ace)->Mask, static_cast<DWORD>(FILE_GENERIC_WRITE));
  LocalFree(sd);
}

TEST(Win32Sddl, StringsThisLayerCannotReadGiveWindowsErrors) {
  struct {
    const char* in;
    DWORD revision;
    DWORD error;
  } cases[] = {
      {"D:(A;;GA;;;WD)", 2, ERROR_UNKNOWN_REVISION},
      {"ERROR:(D;;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_PARAMETER},
      {"X:(A;;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_PARAMETER},
      {"D:Q(A;;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_PARAMETER},
      {"D:(A;;ROB;;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;GR0x1;;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;0x1GR;;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(X;;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(AU;;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;XX;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;GA;;;WDANDSUCH)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;GA;;;S-1-x)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;GA;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;GA;;;WD;x)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(A;;GA;;;WD", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"D:(OA;;GA;bf967aba-0de6-11d0-a285-00aa003049e2;;WD)", SDDL_REVISION_1, ERROR_INVALID_ACL},
      {"O:XYD:(A;;GA;;;WD)", SDDL_REVISION_1, ERROR_INVALID_SID},
      {"G:S-1-", SDDL_REVISION_1, ERROR_INVALID_SID},
  };
  for (const auto& c : cases) {
    PSECURITY_DESCRIPTOR sd = reinterpret_cast<PSECURITY_DESCRIPTOR>(1);
    SetLastError(kSentinel);
    EXPECT_FALSE(
        ConvertStringSecurityDescriptorToSecurityDescriptorA(c.in, c.revision, &sd, nullptr))
        << c.in;
    EXPECT_EQ(GetLastError(), c.error) << c.in;
  }
  PSECURITY_DESCRIPTOR sd = nullptr;
  SetLastError(kSentinel);
  EXPECT_FALSE(
      ConvertStringSecurityDescriptorToSecurityDescriptorA(nullptr, SDDL_REVISION_1, &sd, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(Win32Sddl, WritingABadDescriptorGivesWindowsErrors) {
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  LPSTR text = nullptr;
  SetLastError(kSentinel);
  EXPECT_FALSE(ConvertSecurityDescriptorToStringSecurityDescriptorA(&sd, 2, kAll, &text, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_UNKNOWN_REVISION));
  BYTE bad_sid[12] = {9, 1, 0, 0, 0, 0, 0, 1};
  sd.Owner = bad_sid;
  SetLastError(kSentinel);
  EXPECT_FALSE(ConvertSecurityDescriptorToStringSecurityDescriptorA(&sd, SDDL_REVISION_1, kAll,
                                                                    &text, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_SID));
  sd.Owner = nullptr;
  alignas(4) BYTE acl_bytes[8] = {9, 0, 8, 0, 0, 0, 0, 0};  // revision 9
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, reinterpret_cast<PACL>(acl_bytes), FALSE));
  SetLastError(kSentinel);
  EXPECT_FALSE(ConvertSecurityDescriptorToStringSecurityDescriptorA(&sd, SDDL_REVISION_1, kAll,
                                                                    &text, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_ACL));
}

TEST(Win32Sddl, AnAbsoluteDescriptorBuiltByHandIsWritten) {
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, nullptr, FALSE));
  EXPECT_EQ(to_string(&sd), "D:NO_ACCESS_CONTROL");
  alignas(4) BYTE buffer[64];
  auto* acl = reinterpret_cast<PACL>(buffer);
  ASSERT_TRUE(InitializeAcl(acl, sizeof buffer, ACL_REVISION));
  BYTE everyone[SECURITY_MAX_SID_SIZE];
  DWORD size = sizeof everyone;
  ASSERT_TRUE(CreateWellKnownSid(WinWorldSid, nullptr, everyone, &size));
  ASSERT_TRUE(AddAccessAllowedAce(acl, ACL_REVISION, FILE_GENERIC_READ, everyone));
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, acl, FALSE));
  ASSERT_TRUE(SetSecurityDescriptorOwner(&sd, everyone, FALSE));
  EXPECT_EQ(to_string(&sd), "O:WDD:(A;;FR;;;WD)");
  // The wide form gives the same text.
  LPWSTR wide = nullptr;
  ULONG length = 0;
  ASSERT_TRUE(ConvertSecurityDescriptorToStringSecurityDescriptorW(&sd, SDDL_REVISION_1, kAll,
                                                                   &wide, &length));
  EXPECT_EQ(std::wstring(wide), L"O:WDD:(A;;FR;;;WD)");
  EXPECT_EQ(length, 19u);
  LocalFree(wide);
  PSECURITY_DESCRIPTOR from_wide = nullptr;
  ASSERT_TRUE(ConvertStringSecurityDescriptorToSecurityDescriptorW(
      L"D:(A;;FR;;;WD)", SDDL_REVISION_1, &from_wide, nullptr));
  EXPECT_EQ(to_string(from_wide), "D:(A;;FR;;;WD)");
  LocalFree(from_wide);
}

}  // namespace
