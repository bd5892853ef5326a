// GetComputerName(Ex)A/W (suites ComputerName and ComputerNameEx: windows.h makes the
// functions' generic names macros): the names Windows gives, made from the Linux host name, and the
// documented buffer rules (call, return, last error, size).
#include <windows.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "win32/win32_test_util.hpp"

namespace {

using sluice::win32::testing::kSentinel;

std::string host() {
  char name[256] = {};
  EXPECT_EQ(gethostname(name, sizeof name - 1), 0);
  return name;
}
std::string first_label() { return host().substr(0, host().find('.')); }
std::string netbios() {
  std::string n = first_label().substr(0, MAX_COMPUTERNAME_LENGTH);
  for (char& c : n)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return n;
}

std::string ex_a(COMPUTER_NAME_FORMAT type) {
  char buffer[256];
  DWORD size = sizeof buffer;
  EXPECT_TRUE(GetComputerNameExA(type, buffer, &size)) << type << ": " << GetLastError();
  EXPECT_EQ(size, std::string(buffer).size()) << type;
  return buffer;
}

TEST(ComputerName, GivesTheUpperCasedNetBiosNameOfTheHost) {
  char buffer[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD size = sizeof buffer;
  SetLastError(kSentinel);
  ASSERT_TRUE(GetComputerNameA(buffer, &size)) << GetLastError();
  EXPECT_EQ(std::string(buffer), netbios());
  EXPECT_EQ(size, netbios().size());
  EXPECT_EQ(GetLastError(), kSentinel);

  wchar_t wide[MAX_COMPUTERNAME_LENGTH + 1];
  size = MAX_COMPUTERNAME_LENGTH + 1;
  ASSERT_TRUE(GetComputerNameW(wide, &size)) << GetLastError();
  const std::string expected = netbios();
  EXPECT_EQ(std::wstring(wide), std::wstring(expected.begin(), expected.end()));
  EXPECT_EQ(size, netbios().size());
}

TEST(ComputerName, ABufferTooSmallFailsWithBufferOverflowAndTheSizeNeeded) {
  char buffer[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD size = static_cast<DWORD>(netbios().size());  // no room for the NUL
  EXPECT_FALSE(GetComputerNameA(buffer, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BUFFER_OVERFLOW));
  EXPECT_EQ(size, netbios().size() + 1);
  size = 0;
  EXPECT_FALSE(GetComputerNameW(nullptr, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BUFFER_OVERFLOW));
  EXPECT_EQ(size, netbios().size() + 1);
  EXPECT_FALSE(GetComputerNameA(buffer, nullptr));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(ComputerNameEx, EachFormatGivesItsPartOfTheHostName) {
  std::string h = host();
  auto dot = h.find('.');
  std::string domain = dot == std::string::npos ? std::string() : h.substr(dot + 1);
  EXPECT_EQ(ex_a(ComputerNameNetBIOS), netbios());
  EXPECT_EQ(ex_a(ComputerNamePhysicalNetBIOS), netbios());
  EXPECT_EQ(ex_a(ComputerNameDnsHostname), first_label());
  EXPECT_EQ(ex_a(ComputerNamePhysicalDnsHostname), first_label());
  EXPECT_EQ(ex_a(ComputerNameDnsDomain), domain);
  EXPECT_EQ(ex_a(ComputerNamePhysicalDnsDomain), domain);
  EXPECT_EQ(ex_a(ComputerNameDnsFullyQualified), h);
  EXPECT_EQ(ex_a(ComputerNamePhysicalDnsFullyQualified), h);

  wchar_t wide[256];
  DWORD size = 256;
  ASSERT_TRUE(GetComputerNameExW(ComputerNameDnsFullyQualified, wide, &size)) << GetLastError();
  EXPECT_EQ(std::wstring(wide), std::wstring(h.begin(), h.end()));
  EXPECT_EQ(size, h.size());
}

TEST(ComputerNameEx, ABufferTooSmallFailsWithMoreDataAndTheSizeNeeded) {
  std::string h = host();
  DWORD size = 0;
  EXPECT_FALSE(GetComputerNameExA(ComputerNameDnsFullyQualified, nullptr, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(size, h.size() + 1);
  wchar_t wide[4];
  size = 1;
  EXPECT_FALSE(GetComputerNameExW(ComputerNameDnsHostname, wide, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
  EXPECT_EQ(size, first_label().size() + 1);
  char buffer[256];
  size = sizeof buffer;
  EXPECT_FALSE(GetComputerNameExA(ComputerNameMax, buffer, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_FALSE(
      GetComputerNameExA(static_cast<COMPUTER_NAME_FORMAT>(ComputerNameMax + 7), buffer, &size));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

TEST(ComputerName, TheGenericNamesFollowUnicode) {
#ifdef UNICODE
  FAIL() << "the test binary is an ANSI build";
#else
  char buffer[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD size = sizeof buffer;
  EXPECT_TRUE(GetComputerName(buffer, &size));
  size = sizeof buffer;
  EXPECT_TRUE(GetComputerNameEx(ComputerNameNetBIOS, buffer, &size));
#endif
}

}  // namespace
