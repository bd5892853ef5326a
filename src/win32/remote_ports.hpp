// Completion packets that cross processes (what Windows does; its documentation is silent): an end
// associated with a completion port keeps that association when its handle reaches another process,
// so what that process issues on it completes to the port, and when that process ends (exit or
// kill) its pending operations still complete there, aborted.
//
// The issuing process talks to the port's process through its handle inbox (handle_transfer):
// "pend" announces an operation before it starts, and exactly one "pkt" (queue a packet) or
// "drop" (no packet: failed at once, or skipped) ends it. The inbox keeps the announced ones
// per issuer and watches the issuer's exit; once it has read every message the issuer sent, it
// queues an aborted packet for each operation still announced. One connection per message, so
// these cost two connections per operation: fine for the case they serve (a child issuing I/O
// on its parent's port), not for a hot path.
#pragma once

#include <windows.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "os/linux/poller.hpp"
#include "os/linux/unique_fd.hpp"
#include "win32/async.hpp"

namespace sluice::win32 {

// ---- the issuing process ----

/// Announces an operation about to start on an end associated with `port`; returns its token,
/// or 0 when the port's process could not be told (its packet may then still come, unannounced).
std::uint64_t announce_remote_operation(RemotePort port, ULONG_PTR key, LPOVERLAPPED ov);
/// The operation `token` (0: unannounced) completed: queues `packet` on `port`.
void post_to_remote_port(RemotePort port, const Packet& packet, std::uint64_t token);
/// The announced operation `token` ended without a packet.
void retire_remote_operation(RemotePort port, std::uint64_t token);
/// Takes over an end's association with a port of process `pid` as it arrives here; if that is
/// this process, with the port itself. Registers the end for process exit (its pending
/// operations are cancelled, their packets still delivered, as on Windows).
void adopt_association(const std::shared_ptr<AsyncState>& state, std::uint32_t pid,
                       std::uint64_t port_id, ULONG_PTR key);

// ---- the port's process (its inbox thread) ----

/// What the inbox knows of other processes' announced operations. Not thread-safe: the inbox
/// thread's own.
class RemoteOperations {
 public:
  /// Handles `message` from process `sender` if it is a packet message (watching the sender's
  /// exit through `poller`, with the sender's pid as key, from its first announcement); false
  /// when it is not one.
  bool serve(std::uint32_t sender, const std::string& message, os::Poller& poller);
  /// Process `pid` has exited and the inbox has read what it sent: its operations that never
  /// completed complete now, aborted.
  void process_exited(std::uint32_t pid, os::Poller& poller);
  /// The inbox has read its queue: the operations of issuers that had exited before their first
  /// announcement was read (so they could not be watched) complete now, aborted.
  void settle_gone_issuers();

 private:
  struct Announced {
    std::uint64_t port_id;
    Packet aborted;  // what its port gets if the issuer ends first
  };
  struct Issuer {
    os::UniqueFd exit_watch;
    std::unordered_map<std::uint64_t, Announced> pending;  // by token
  };
  std::unordered_map<std::uint32_t, Issuer> issuers_;
};

}  // namespace sluice::win32
