#include "sluice/host.hpp"

#include "os/linux/host_name.hpp"

namespace sluice {

Result<std::string> host_name() { return os::host_name(); }

}  // namespace sluice
