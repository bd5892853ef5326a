// sluice-bench — the kernel baselines: pipe(2), AF_UNIX SOCK_STREAM, AF_UNIX SOCK_SEQPACKET.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "transport.hpp"
#include "unique_fd.hpp"

namespace sluice::bench {

namespace {

/// A byte stream over a read and a write descriptor (two pipes, or a socket and its dup), or
/// over one socket.
class StreamChannel final : public Channel {
 public:
  StreamChannel(UniqueFd read_fd, UniqueFd write_fd)
      : read_fd_(std::move(read_fd)), write_fd_(std::move(write_fd)) {}
  explicit StreamChannel(UniqueFd socket) : read_fd_(std::move(socket)) {}

  void send(std::span<const std::byte> data) override {
    const int fd = write_fd_.get() >= 0 ? write_fd_.get() : read_fd_.get();
    while (!data.empty()) {
      const ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("write");
      }
      data = data.subspan(static_cast<std::size_t>(n));
    }
  }

  void receive(std::span<std::byte> buffer) override {
    while (!buffer.empty()) {
      const ssize_t n = ::read(read_fd_.get(), buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("read");
      }
      if (n == 0) throw BenchError("read: end of stream in the middle of a message");
      buffer = buffer.subspan(static_cast<std::size_t>(n));
    }
  }

  void wait_for_close() override {
    for (;;) {
      std::byte byte;
      const ssize_t n = ::read(read_fd_.get(), &byte, 1);
      if (n == 0) return;
      if (n > 0) throw BenchError("read: data where the peer's close was expected");
      if (errno != EINTR) throw_errno("read");
    }
  }

 private:
  UniqueFd read_fd_;
  UniqueFd write_fd_;
};

/// One message per send/recv on a SOCK_SEQPACKET socket.
class PacketChannel final : public Channel {
 public:
  explicit PacketChannel(UniqueFd fd) : fd_(std::move(fd)) {}

  void send(std::span<const std::byte> data) override {
    for (;;) {
      const ssize_t n = ::send(fd_.get(), data.data(), data.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("send(SOCK_SEQPACKET)");
      }
      if (static_cast<std::size_t>(n) != data.size()) throw BenchError("send: short packet");
      return;
    }
  }

  void receive(std::span<std::byte> buffer) override {
    for (;;) {
      iovec iov{buffer.data(), buffer.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      const ssize_t n = ::recvmsg(fd_.get(), &msg, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("recvmsg(SOCK_SEQPACKET)");
      }
      if (n == 0 && !buffer.empty()) throw BenchError("recvmsg: peer closed");
      if ((msg.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) != buffer.size()) {
        throw BenchError("recvmsg: packet of " + std::to_string(n) + " bytes, expected " +
                         std::to_string(buffer.size()));
      }
      return;
    }
  }

 private:
  UniqueFd fd_;
};

/// pipe(2) with the default capacity (64 KiB on Linux): one pipe per direction.
class PipeTransport final : public Transport {
 public:
  std::string_view name() const override { return "pipe"; }

  void prepare(const TransportConfig&) override {
    int to_follower[2];
    int to_leader[2];
    if (::pipe2(to_follower, O_CLOEXEC) != 0) throw_errno("pipe2");
    if (::pipe2(to_leader, O_CLOEXEC) != 0) throw_errno("pipe2");
    to_follower_read_.reset(to_follower[0]);
    to_follower_write_.reset(to_follower[1]);
    to_leader_read_.reset(to_leader[0]);
    to_leader_write_.reset(to_leader[1]);
  }

  std::unique_ptr<Channel> open_leader(const std::function<void()>& follower_may_connect) override {
    to_follower_read_.reset();
    to_leader_write_.reset();
    follower_may_connect();
    return std::make_unique<StreamChannel>(std::move(to_leader_read_),
                                           std::move(to_follower_write_));
  }

  std::unique_ptr<Channel> open_follower() override {
    to_follower_write_.reset();
    to_leader_read_.reset();
    return std::make_unique<StreamChannel>(std::move(to_follower_read_),
                                           std::move(to_leader_write_));
  }

