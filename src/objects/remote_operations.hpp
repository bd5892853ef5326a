// Operations that complete to a completion port of another process (docs/architecture.md,
// "Handle transfer"). An end associated with a port keeps that association when it reaches
// another process (what Windows does; its documentation is silent), so what that process issues
// on it completes to the port, and when that process ends (exit or kill) its pending operations
// still complete there, aborted.
//
// The issuing process talks to the port's process through its inbox (inbox.hpp), messages of
// kind "op": "pend" announces an operation before it starts, and exactly one "pkt" (queue a
// packet) or "drop" (no packet: failed at once, or skipped) ends it. The port's inbox keeps the
// announced ones per issuer and watches the issuer's exit; once it has read every message the
// issuer sent, it delivers each operation still announced as abandoned. One connection per message,
// so these cost two connections per operation: fine for the case they serve (a child issuing I/O on
// its parent's port), not for a hot path.
//
// Packets are opaque here: the Win32 layer (remote_ports.hpp) gives them meaning (key,
// OVERLAPPED address, NTSTATUS) and delivers them (set_remote_packet_sink()).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "os/linux/poller.hpp"
#include "os/linux/unique_fd.hpp"

namespace sluice::objects {

/// One completion packet for port `port_id` of the receiving process.
struct RemotePacket {
  std::uint64_t port_id = 0;
  std::uint64_t key = 0;
  std::uint64_t context = 0;  // the issuer's OVERLAPPED address, passed on as a value
  std::uint32_t status = 0;
  std::uint32_t bytes = 0;
};

// ---- the issuing process ----

/// Announces to process `pid` an operation about to start on port `port_id` with `key` and
/// `context` (what its port gets, abandoned, if this process ends before the operation does).
/// Returns the operation's token, or 0 when that process could not be told (its packet may then
/// still come, unannounced).
std::uint64_t announce_remote_operation(std::uint32_t pid, std::uint64_t port_id, std::uint64_t key,
                                        std::uint64_t context);
/// The operation `token` (0: unannounced) completed: queues `packet` at process `pid`.
void post_remote_packet(std::uint32_t pid, const RemotePacket& packet, std::uint64_t token);
/// The announced operation `token` ended without a packet.
void retire_remote_operation(std::uint32_t pid, std::uint64_t token);

// ---- the port's process (its inbox thread) ----

/// Where packets go: those that arrive, and (`abandoned` true, status and bytes 0) one for each
/// operation its issuer left behind. The Win32 layer queues them on its port, an abandoned one
/// as aborted. Without a sink they are dropped. Any thread; the sink runs on the inbox thread.
using RemotePacketSink = std::function<void(const RemotePacket& packet, bool abandoned)>;
void set_remote_packet_sink(RemotePacketSink sink);

/// What the inbox knows of other processes' announced operations. Not thread-safe: the inbox
/// thread's own.
class RemoteOperations {
 public:
  /// Handles the "op" message `body` from process `sender`, watching the sender's exit through
  /// `poller` (the sender's pid as key) from its first announcement. False when `body` is no
  /// such message ("pend|", "pkt|" or "drop|" first); one that does not parse is taken and
  /// ignored.
  bool serve(std::uint32_t sender, std::string_view body, os::Poller& poller);
  /// Process `pid` has exited and the inbox has read what it sent: its operations that never
  /// completed complete now, aborted.
  void process_exited(std::uint32_t pid, os::Poller& poller);
  /// The inbox has read its queue: the operations of issuers that had exited before their first
  /// announcement was read (so they could not be watched) complete now, aborted.
  void settle_gone_issuers();

 private:
  struct Issuer {
    os::UniqueFd exit_watch;
    std::unordered_map<std::uint64_t, RemotePacket> pending;  // by token
  };
  std::unordered_map<std::uint32_t, Issuer> issuers_;
};

}  // namespace sluice::objects
