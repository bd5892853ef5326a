// A pipe's security descriptor through the Win32 calls: CreateNamedPipe's lpSecurityAttributes
// (checked against this process's own clients; security_users_test.cpp has other users) and
// GetSecurityInfo / SetSecurityInfo on the pipe handle.
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;
using sluice::win32::testing::unique_pipe_name;

// This process's user and group SIDs.
std::string me() { return "S-1-22-1-" + std::to_string(::geteuid()); }
std::string my_group() { return "S-1-22-2-" + std::to_string(::getegid()); }

// A descriptor from SDDL, freed with the object.
struct Sddl {
  explicit Sddl(const std::string& text) {
    EXPECT_TRUE(ConvertStringSecurityDescriptorToSecurityDescriptorA(text.c_str(), SDDL_REVISION_1,
                                                                     &sd, nullptr))
        << text << " " << GetLastError();
    sa.lpSecurityDescriptor = sd;
  }
  ~Sddl() { LocalFree(sd); }
  Sddl(const Sddl&) = delete;
  Sddl& operator=(const Sddl&) = delete;
  PSECURITY_DESCRIPTOR sd = nullptr;
  SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, FALSE};
};

HANDLE create(const std::string& name, LPSECURITY_ATTRIBUTES sa, DWORD extra_mode = 0) {
  return CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX | extra_mode, PIPE_TYPE_BYTE | PIPE_WAIT,
                          PIPE_UNLIMITED_INSTANCES, 512, 512, 0, sa);
}

// Opens a client end; its handle closes at once. ERROR_SUCCESS or the error.
DWORD open_error(const std::string& name, DWORD access) {
  HANDLE h = CreateFileA(name.c_str(), access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return GetLastError();
  CloseHandle(h);
  return ERROR_SUCCESS;
}

// The pipe's descriptor as GetSecurityInfo reports it, in SDDL.
std::string security_of(HANDLE pipe, SECURITY_INFORMATION what = OWNER_SECURITY_INFORMATION |
                                                                 GROUP_SECURITY_INFORMATION |
                                                                 DACL_SECURITY_INFORMATION) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD e = GetSecurityInfo(pipe, SE_KERNEL_OBJECT, what, nullptr, nullptr, nullptr, nullptr, &sd);
  if (e != ERROR_SUCCESS) return "error " + std::to_string(e);
  LPSTR text = nullptr;
  EXPECT_TRUE(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, what, &text,
                                                                   nullptr));
  std::string out = text ? text : "";
  LocalFree(text);
  LocalFree(sd);
  return out;
}

TEST(Win32PipeSecurity, NoAttributesGiveWindowsDefaultDescriptor) {
  std::string name = unique_pipe_name();
  HANDLE server = create(name, nullptr);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  // Full control to the owner (shown as its SID) and root, read to everyone.
  EXPECT_EQ(security_of(server),
            "O:" + me() + "G:" + my_group() + "D:(A;;FA;;;" + me() + ")(A;;FA;;;BA)(A;;FR;;;WD)");
  CloseHandle(server);
}

TEST(Win32PipeSecurity, TheDescriptorGivenIsThePipesAndNLengthIsNotChecked) {
  struct {
    const char* sddl;
    const char* dacl;
  } cases[] = {
      {"D:(A;;GA;;;WD)", "D:(A;;GA;;;WD)"},
      {"D:NO_ACCESS_CONTROL", "D:NO_ACCESS_CONTROL"},
      {"D:", "D:"},
      {"D:(D;;FW;;;NU)(A;;FR;;;AU)(A;;FA;;;SY)", "D:(D;;FW;;;AN)(A;;FR;;;WD)(A;;FA;;;BA)"},
      // An inherit-only ACE is for child objects: a pipe leaves it out.
      {"D:(A;IO;GA;;;WD)(A;;FR;;;WD)", "D:(A;;FR;;;WD)"},
      // Without a DACL the pipe gets the default.
      {"G:SY", "D:(A;;FA;;;S-1-22-1-0)(A;;FA;;;BA)(A;;FR;;;WD)"},
  };
  for (const auto& c : cases) {
    Sddl sd(c.sddl);
    sd.sa.nLength = 0;
    std::string name = unique_pipe_name(c.dacl);
    HANDLE server = create(name, &sd.sa);
    ASSERT_NE(server, INVALID_HANDLE_VALUE) << c.sddl << " " << GetLastError();
    EXPECT_EQ(security_of(server, DACL_SECURITY_INFORMATION), c.dacl) << c.sddl;
    CloseHandle(server);
  }
}