 private:
  UniqueFd to_follower_read_, to_follower_write_, to_leader_read_, to_leader_write_;
};

/// AF_UNIX SOCK_STREAM server: a listening socket bound to a path in the row's scratch
/// directory; accept() is accept4(2).
class UnixListener final : public Listener {
 public:
  explicit UnixListener(UniqueFd fd) : fd_(std::move(fd)) {}

  std::unique_ptr<Channel> accept() override {
    for (;;) {
      const int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) return std::make_unique<StreamChannel>(UniqueFd(fd));
      if (errno != EINTR) throw_errno("accept4");
    }
  }

 private:
  UniqueFd fd_;
};

/// socketpair(AF_UNIX, type): SOCK_STREAM with default buffers; SOCK_SEQPACKET with a send
/// buffer raised when the largest message would not fit (EMSGSIZE otherwise). SOCK_STREAM also
/// has connect rows: bind/listen/accept in the leader, connect in the follower.
class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(int type) : type_(type) {}

  std::string_view name() const override {
    return type_ == SOCK_STREAM ? "unix-stream" : "unix-seqpacket";
  }

  void prepare(const TransportConfig& config) override {
    address_ = sockaddr_un{};
    address_.sun_family = AF_UNIX;
    const std::string path = config.scratch_dir + "/connect.sock";
    if (path.size() >= sizeof address_.sun_path) throw BenchError("socket path too long: " + path);
    std::memcpy(address_.sun_path, path.c_str(), path.size() + 1);
    int fds[2];
    if (::socketpair(AF_UNIX, type_ | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
    leader_.reset(fds[0]);
    follower_.reset(fds[1]);
    if (type_ == SOCK_SEQPACKET) {
      // A datagram must fit the sender's sk_sndbuf whole (unix_dgram_sendmsg), so the default
      // (wmem_default, ~208 KiB) refuses 1 MiB packets. The kernel doubles the value we set and
      // caps it at wmem_max; as root SO_SNDBUFFORCE ignores the cap.
      const std::size_t want = config.max_message_bytes + 64 * 1024;
      if (want > 200 * 1024) {
        for (int fd : {leader_.get(), follower_.get()}) {
          const int value = static_cast<int>(want);
          if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &value, sizeof value) != 0 &&
              ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof value) != 0) {
            throw_errno("setsockopt(SO_SNDBUF)");
          }
        }
      }
    }
  }

  std::unique_ptr<Channel> open_leader(const std::function<void()>& follower_may_connect) override {
    follower_.reset();
    follower_may_connect();
    return make_channel(std::move(leader_));
  }

  std::unique_ptr<Channel> open_follower() override {
    leader_.reset();
    return make_channel(std::move(follower_));
  }

  bool supports_connect() const override { return type_ == SOCK_STREAM; }

  std::unique_ptr<Listener> listen(const TransportConfig&,
                                   const std::function<void()>& follower_may_connect) override {
    leader_.reset();
    follower_.reset();
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw_errno("socket");
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0) {
      throw_errno("bind");
    }
    if (::listen(fd.get(), SOMAXCONN) != 0) throw_errno("listen");
    follower_may_connect();
    return std::make_unique<UnixListener>(std::move(fd));
  }

  std::unique_ptr<Channel> dial() override {
    leader_.reset();
    follower_.reset();
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw_errno("socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0) {
      throw_errno("connect");
    }
    return std::make_unique<StreamChannel>(std::move(fd));
  }

 private:
  std::unique_ptr<Channel> make_channel(UniqueFd fd) const {
    if (type_ == SOCK_SEQPACKET) return std::make_unique<PacketChannel>(std::move(fd));
    UniqueFd write_fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
    if (write_fd.get() < 0) throw_errno("fcntl(F_DUPFD_CLOEXEC)");
    return std::make_unique<StreamChannel>(std::move(fd), std::move(write_fd));
  }

  int type_;
  UniqueFd leader_, follower_;
  sockaddr_un address_{};  // connect rows: <scratch>/connect.sock
};

}  // namespace

std::unique_ptr<Transport> make_pipe_transport() { return std::make_unique<PipeTransport>(); }
std::unique_ptr<Transport> make_unix_stream_transport() {
  return std::make_unique<SocketTransport>(SOCK_STREAM);
}
std::unique_ptr<Transport> make_unix_seqpacket_transport() {
  return std::make_unique<SocketTransport>(SOCK_SEQPACKET);
}

}  // namespace sluice::bench
