// The opening handshake, one round trip on a fresh AF_UNIX connection:
//
//   client → server  Hello  + the client's segment (its ring, sized for the instance's inbound
//                             quota, which the listener's file name carries)
//   server → client  Reply  + the server's segment when status is 0
//
// The server's agent answers at once, whether or not the server called ConnectNamedPipe yet.
// Identity comes from SO_PEERCRED on the socket, never from these bytes.
#pragma once

#include <cstdint>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"
#include "sluice/security.hpp"

namespace sluice::transport {

inline constexpr std::uint32_t kHelloMagic = 0x53484C4F;  // "SHLO"
inline constexpr std::uint32_t kReplyMagic = 0x53524550;  // "SREP"
// Version 2 added Hello::flags. A server refuses a Hello of another version (kBadPipe), so
// processes of one sluice version talk only to each other.
inline constexpr std::uint32_t kProtocolVersion = 2;

/// Hello::flags: the client named the pipe through a server name that is this computer
/// (`\\myhost\pipe\x`, registry::PipeName::via_network), which Windows routes through the
/// network redirector: the server treats the client as remote (PIPE_REJECT_REMOTE_CLIENTS
/// refuses it, GetNamedPipeClientComputerName names it). The server takes the client's word for
/// it, and may: a client can always call itself local by naming the pipe with `.`, so saying
/// "remote" only takes rights away from the client that says it.
inline constexpr std::uint32_t kHelloViaNetwork = 1u;

struct Hello {
  std::uint32_t magic = kHelloMagic;
  std::uint32_t version = kProtocolVersion;
  std::uint32_t desired_access = 0;  ///< access rights the client asks for
  std::uint32_t qos = 0;             ///< encode_qos(): what the server may do with its identity
  std::uint32_t flags = 0;           ///< kHelloViaNetwork; other bits are zero (kBadPipe if not)
};

/// The SQOS bits of a Hello: the level in bits 0-1, dynamic tracking bit 8, effective-only bit 9.
std::uint32_t encode_qos(const SecurityQos& qos) noexcept;
SecurityQos decode_qos(std::uint32_t bits) noexcept;

struct Reply {
  std::uint32_t magic = kReplyMagic;
  std::uint32_t status = 0;  ///< 0, or a sluice errc value (kPipeBusy, kAccessDenied)
  std::uint32_t access = 0;  ///< pipe-wide PIPE_ACCESS_* value
  std::uint32_t type = 0;    ///< pipe-wide PIPE_TYPE_* value
  std::uint32_t out_quota = 0;
  std::uint32_t in_quota = 0;
  std::uint32_t max_instances = 0;
  std::uint32_t default_timeout_ms = 0;
};

/// Sends a Hello with the client's segment.
Result<void> send_hello(int socket, const Hello& hello, int segment_fd);
/// Receives a Hello; kBadPipe for anything malformed.
Result<Hello> receive_hello(int socket, os::UniqueFd* segment);
/// Sends a Reply (with the server's segment when status is 0).
Result<void> send_reply(int socket, const Reply& reply, int segment_fd);
/// Receives a Reply; kBadPipe for anything malformed, kPipeBusy if the server hung up.
Result<Reply> receive_reply(int socket, os::UniqueFd* segment);

}  // namespace sluice::transport
