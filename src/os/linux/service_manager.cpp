#include "os/linux/service_manager.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "os/linux/errno_map.hpp"
#include "os/linux/unique_fd.hpp"

namespace sluice::os {
namespace {

// The self-pipe: the handler writes a byte (write is async-signal-safe), the waiter polls the
// read end. Both ends are non-blocking, so a full pipe loses nothing that matters: one byte
// already says "stop".
int g_stop_pipe[2] = {-1, -1};

void on_stop_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] ssize_t n = ::write(g_stop_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

Result<void> catch_stop_requests() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (g_stop_pipe[0] >= 0) return {};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return from_errno(errno);
  g_stop_pipe[0] = fds[0];
  g_stop_pipe[1] = fds[1];
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(SIGTERM, &action, nullptr) != 0) return from_errno(errno);
  return {};
}

bool wait_stop_request(std::chrono::milliseconds timeout) {
  if (g_stop_pipe[0] < 0) return false;
  pollfd p{g_stop_pipe[0], POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n <= 0) return false;
  char bytes[64];
  bool got = false;
  while (::read(g_stop_pipe[0], bytes, sizeof bytes) > 0) got = true;
  return got;
}

Result<void> notify_service_manager(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return {};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::size_t length = std::strlen(path);
  if (length >= sizeof address.sun_path) return errc::kInvalidParameter;
  std::memcpy(address.sun_path, path, length);
  if (path[0] == '@') address.sun_path[0] = '\0';  // an abstract socket's name
  UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket) return from_errno(errno);
  auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  ssize_t sent;
  do {
    sent = ::sendto(socket.get(), state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), size);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return from_errno(errno);
  return {};
}

}  // namespace sluice::os
