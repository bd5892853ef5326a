// Pipe descriptors made with the Win32 calls, against clients that really are other users: a
// root server creates the pipe, helpers run as uids 1001-1003 and open it with CreateFile
// (skipped, saying why, unless root).
#include <windows.h>
#include <sddl.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "helper_process.hpp"
#include "other_user.hpp"
#include "win32/win32_test_util.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::testing::kAlice;
using sluice::testing::kBob;
using sluice::testing::kCarol;
using sluice::testing::TestUser;
using sluice::win32::testing::unique_pipe_name;

// args: pipe name, "r" or "rw". Exits with 0 when CreateFile opened the pipe, else its error.
SLUICE_TEST_HELPER(win32_open_as) {
  DWORD access = args.at(1) == "rw" ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ;
  HANDLE h = CreateFileA(args.at(0).c_str(), access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return static_cast<int>(GetLastError());
  CloseHandle(h);
  return 0;
}

class Win32PipeUsers : public ::testing::Test {
 protected:
  void SetUp() override {
    SLUICE_SKIP_UNLESS_ROOT();
    const char* dir = std::getenv("SLUICE_PIPE_DIR");
    if (!dir) GTEST_SKIP() << "needs SLUICE_PIPE_DIR (ctest sets it) to share the namespace";
    sluice::testing::share_with_other_users(dir);
  }

  // The error `user` gets opening a fresh pipe made with `sa` (0: opened).
  int open_as(const TestUser& user, LPSECURITY_ATTRIBUTES sa, const char* access) {
    std::string name = unique_pipe_name(access);
    HANDLE server = CreateNamedPipeA(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                                     1, 512, 512, 0, sa);
    if (server == INVALID_HANDLE_VALUE) {
      ADD_FAILURE() << "CreateNamedPipe: " << GetLastError();
      return -1;
    }
    auto child = sluice::testing::spawn_helper_as(user, "win32_open_as", {name, access});
    if (!child) {
      CloseHandle(server);
      ADD_FAILURE() << child.error().message();
      return -1;
    }
    sluice::testing::KillOnExit reap(*child);
    auto status = child->wait(20s);
    CloseHandle(server);
    if (!status) {
      ADD_FAILURE() << "helper: " << status.error().message();
      return -1;
    }
    return *status;
  }

  int open_as(const TestUser& user, const std::string& sddl, const char* access) {
    PSECURITY_DESCRIPTOR sd = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl.c_str(), SDDL_REVISION_1, &sd,
                                                              nullptr)) {
      ADD_FAILURE() << sddl << ": " << GetLastError();
      return -1;
    }
    SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
    int result = open_as(user, &sa, access);
    LocalFree(sd);
    return result;
  }
};

constexpr int kDenied = ERROR_ACCESS_DENIED;

TEST_F(Win32PipeUsers, NoAttributesLetOtherUsersReadButNotWrite) {
  EXPECT_EQ(open_as(kAlice, nullptr, "r"), 0);
  EXPECT_EQ(open_as(kAlice, nullptr, "rw"), kDenied);
}

TEST_F(Win32PipeUsers, AGrantToOneUserLetsThatUserInAndNobodyElse) {
  const std::string sddl = "D:(A;;GRGW;;;S-1-22-1-1001)";
  EXPECT_EQ(open_as(kAlice, sddl, "rw"), 0);
  EXPECT_EQ(open_as(kBob, sddl, "r"), kDenied);
}

TEST_F(Win32PipeUsers, AGrantToAGroupLetsItsMembersIn) {
  const std::string sddl = "D:(A;;GRGW;;;S-1-22-2-1500)";
  EXPECT_EQ(open_as(kCarol, sddl, "rw"), 0);  // 1500 is Carol's supplementary group
  EXPECT_EQ(open_as(kAlice, sddl, "rw"), kDenied);
}

TEST_F(Win32PipeUsers, ADenyWinsOverALaterGrantToEveryone) {
  const std::string sddl = "D:(D;;0x2;;;S-1-22-1-1002)(A;;GRGW;;;WD)";
  EXPECT_EQ(open_as(kBob, sddl, "rw"), kDenied);
  EXPECT_EQ(open_as(kBob, sddl, "r"), 0);
  EXPECT_EQ(open_as(kAlice, sddl, "rw"), 0);
}

TEST_F(Win32PipeUsers, TheNullDaclIdiomLetsEveryUserIn) {
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, nullptr, FALSE));
  SECURITY_ATTRIBUTES sa = {sizeof sa, &sd, FALSE};
  EXPECT_EQ(open_as(kBob, &sa, "rw"), 0);
}

TEST_F(Win32PipeUsers, WellKnownSidsMeanWhatWindowsHDocuments) {
  // Authenticated Users and BUILTIN\Users are every local user; Administrators and SYSTEM are
  // root only; ANONYMOUS LOGON and NETWORK no local user.
  EXPECT_EQ(open_as(kAlice, "D:(A;;GRGW;;;AU)", "rw"), 0);
  EXPECT_EQ(open_as(kAlice, "D:(A;;GRGW;;;BU)", "rw"), 0);
  EXPECT_EQ(open_as(kAlice, "D:(A;;GA;;;BA)(A;;GA;;;SY)", "r"), kDenied);
  EXPECT_EQ(open_as(kAlice, "D:(A;;GA;;;AN)(A;;GA;;;NU)", "r"), kDenied);
}

TEST_F(Win32PipeUsers, AnEmptyDaclKeepsEveryUserOut) {
  EXPECT_EQ(open_as(kAlice, "D:", "r"), kDenied);
}

}  // namespace
