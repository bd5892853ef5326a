#include "os/linux/dir_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "os/linux/errno_map.hpp"

namespace sluice::os {

Result<DirWatch> DirWatch::create(int dir_fd) {
  DirWatch w;
  w.fd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!w.fd_) return last_errno();
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd);
  if (::inotify_add_watch(w.fd_.get(), path.c_str(), IN_CREATE | IN_MOVED_TO | IN_DELETE) < 0)
    return last_errno();
  return w;
}

bool DirWatch::wait(int timeout_ms) {
  pollfd p{fd_.get(), POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc <= 0) return false;
  alignas(inotify_event) char buf[4096];
  while (::read(fd_.get(), buf, sizeof buf) > 0) {
  }
  return true;
}

}  // namespace sluice::os
