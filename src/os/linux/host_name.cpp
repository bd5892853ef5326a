#include "os/linux/host_name.hpp"

#include <sys/utsname.h>

#include <cerrno>

#include "os/linux/errno_map.hpp"

namespace sluice::os {

Result<std::string> host_name() {
  struct utsname u {};
  if (::uname(&u) != 0) return from_errno(errno);
  std::string name(u.nodename);
  // An unset host name reads as "(none)" or nothing; Windows always has a computer name.
  if (name.empty() || name == "(none)") return std::string("localhost");
  return name;
}

}  // namespace sluice::os
