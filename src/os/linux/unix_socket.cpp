#include "os/linux/unix_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "os/linux/errno_map.hpp"

namespace sluice::os {
namespace {

Result<sockaddr_un> address_in(int dir_fd, const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  if (path.size() >= sizeof addr.sun_path) return errc::kFilenameExcedRange;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

Result<UniqueFd> listen_at(int dir_fd, const std::string& name, unsigned mode) {
  auto addr = address_in(dir_fd, name);
  if (!addr) return addr.error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return last_errno();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
    return last_errno();
  ::fchmodat(dir_fd, name.c_str(), mode, 0);
  if (::listen(fd.get(), 16) != 0) return last_errno();
  return fd;
}

Result<UniqueFd> connect_at(int dir_fd, const std::string& name) {
  auto addr = address_in(dir_fd, name);
  if (!addr) return addr.error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return last_errno();
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    int e = errno;
    if (e == ENOENT) return errc::kFileNotFound;
    if (e == ECONNREFUSED || e == EAGAIN) return errc::kPipeBusy;
    return from_errno(e);
  }
  return fd;
}

namespace {
sockaddr_un abstract_address(const std::string& name, socklen_t* length) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // The abstract namespace: no file to leave behind when the process dies.
  std::size_t n = std::min(name.size(), sizeof addr.sun_path - 1);
  std::memcpy(addr.sun_path + 1, name.data(), n);
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
  return addr;
}
}  // namespace

Result<UniqueFd> listen_abstract(const std::string& name) {
  socklen_t length;
  sockaddr_un addr = abstract_address(name, &length);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return last_errno();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), length) != 0) return last_errno();
  if (::listen(fd.get(), 16) != 0) return last_errno();
  return fd;
}

Result<UniqueFd> connect_abstract(const std::string& name) {
  socklen_t length;
  sockaddr_un addr = abstract_address(name, &length);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return last_errno();
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
    int e = errno;
    if (e == ECONNREFUSED || e == ENOENT) return errc::kFileNotFound;
    if (e == EAGAIN) return errc::kPipeBusy;
    return from_errno(e);
  }
  return fd;
}

Result<UniqueFd> accept_from(int listen_fd) {
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return errno == EAGAIN ? errc::kNoData : last_errno();
  return UniqueFd(fd);
}

void refuse_one_connection(int listen_fd, UniqueFd& reserve) noexcept {
  reserve.reset();
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) ::close(fd);
  reserve = open_reserve_descriptor();
}

UniqueFd open_reserve_descriptor() noexcept {
  return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

Result<void> send_message(int fd, const void* data, std::size_t size, const int* fds,
                          int fd_count) {
  iovec iov{const_cast<void*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  if (fd_count > 0) {
    if (fd_count > kMaxPassedFds) return errc::kInvalidParameter;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<unsigned>(fd_count));
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<unsigned>(fd_count));
    std::memcpy(CMSG_DATA(cm), fds, sizeof(int) * static_cast<unsigned>(fd_count));
  }
  for (;;) {
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(size)) return {};
    if (n >= 0)
      return errc::kBrokenPipe;  // handshake messages are tiny; a short send is a peer bug
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) > 0) continue;
      return errc::kPipeBusy;
    }
    return errno == EPIPE || errno == ECONNRESET ? make_error_code(errc::kBrokenPipe)
                                                 : last_errno();
  }
}

Result<std::size_t> receive_message(int fd, void* data, std::size_t size, UniqueFd* fds,
                                    int max_fds, int* fd_count) {
  iovec iov{data, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (fd_count) *fd_count = 0;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return errc::kNoData;
    if (errno == ECONNRESET) return std::size_t{0};
    return last_errno();
  }
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
      if (fds && fd_count && *fd_count < max_fds) {
        fds[(*fd_count)++].reset(received);
      } else {
        ::close(received);  // a hostile peer must not make us leak descriptors
      }
    }
  }
  if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) return errc::kBadPipe;
  return static_cast<std::size_t>(n);
}

bool socket_wait_readable(int fd, std::chrono::milliseconds timeout) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

void shutdown_socket(int fd) noexcept { ::shutdown(fd, SHUT_RDWR); }

void ring_doorbell(int fd) noexcept {
  char bell = 1;
  [[maybe_unused]] ssize_t n = ::send(fd, &bell, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

bool drain_doorbell(int fd) noexcept {
  // One recv, not a loop until EAGAIN: on a stream socket it takes every byte already there,
  // and the agent's epoll set is level-triggered, so bytes (or a hang-up) arriving after it are
  // reported again. The loop's closing EAGAIN cost a system call per doorbell.
  char bells[256];
  for (;;) {
    ssize_t n = ::recv(fd, bells, sizeof bells, MSG_DONTWAIT);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN;
  }
}

Result<PeerCredentials> peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return last_errno();
  return PeerCredentials{static_cast<std::uint32_t>(cred.pid), cred.uid, cred.gid};
}

Result<std::vector<std::uint32_t>> peer_groups(int fd) {
  // The kernel says how much room it needs (ERANGE) when the first guess is short.
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      return std::vector<std::uint32_t>(groups.begin(), groups.end());
    }
    if (errno != ERANGE) return last_errno();
    groups.resize(len / sizeof(gid_t) + 1);
  }
  return errc::kNotEnoughMemory;
}

}  // namespace sluice::os
