#include "transport/handshake.hpp"

#include "os/linux/unix_socket.hpp"

namespace sluice::transport {

std::uint32_t encode_qos(const SecurityQos& qos) noexcept {
  return static_cast<std::uint32_t>(qos.level) | (qos.dynamic_tracking ? 0x100u : 0u) |
         (qos.effective_only ? 0x200u : 0u);
}

SecurityQos decode_qos(std::uint32_t bits) noexcept {
  SecurityQos qos;
  qos.level = static_cast<ImpersonationLevel>(bits & 3u);
  qos.dynamic_tracking = (bits & 0x100u) != 0;
  qos.effective_only = (bits & 0x200u) != 0;
  return qos;
}

Result<void> send_hello(int socket, const Hello& hello, int segment_fd) {
  return os::send_message(socket, &hello, sizeof hello, &segment_fd, 1);
}

Result<Hello> receive_hello(int socket, os::UniqueFd* segment) {
  Hello hello;
  int fds = 0;
  auto n = os::receive_message(socket, &hello, sizeof hello, segment, 1, &fds);
  if (!n) return n.error();
  if (*n != sizeof hello || fds != 1 || hello.magic != kHelloMagic ||
      hello.version != kProtocolVersion || (hello.flags & ~kHelloViaNetwork) != 0)
    return errc::kBadPipe;
  return hello;
}

Result<void> send_reply(int socket, const Reply& reply, int segment_fd) {
  return os::send_message(socket, &reply, sizeof reply, reply.status == 0 ? &segment_fd : nullptr,
                          reply.status == 0 ? 1 : 0);
}

Result<Reply> receive_reply(int socket, os::UniqueFd* segment) {
  Reply reply;
  int fds = 0;
  auto n = os::receive_message(socket, &reply, sizeof reply, segment, 1, &fds);
  if (!n) return n.error();
  if (*n == 0) return errc::kPipeBusy;
  if (*n != sizeof reply || reply.magic != kReplyMagic) return errc::kBadPipe;
  if (reply.status == 0 && fds != 1) return errc::kBadPipe;
  return reply;
}

}  // namespace sluice::transport
