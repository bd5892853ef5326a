#include "os/linux/unique_fd.hpp"

#include <unistd.h>

namespace sluice::os {

void close_fd(int fd) noexcept {
  if (fd >= 0) (void)::close(fd);
}

}  // namespace sluice::os
