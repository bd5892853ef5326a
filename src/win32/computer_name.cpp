// GetComputerName and GetComputerNameEx (sysinfoapi.h) over the Linux host name.
#include <windows.h>

#include "win32/computer_name.hpp"

#include <string>

#include "sluice/host.hpp"
#include "win32/objects.hpp"
#include "win32/text_out.hpp"

namespace sluice::win32 {
namespace {

constexpr std::size_t kMaxComputerNameLength = MAX_COMPUTERNAME_LENGTH;

std::string first_label(const std::string& host) { return host.substr(0, host.find('.')); }

// The name `type` selects, or nothing for a type out of range.
Result<std::string> name_of(COMPUTER_NAME_FORMAT type) {
  switch (type) {
    case ComputerNameNetBIOS:
    case ComputerNamePhysicalNetBIOS:
      return netbios_name();
    default:
      break;
  }
  auto host = host_name();
  if (!host) return host.error();
  switch (type) {
    case ComputerNameDnsHostname:
    case ComputerNamePhysicalDnsHostname:
      return first_label(*host);
    case ComputerNameDnsDomain:
    case ComputerNamePhysicalDnsDomain: {
      auto dot = host->find('.');
      return dot == std::string::npos ? std::string() : host->substr(dot + 1);
    }
    case ComputerNameDnsFullyQualified:
    case ComputerNamePhysicalDnsFullyQualified:
      return *host;
    default:
      return errc::kInvalidParameter;
  }
}

// Copies `name` (converted to the caller's characters) into `buffer` of *size characters, as
// both functions do; a buffer too small fails with `too_small`, *size the size needed.
template <class Char>
BOOL copy_name(const Result<std::string>& name, Char* buffer, LPDWORD size, DWORD too_small) {
  if (size == nullptr) return fail(ERROR_INVALID_PARAMETER);
  if (!name) return fail(name.error());
  const auto text = in_chars<Char>(*name);
  if (!copy_out(text, buffer, *size)) {
    *size = static_cast<DWORD>(text.size() + 1);
    return fail(too_small);
  }
  *size = static_cast<DWORD>(text.size());
  return TRUE;
}

}  // namespace

Result<std::string> netbios_name() {
  auto host = host_name();
  if (!host) return host.error();
  std::string name = first_label(*host).substr(0, kMaxComputerNameLength);
  for (char& c : name)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return name;
}

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

BOOL WINAPI GetComputerNameA(LPSTR lpBuffer, LPDWORD nSize) {
  return guarded<BOOL>(
      FALSE, [&] { return copy_name(netbios_name(), lpBuffer, nSize, ERROR_BUFFER_OVERFLOW); });
}

BOOL WINAPI GetComputerNameW(LPWSTR lpBuffer, LPDWORD nSize) {
  return guarded<BOOL>(
      FALSE, [&] { return copy_name(netbios_name(), lpBuffer, nSize, ERROR_BUFFER_OVERFLOW); });
}

BOOL WINAPI GetComputerNameExA(COMPUTER_NAME_FORMAT NameType, LPSTR lpBuffer, LPDWORD nSize) {
  return guarded<BOOL>(FALSE, [&] {
    if (NameType < ComputerNameNetBIOS || NameType >= ComputerNameMax)
      return fail(ERROR_INVALID_PARAMETER);
    return copy_name(name_of(NameType), lpBuffer, nSize, ERROR_MORE_DATA);
  });
}

BOOL WINAPI GetComputerNameExW(COMPUTER_NAME_FORMAT NameType, LPWSTR lpBuffer, LPDWORD nSize) {
  return guarded<BOOL>(FALSE, [&] {
    if (NameType < ComputerNameNetBIOS || NameType >= ComputerNameMax)
      return fail(ERROR_INVALID_PARAMETER);
    return copy_name(name_of(NameType), lpBuffer, nSize, ERROR_MORE_DATA);
  });
}

}  // extern "C"
