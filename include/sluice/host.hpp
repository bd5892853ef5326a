// sluice — this computer's name, as pipe names and Windows' GetComputerName(Ex) see it.
//
//   auto me = sluice::host_name().value();  // "build-7" or "build-7.example.org"
//   // \\build-7\pipe\x, \\localhost\pipe\x and \\127.0.0.1\pipe\x reach the local pipe x
#pragma once

#include <string>

#include "sluice/result.hpp"

namespace sluice {

/// The host name the kernel holds (uname's nodename: a short name, or a fully qualified one if
/// the administrator set it so; "localhost" if none is set). Errors: none in practice (resource
/// errors of the system call). Thread safety: any thread.
///
/// Win32: GetComputerNameEx(ComputerNameDnsFullyQualified) when the name holds a dot,
/// ComputerNameDnsHostname otherwise; GetComputerName is its first label, upper-cased and cut
/// to MAX_COMPUTERNAME_LENGTH (15) characters, the NetBIOS name.
Result<std::string> host_name();

}  // namespace sluice
