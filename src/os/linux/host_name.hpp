// The computer's host name, as the kernel holds it for this UTS namespace.
#pragma once

#include <string>

#include "sluice/result.hpp"

namespace sluice::os {

/// The host name uname(2) reports (its nodename: what hostname(1) prints, a short name or a
/// fully qualified one as the administrator set it). Never empty on success. Thread-safe.
Result<std::string> host_name();

}  // namespace sluice::os