TEST(Win32PipeSecurity, TheDaclDecidesWhatThisProcessItselfMayOpen) {
  struct {
    std::string sddl;
    DWORD read_only;
    DWORD read_write;
  } cases[] = {
      {"D:(A;;GA;;;WD)", ERROR_SUCCESS, ERROR_SUCCESS},
      {"D:(A;;FR;;;" + me() + ")", ERROR_SUCCESS, ERROR_ACCESS_DENIED},
      // Denying FILE_WRITE_DATA; FW would deny READ_CONTROL and SYNCHRONIZE too, which
      // GENERIC_READ asks for (on Windows as here).
      {"D:(D;;0x2;;;" + me() + ")(A;;GA;;;WD)", ERROR_SUCCESS, ERROR_ACCESS_DENIED},
      {"D:(D;;FW;;;" + me() + ")(A;;GA;;;WD)", ERROR_ACCESS_DENIED, ERROR_ACCESS_DENIED},
      {"D:(D;;GA;;;" + my_group() + ")(A;;GA;;;WD)", ERROR_ACCESS_DENIED, ERROR_ACCESS_DENIED},
      {"D:(A;;GA;;;" + my_group() + ")", ERROR_SUCCESS, ERROR_SUCCESS},
      {"D:(A;;GA;;;S-1-22-1-3999999)", ERROR_ACCESS_DENIED, ERROR_ACCESS_DENIED},
      {"D:(A;;GA;;;AN)(A;;GA;;;NU)", ERROR_ACCESS_DENIED, ERROR_ACCESS_DENIED},
      {"D:(A;;GA;;;CO)", ERROR_SUCCESS, ERROR_SUCCESS},
      {"D:", ERROR_ACCESS_DENIED, ERROR_ACCESS_DENIED},
      {"D:NO_ACCESS_CONTROL", ERROR_SUCCESS, ERROR_SUCCESS},
  };
  // A fresh pipe for each open: an instance whose client closed is not listening again.
  auto open_fresh = [](const std::string& sddl, DWORD access) {
    Sddl sd(sddl);
    std::string name = unique_pipe_name(access & GENERIC_WRITE ? "rw" : "r");
    HANDLE server = create(name, &sd.sa);
    EXPECT_NE(server, INVALID_HANDLE_VALUE) << sddl << " " << GetLastError();
    DWORD error = open_error(name, access);
    CloseHandle(server);
    return error;
  };
  for (const auto& c : cases) {
    EXPECT_EQ(open_fresh(c.sddl, GENERIC_READ), c.read_only) << c.sddl;
    EXPECT_EQ(open_fresh(c.sddl, GENERIC_READ | GENERIC_WRITE), c.read_write) << c.sddl;
  }
}

TEST(Win32PipeSecurity, TheNullDaclIdiomLetsEveryoneIn) {
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, nullptr, FALSE));
  SECURITY_ATTRIBUTES sa = {sizeof sa, &sd, FALSE};
  std::string name = unique_pipe_name();
  HANDLE server = create(name, &sa);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  EXPECT_EQ(security_of(server, DACL_SECURITY_INFORMATION), "D:NO_ACCESS_CONTROL");
  EXPECT_EQ(open_error(name, GENERIC_READ | GENERIC_WRITE), static_cast<DWORD>(ERROR_SUCCESS));
  CloseHandle(server);
}

