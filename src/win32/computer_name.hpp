// This computer's names as Windows gives them (sysinfoapi.h), for GetComputerName(Ex) and for
// GetNamedPipeClientComputerName's answer about a client that came through the computer's name.
#pragma once

#include <string>

#include "sluice/result.hpp"

namespace sluice::win32 {

/// The NetBIOS name Windows makes of the host name: its first label, ASCII letters upper-cased,
/// cut to MAX_COMPUTERNAME_LENGTH (15) bytes.
Result<std::string> netbios_name();

}  // namespace sluice::win32
