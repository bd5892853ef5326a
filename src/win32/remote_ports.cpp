#include "win32/remote_ports.hpp"

#include <cstdlib>
#include <vector>

#include "core/pipe_end_core.hpp"
#include "objects/remote_operations.hpp"
#include "sluice/process.hpp"
#include "win32/ntstatus.hpp"

namespace sluice::win32 {
namespace {

// The OVERLAPPED is the issuer's address, passed on as a value, as Windows does.
objects::RemotePacket remote_packet(RemotePort port, const Packet& packet) {
  return {port.port_id, packet.key, reinterpret_cast<std::uintptr_t>(packet.overlapped),
          packet.status, packet.bytes};
}

}  // namespace

std::uint64_t announce_remote_operation(RemotePort port, ULONG_PTR key, LPOVERLAPPED ov) {
  return objects::announce_remote_operation(port.pid, port.port_id, key,
                                            reinterpret_cast<std::uintptr_t>(ov));
}

void post_to_remote_port(RemotePort port, const Packet& packet, std::uint64_t token) {
  objects::post_remote_packet(port.pid, remote_packet(port, packet), token);
}

void retire_remote_operation(RemotePort port, std::uint64_t token) {
  objects::retire_remote_operation(port.pid, token);
}

void install_remote_packet_sink() {
  objects::set_remote_packet_sink([](const objects::RemotePacket& p, bool abandoned) {
    // An operation whose issuer ended first completes aborted, as the issuer's exit would have
    // cancelled it (CancelIo's status).
    DWORD status = abandoned ? status_of_error(ERROR_OPERATION_ABORTED) : p.status;
    (void)post_to_local_port(
        p.port_id, Packet{static_cast<ULONG_PTR>(p.key), reinterpret_cast<LPOVERLAPPED>(p.context),
                          status, p.bytes});
  });
}

// ---- ends associated with another process's port, and this process's exit -----------------------

namespace {

// Ends associated with another process's port, whose pending operations the exit of this
// process cancels (and so reports to that port).
std::vector<std::weak_ptr<AsyncState>>& remotely_associated() {  // guarded by io_mutex()
  static auto* ends = new std::vector<std::weak_ptr<AsyncState>>;
  return *ends;
}

// atexit: cancelling them does what Windows does when a process exits: a pending write's
// unread data leaves the pipe, and the packets go out before the process is gone. A killed
// process cannot do this; its port's process then reports its announced operations aborted
// (remote_ports.hpp), but a pending write's data stays in the pipe (TODO(compat)).
void cancel_remotely_associated_io() {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<core::PipeEndCore>>> pending;
  {
    std::lock_guard lock(io_mutex());
    for (auto& weak : remotely_associated()) {
      auto state = weak.lock();
      if (!state) continue;
      for (auto& op : state->pending) {
        if (op->done || op->id == 0) continue;
        if (auto core = op->core.lock()) pending.emplace_back(op->id, std::move(core));
      }
    }
  }
  for (auto& [id, core] : pending) (void)core->cancel(id);
}

}  // namespace

void adopt_association(const std::shared_ptr<AsyncState>& state, std::uint32_t pid,
                       std::uint64_t port_id, ULONG_PTR key) {
  if (pid != current_process_id()) {
    static const bool exit_cancels = std::atexit(cancel_remotely_associated_io) == 0;
    (void)exit_cancels;
  }
  std::lock_guard lock(io_mutex());
  state->key = key;
  if (pid == current_process_id()) {  // back home: the port itself, if it is still open
    state->port = open_port_locked(port_id);
    return;
  }
  state->remote_port = RemotePort{pid, port_id};
  auto& ends = remotely_associated();
  std::erase_if(ends, [](const std::weak_ptr<AsyncState>& w) { return w.expired(); });
  ends.push_back(state);
}

}  // namespace sluice::win32
