#include "os/linux/unique_fd.hpp"

#include <unistd.h>

namespace sluice::os {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);  // Linux frees the descriptor even when close reports EINTR.
  fd_ = fd;
}

}  // namespace sluice::os