TEST(Win32PipeSecurity, InvalidDescriptorsAreRefusedWithWindowsErrors) {
  SECURITY_DESCRIPTOR good;
  ASSERT_TRUE(InitializeSecurityDescriptor(&good, SECURITY_DESCRIPTOR_REVISION));
  SECURITY_DESCRIPTOR bad_revision = good;
  bad_revision.Revision = 3;
  alignas(4) BYTE acl_bytes[16] = {2, 0, 16, 0, 1, 0, 0, 0};  // one ACE that is not there
  SECURITY_DESCRIPTOR bad_acl = good;
  bad_acl.Control = SE_DACL_PRESENT;
  bad_acl.Dacl = reinterpret_cast<PACL>(acl_bytes);
  BYTE bad_sid[12] = {7, 1, 0, 0, 0, 0, 0, 1};
  SECURITY_DESCRIPTOR bad_owner = good;
  bad_owner.Owner = bad_sid;
  PSID domain_user = nullptr;
  ASSERT_TRUE(ConvertStringSidToSidA("S-1-5-21-1-2-3-1000", &domain_user));
  SECURITY_DESCRIPTOR foreign_owner = good;
  foreign_owner.Owner = domain_user;
  SECURITY_DESCRIPTOR foreign_group = good;
  foreign_group.Group = domain_user;
  struct {
    const char* what;
    SECURITY_DESCRIPTOR* sd;
    DWORD error;
  } cases[] = {
      {"revision 3", &bad_revision, ERROR_UNKNOWN_REVISION},
      {"invalid ACL", &bad_acl, ERROR_INVALID_ACL},
      {"invalid owner SID", &bad_owner, ERROR_INVALID_SID},
      {"owner without a uid", &foreign_owner, ERROR_INVALID_OWNER},
      {"group without a gid", &foreign_group, ERROR_INVALID_PRIMARY_GROUP},
  };
  for (const auto& c : cases) {
    SECURITY_ATTRIBUTES sa = {sizeof sa, c.sd, FALSE};
    std::string name = unique_pipe_name();
    SetLastError(kSentinel);
    HANDLE server = create(name, &sa);
    EXPECT_EQ(server, INVALID_HANDLE_VALUE) << c.what;
    EXPECT_EQ(GetLastError(), c.error) << c.what;
    // Nothing was created: the name is free.
    EXPECT_EQ(open_error(name, GENERIC_READ), static_cast<DWORD>(ERROR_FILE_NOT_FOUND)) << c.what;
    if (server != INVALID_HANDLE_VALUE) CloseHandle(server);
  }
  LocalFree(domain_user);
}

TEST(Win32PipeSecurity, GetSecurityInfoGivesThePartsAskedForOrWindowsErrors) {
  sluice::win32::testing::ConnectedPipe pipe;
  PSID owner = nullptr, group = nullptr;
  PACL dacl = nullptr, sacl = reinterpret_cast<PACL>(&pipe);
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_EQ(GetSecurityInfo(pipe.server, SE_FILE_OBJECT,
                            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, &group,
                            &dacl, &sacl, &sd),
            static_cast<DWORD>(ERROR_SUCCESS));
  LPSTR text = nullptr;
  ASSERT_TRUE(ConvertSidToStringSidA(owner, &text));
  EXPECT_EQ(std::string(text), me());
  LocalFree(text);
  EXPECT_EQ(group, nullptr);  // not asked for
  ASSERT_NE(dacl, nullptr);
  EXPECT_EQ(dacl->AceCount, 3);
  EXPECT_EQ(sacl, nullptr);
  EXPECT_TRUE(IsValidSecurityDescriptor(sd));
  LocalFree(sd);
  HANDLE anonymous_read = nullptr, anonymous_write = nullptr;
  ASSERT_TRUE(CreatePipe(&anonymous_read, &anonymous_write, nullptr, 0));
  struct {
    const char* what;
    DWORD got;
    DWORD error;
  } cases[] = {
      {"no descriptor pointer",
       GetSecurityInfo(pipe.server, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                       &dacl, nullptr, nullptr),
       ERROR_INVALID_PARAMETER},
      {"registry key type",
       GetSecurityInfo(pipe.server, SE_REGISTRY_KEY, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                       nullptr, nullptr, &sd),
       ERROR_INVALID_PARAMETER},
      {"SACL",
       GetSecurityInfo(pipe.server, SE_KERNEL_OBJECT, SACL_SECURITY_INFORMATION, nullptr, nullptr,
                       nullptr, nullptr, &sd),
       ERROR_PRIVILEGE_NOT_HELD},
      {"closed handle",
       GetSecurityInfo(reinterpret_cast<HANDLE>(0x7FF0), SE_KERNEL_OBJECT,
                       DACL_SECURITY_INFORMATION, nullptr, nullptr, nullptr, nullptr, &sd),
       ERROR_INVALID_HANDLE},
      {"anonymous pipe",
       GetSecurityInfo(anonymous_read, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                       nullptr, nullptr, nullptr, &sd),
       ERROR_INVALID_HANDLE},
      {"client end",
       GetSecurityInfo(pipe.client, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                       nullptr, nullptr, &sd),
       ERROR_NOT_SUPPORTED},
  };
  for (const auto& c : cases) EXPECT_EQ(c.got, c.error) << c.what;
  CloseHandle(anonymous_read);
  CloseHandle(anonymous_write);
}

