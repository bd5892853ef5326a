// sluice-bench — the comparison echo server: epoll over AF_UNIX SOCK_SEQPACKET, one thread.
//
// Written the way a careful Linux server would be: non-blocking accept4 and sockets,
// level-triggered epoll, one recv per readiness (a request/reply client has at most one request
// in flight, so a second recv would only return EAGAIN), the reply sent straight back. Message
// boundaries come from SOCK_SEQPACKET, as they do from a message-mode pipe in echo-iocp.
// Socket buffers stay at the kernel defaults (they live in the kernel, not in any RSS).
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "echo.hpp"
#include "unique_fd.hpp"

namespace sluice::bench {
namespace {

sockaddr_un socket_address(const EchoConfig& config) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = config.scratch_dir + "/echo.sock";
  if (path.size() >= sizeof address.sun_path) throw BenchError("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

class EpollUnixEchoServer final : public EchoServer {
 public:
  explicit EpollUnixEchoServer(const EchoConfig& config) : config_(config) {}

  void serve(const std::function<void()>& ready) override {
    const sockaddr_un address = socket_address(config_);
    UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (listener.get() < 0) throw_errno("socket");
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw_errno("bind");
    }
    // The kernel caps the backlog at net.core.somaxconn; clients retry (blocking connect waits).
    if (::listen(listener.get(), static_cast<int>(config_.connections) + 16) != 0) {
      throw_errno("listen");
    }
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll.get() < 0) throw_errno("epoll_create1");
    add(epoll.get(), listener.get());
    ready();

    std::vector<epoll_event> events(256);
    std::vector<std::byte> buffer(config_.message_bytes + 1);  // +1: an oversized one shows
    for (;;) {
      const int count =
          ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), -1);
      if (count < 0) {
        if (errno == EINTR) continue;
        throw_errno("epoll_wait");
      }
      for (int i = 0; i < count; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listener.get()) {
          accept_all(epoll.get(), listener.get());
          continue;
        }
        const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (got < 0 && errno == EAGAIN) continue;
        if (got <= 0) {  // 0: the client closed; ECONNRESET likewise
          if (got < 0 && errno != ECONNRESET) throw_errno("recv");
          ::close(fd);  // also removes it from the epoll set
          continue;
        }
        if (static_cast<std::size_t>(got) != config_.message_bytes) {
          throw BenchError("request of " + std::to_string(got) + " bytes");
        }
        // One reply per request and at most one request in flight: the buffer cannot be full.
        if (::send(fd, buffer.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL) != got) {
          if (errno == EPIPE || errno == ECONNRESET) {
            ::close(fd);
            continue;
          }
          throw_errno("send");
        }
      }
    }
  }

 private:
  static void add(int epoll, int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl");
  }

  static void accept_all(int epoll, int listener) {
    for (;;) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
        throw_errno("accept4");
      }
      add(epoll, fd);
    }
  }

  EchoConfig config_;
};

class UnixEchoConnection final : public EchoConnection {
 public:
  explicit UnixEchoConnection(UniqueFd fd) : fd_(std::move(fd)) {}

  void round_trip(std::span<const std::byte> request, std::span<std::byte> reply) override {
    if (::send(fd_.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      throw_errno("send");
    }
    // MSG_TRUNC: the real length of a longer reply, so it is caught rather than cut.
    const ssize_t got = ::recv(fd_.get(), reply.data(), reply.size(), MSG_TRUNC);
    if (got < 0) throw_errno("recv");
    if (static_cast<std::size_t>(got) != reply.size()) {
      throw BenchError("reply of " + std::to_string(got) + " bytes, expected " +
                       std::to_string(reply.size()));
    }
  }

 private:
  UniqueFd fd_;
};

class UnixEchoClient final : public EchoClient {
 public:
  explicit UnixEchoClient(const EchoConfig& config) : address_(socket_address(config)) {}

  std::unique_ptr<EchoConnection> connect() override {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw_errno("socket");
    // A blocking connect waits while the backlog is full (EAGAIN only for non-blocking ones).
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) !=
           0) {
      if (errno != EINTR) throw_errno("connect");
    }
    return std::make_unique<UnixEchoConnection>(std::move(fd));
  }

 private:
  sockaddr_un address_;
};

}  // namespace

std::unique_ptr<EchoServer> make_epoll_unix_echo_server(const EchoConfig& config) {
  return std::make_unique<EpollUnixEchoServer>(config);
}

std::unique_ptr<EchoClient> make_epoll_unix_echo_client(const EchoConfig& config) {
  return std::make_unique<UnixEchoClient>(config);
}

}  // namespace sluice::bench
