// Completion packets that cross processes: the Win32 side of objects/remote_operations.hpp, which
// keeps the bookkeeping (announced operations per issuer, the issuer's exit, what it left) and
// carries the messages through the inbox. This layer gives the packets their meaning (key,
// OVERLAPPED address, NTSTATUS), queues those that arrive on its ports, and keeps an end's
// association with another process's port as the end travels.
#pragma once

#include <windows.h>

#include <cstdint>
#include <memory>

#include "objects/remote_operations.hpp"
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

// ---- the port's process ----

/// Makes packets other processes send (and those of operations they abandoned) go to this
/// process's ports (post_to_local_port). Called once at initialisation, before the inbox starts.
void install_remote_packet_sink();

/// What the inbox knows of other processes' announced operations (the objects layer's).
using RemoteOperations = objects::RemoteOperations;

}  // namespace sluice::win32
