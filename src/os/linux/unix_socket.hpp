// AF_UNIX stream sockets: listeners bound in a directory, connections that carry descriptors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "os/linux/unique_fd.hpp"
#include "sluice/result.hpp"

namespace sluice::os {

/// Binds a non-blocking listening socket at `name` inside the directory `dir_fd` with file mode
/// `mode`. Binding goes through /proc/self/fd/N/name, so long directory paths never hit
/// sun_path's 108 bytes.
Result<UniqueFd> listen_at(int dir_fd, const std::string& name, unsigned mode);

/// Connects without blocking to the listener `name` in `dir_fd` (a blocking connect to a full
/// listener would sleep). Errors: kFileNotFound (no such socket), kPipeBusy (refused: nobody
/// listens any more, or its backlog is full).
Result<UniqueFd> connect_at(int dir_fd, const std::string& name);

/// A non-blocking listener in the abstract socket namespace (no file; it vanishes with the
/// process). Anyone may connect: check peer_credentials().
Result<UniqueFd> listen_abstract(const std::string& name);
/// Connects without blocking to an abstract listener. Errors: kFileNotFound (nobody listens),
/// kPipeBusy (its backlog is full).
Result<UniqueFd> connect_abstract(const std::string& name);

/// Most descriptors one message carries.
inline constexpr int kMaxPassedFds = 8;

/// Accepts one pending connection (non-blocking, close-on-exec). kNoData when none is pending,
/// kTooManyOpenFiles when the process is out of descriptors.
Result<UniqueFd> accept_from(int listen_fd);

/// Out of descriptors, a pending connection keeps a level-triggered listener readable forever.
/// This refuses one: it frees `reserve` (a spare descriptor kept for this), accepts into it and
/// closes the connection at once (the client sees a hang-up), then takes the spare back.
void refuse_one_connection(int listen_fd, UniqueFd& reserve) noexcept;

/// A spare descriptor for refuse_one_connection.
UniqueFd open_reserve_descriptor() noexcept;

/// Sends one datagram-like message (bytes plus up to kMaxPassedFds descriptors) without raising
/// SIGPIPE.
Result<void> send_message(int fd, const void* data, std::size_t size, const int* fds = nullptr,
                          int fd_count = 0);

/// Receives one message sent by send_message. Descriptors beyond `max_fds` are closed. Returns
/// the byte count (0 = the peer hung up). kNoData when nothing is there (non-blocking socket).
Result<std::size_t> receive_message(int fd, void* data, std::size_t size, UniqueFd* fds,
                                    int max_fds, int* fd_count);

/// Waits until `fd` is readable or hung up. false on time-out.
bool socket_wait_readable(int fd, std::chrono::milliseconds timeout);

/// Sends one byte without blocking: a doorbell for a peer whose agent waits on the socket. A
/// full socket buffer already holds unread doorbells, so a refused byte is not lost news.
void ring_doorbell(int fd) noexcept;

/// Reads the pending doorbell bytes (one recv: for a level-triggered watcher, which hears of any
/// later byte or a hang-up again). Returns false if the peer hung up.
bool drain_doorbell(int fd) noexcept;

/// Shuts a connected socket down in both directions (the peer sees a hang-up).
void shutdown_socket(int fd) noexcept;

/// Credentials of the peer captured when the connection was made.
struct PeerCredentials {
  std::uint32_t pid = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};
Result<PeerCredentials> peer_credentials(int fd);
/// The peer's supplementary groups captured when the connection was made (SO_PEERGROUPS).
Result<std::vector<std::uint32_t>> peer_groups(int fd);

}  // namespace sluice::os