TEST(Win32PipeSecurity, SetSecurityInfoChangesWhatTheNextClientsGet) {
  std::string name = unique_pipe_name();
  HANDLE server = create(name, nullptr, WRITE_DAC);
  ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
  // An empty DACL: not even the owner or root may open it now.
  alignas(4) BYTE buffer[64];
  auto* empty = reinterpret_cast<PACL>(buffer);
  ASSERT_TRUE(InitializeAcl(empty, sizeof buffer, ACL_REVISION));
  ASSERT_EQ(SetSecurityInfo(server, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                            empty, nullptr),
            static_cast<DWORD>(ERROR_SUCCESS));
  EXPECT_EQ(security_of(server, DACL_SECURITY_INFORMATION), "D:");
  EXPECT_EQ(open_error(name, GENERIC_READ), static_cast<DWORD>(ERROR_ACCESS_DENIED));
  // A NULL DACL: everyone.
  ASSERT_EQ(SetSecurityInfo(server, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                            nullptr, nullptr),
            static_cast<DWORD>(ERROR_SUCCESS));
  EXPECT_EQ(security_of(server, DACL_SECURITY_INFORMATION), "D:NO_ACCESS_CONTROL");
  EXPECT_EQ(open_error(name, GENERIC_READ | GENERIC_WRITE), static_cast<DWORD>(ERROR_SUCCESS));
  // The owner stays what it was.
  EXPECT_EQ(security_of(server, OWNER_SECURITY_INFORMATION), "O:" + me());
  CloseHandle(server);
}

TEST(Win32PipeSecurity, SetSecurityInfoNeedsTheRightsAndValidSids) {
  std::string name = unique_pipe_name();
  HANDLE plain = create(name, nullptr);
  ASSERT_NE(plain, INVALID_HANDLE_VALUE) << GetLastError();
  std::string other = unique_pipe_name("owner");
  HANDLE owner_rights = create(other, nullptr, WRITE_DAC | WRITE_OWNER);
  ASSERT_NE(owner_rights, INVALID_HANDLE_VALUE) << GetLastError();
  HANDLE client = CreateFileA(name.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
  PSID domain_user = nullptr, my_sid = nullptr;
  ASSERT_TRUE(ConvertStringSidToSidA("S-1-5-21-1-2-3-1000", &domain_user));
  ASSERT_TRUE(ConvertStringSidToSidA(me().c_str(), &my_sid));
  alignas(4) BYTE acl_bytes[16] = {2, 0, 16, 0, 1, 0, 0, 0};
  auto* bad_acl = reinterpret_cast<PACL>(acl_bytes);
  struct {
    const char* what;
    DWORD got;
    DWORD error;
  } cases[] = {
      {"DACL without WRITE_DAC",
       SetSecurityInfo(plain, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                       nullptr, nullptr),
       ERROR_ACCESS_DENIED},
      {"owner without WRITE_OWNER",
       SetSecurityInfo(plain, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, my_sid, nullptr,
                       nullptr, nullptr),
       ERROR_ACCESS_DENIED},
      {"client end",
       SetSecurityInfo(client, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                       nullptr, nullptr),
       ERROR_NOT_SUPPORTED},
      {"owner without a uid",
       SetSecurityInfo(owner_rights, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, domain_user,
                       nullptr, nullptr, nullptr),
       ERROR_INVALID_OWNER},
      {"group without a gid",
       SetSecurityInfo(owner_rights, SE_KERNEL_OBJECT, GROUP_SECURITY_INFORMATION, nullptr,
                       domain_user, nullptr, nullptr),
       ERROR_INVALID_PRIMARY_GROUP},
      {"invalid ACL",
       SetSecurityInfo(owner_rights, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                       bad_acl, nullptr),
       ERROR_INVALID_ACL},
      {"own SID as owner",
       SetSecurityInfo(owner_rights, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, my_sid, nullptr,
                       nullptr, nullptr),
       ERROR_SUCCESS},
  };
  for (const auto& c : cases) EXPECT_EQ(c.got, c.error) << c.what;
  // The failed calls changed nothing.
  EXPECT_EQ(security_of(owner_rights, DACL_SECURITY_INFORMATION),
            "D:(A;;FA;;;" + me() + ")(A;;FA;;;BA)(A;;FR;;;WD)");
  LocalFree(domain_user);
  LocalFree(my_sid);
  CloseHandle(client);
  CloseHandle(owner_rights);
  CloseHandle(plain);
}

}  // namespace
